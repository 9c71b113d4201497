-- Timeline events as kinds and data, worded in the reader's language when shown (the text column held English
-- identifiers such as 'DeviceApi' and 'RealEmergency: note', and Chinese centre names).
--   Code: Raised and SignalJoined: the source (0 SIP, 1 device API, 2 portal test); Closed: the disposition
--         (0 real emergency, 1 false alarm, 2 test, 3 malfunction); Camera: the action (0 PTZ move, Text the
--         direction; 1 PTZ preset, Text its name; 2 warning light on; 3 warning light off).
--   CentreId: Transferred and Escalated: the centre that holds the alarm afterwards.
--   Text: only what a person typed (note, dispatch, the note of a transfer or close) or a camera preset's name.
IF COL_LENGTH(N'dbo.AlarmEvent', N'Code') IS NULL
ALTER TABLE dbo.AlarmEvent ADD Code INT NULL;
GO
IF COL_LENGTH(N'dbo.AlarmEvent', N'CentreId') IS NULL
ALTER TABLE dbo.AlarmEvent ADD CentreId INT NULL CONSTRAINT FK_AlarmEvent_PoliceCentre REFERENCES dbo.PoliceCentre (Id);
GO

-- Events written before this script (each update matches only the old form, so a second run changes nothing).
UPDATE dbo.AlarmEvent SET Code = CASE Text WHEN N'Sip' THEN 0 WHEN N'DeviceApi' THEN 1 ELSE 2 END, Text = NULL
WHERE Kind IN (0, 1) AND Code IS NULL AND Text IN (N'Sip', N'DeviceApi', N'PortalTest');
GO

UPDATE dbo.AlarmEvent
SET Code = CASE WHEN Text LIKE N'RealEmergency%' THEN 0 WHEN Text LIKE N'FalseAlarm%' THEN 1 WHEN Text LIKE N'Test%' THEN 2 ELSE 3 END,
    Text = NULLIF(LTRIM(RTRIM(SUBSTRING(Text, CHARINDEX(N':', Text + N':') + 1, 2000))), N'')
WHERE Kind = 7 AND Code IS NULL
  AND (Text LIKE N'RealEmergency%' OR Text LIKE N'FalseAlarm%' OR Text LIKE N'Test%' OR Text LIKE N'Malfunction%');
GO

UPDATE e
SET CentreId = c.Id, Text = NULLIF(LTRIM(RTRIM(SUBSTRING(e.Text, LEN(N'→ ' + c.Name) + 1, 2000))), N'')
FROM dbo.AlarmEvent e
JOIN dbo.PoliceCentre c ON e.Text = N'→ ' + c.Name OR e.Text LIKE N'→ ' + c.Name + N' %'
WHERE e.Kind = 6 AND e.CentreId IS NULL;
GO

UPDATE dbo.AlarmEvent SET CentreId = (SELECT c.Id FROM dbo.PoliceCentre c WHERE c.DistrictId IS NULL) WHERE Kind = 2 AND CentreId IS NULL;
GO

UPDATE dbo.AlarmEvent
SET Code = CASE WHEN Text = N'Warning light/siren on' THEN 2 WHEN Text = N'Warning light/siren off' THEN 3 WHEN Text LIKE N'PTZ preset %' THEN 1 ELSE 0 END,
    Text = CASE WHEN Text LIKE N'PTZ preset %' THEN SUBSTRING(Text, 12, 2000) WHEN Text LIKE N'PTZ %' THEN SUBSTRING(Text, 5, 2000) ELSE NULL END
WHERE Kind = 8 AND Code IS NULL AND (Text LIKE N'PTZ %' OR Text LIKE N'Warning light/siren %');
GO
