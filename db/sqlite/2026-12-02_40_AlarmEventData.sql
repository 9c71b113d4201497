-- Timeline events as kinds and data, worded in the reader's language when shown (the text column held English
-- identifiers such as 'DeviceApi' and 'RealEmergency: note', and Chinese centre names).
--   Code: Raised and SignalJoined: the source (0 SIP, 1 device API, 2 portal test); Closed: the disposition
--         (0 real emergency, 1 false alarm, 2 test, 3 malfunction); Camera: the action (0 PTZ move, Text the
--         direction; 1 PTZ preset, Text its name; 2 warning light on; 3 warning light off).
--   CentreId: Transferred and Escalated: the centre that holds the alarm afterwards.
--   Text: only what a person typed (note, dispatch, the note of a transfer or close) or a camera preset's name.
ALTER TABLE AlarmEvent ADD COLUMN Code INTEGER NULL;
ALTER TABLE AlarmEvent ADD COLUMN CentreId INTEGER NULL CONSTRAINT FK_AlarmEvent_PoliceCentre REFERENCES PoliceCentre (Id);

-- Events written before this script.
UPDATE AlarmEvent SET Code = CASE Text WHEN 'Sip' THEN 0 WHEN 'DeviceApi' THEN 1 ELSE 2 END, Text = NULL
WHERE Kind IN (0, 1) AND Code IS NULL AND Text IN ('Sip', 'DeviceApi', 'PortalTest');

UPDATE AlarmEvent
SET Code = CASE WHEN Text LIKE 'RealEmergency%' THEN 0 WHEN Text LIKE 'FalseAlarm%' THEN 1 WHEN Text LIKE 'Test%' THEN 2 ELSE 3 END,
    Text = NULLIF(TRIM(SUBSTR(Text, INSTR(Text || ':', ':') + 1)), '')
WHERE Kind = 7 AND Code IS NULL
  AND (Text LIKE 'RealEmergency%' OR Text LIKE 'FalseAlarm%' OR Text LIKE 'Test%' OR Text LIKE 'Malfunction%');

UPDATE AlarmEvent
SET CentreId = (SELECT c.Id FROM PoliceCentre c WHERE AlarmEvent.Text = '→ ' || c.Name OR AlarmEvent.Text LIKE '→ ' || c.Name || ' %')
WHERE Kind = 6 AND CentreId IS NULL;
UPDATE AlarmEvent
SET Text = NULLIF(TRIM(SUBSTR(Text, LENGTH('→ ' || (SELECT c.Name FROM PoliceCentre c WHERE c.Id = AlarmEvent.CentreId)) + 1)), '')
WHERE Kind = 6 AND CentreId IS NOT NULL AND Text LIKE '→ %';

UPDATE AlarmEvent SET CentreId = (SELECT c.Id FROM PoliceCentre c WHERE c.DistrictId IS NULL) WHERE Kind = 2 AND CentreId IS NULL;

UPDATE AlarmEvent
SET Code = CASE WHEN Text = 'Warning light/siren on' THEN 2 WHEN Text = 'Warning light/siren off' THEN 3 WHEN Text LIKE 'PTZ preset %' THEN 1 ELSE 0 END,
    Text = CASE WHEN Text LIKE 'PTZ preset %' THEN SUBSTR(Text, 12) WHEN Text LIKE 'PTZ %' THEN SUBSTR(Text, 5) ELSE NULL END
WHERE Kind = 8 AND Code IS NULL AND (Text LIKE 'PTZ %' OR Text LIKE 'Warning light/siren %');
