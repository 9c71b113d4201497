-- Alarms, their timeline, device API replay protection and the security log.

-- The per-device HMAC key of the signed HTTP device API, encrypted with Data Protection.
ALTER TABLE Device ADD COLUMN ApiKeyProtected TEXT NULL;

CREATE TABLE IF NOT EXISTS Alarm (
    Id INTEGER NOT NULL CONSTRAINT PK_Alarm PRIMARY KEY AUTOINCREMENT,
    SchoolId INTEGER NOT NULL CONSTRAINT FK_Alarm_School REFERENCES School (Id),
    DistrictId INTEGER NOT NULL CONSTRAINT FK_Alarm_District REFERENCES District (Id),
    DeviceId INTEGER NULL CONSTRAINT FK_Alarm_Device REFERENCES Device (Id),
    -- The centre that must answer now: the district's at first, the city's after escalation or a transfer.
    CentreId INTEGER NOT NULL CONSTRAINT FK_Alarm_PoliceCentre REFERENCES PoliceCentre (Id),
    -- 0 SIP call, 1 signed HTTP device API, 2 test started in the portal
    Source INTEGER NOT NULL,
    IsTest INTEGER NOT NULL,
    -- A joint acceptance test (联调验收), always also a test.
    IsAcceptance INTEGER NOT NULL DEFAULT 0,
    -- 0 ringing, 1 escalated (ringing at the city centre), 2 answered, 3 closed
    State INTEGER NOT NULL,
    RaisedUtc TEXT NOT NULL,
    LastSignalUtc TEXT NOT NULL,
    SignalCount INTEGER NOT NULL DEFAULT 1,
    -- When an unanswered alarm escalates; persisted so a restart loses no timer.
    AnswerDeadlineUtc TEXT NULL,
    EscalatedUtc TEXT NULL,
    AnsweredUtc TEXT NULL,
    AnsweredByUserId INTEGER NULL,
    AnsweredByName TEXT NULL,
    ClosedUtc TEXT NULL,
    -- 0 real emergency, 1 false alarm, 2 test, 3 malfunction
    Disposition INTEGER NULL
);
CREATE INDEX IF NOT EXISTS IX_Alarm_State_AnswerDeadlineUtc ON Alarm (State, AnswerDeadlineUtc);
CREATE INDEX IF NOT EXISTS IX_Alarm_DistrictId_RaisedUtc ON Alarm (DistrictId, RaisedUtc);
CREATE INDEX IF NOT EXISTS IX_Alarm_SchoolId_RaisedUtc ON Alarm (SchoolId, RaisedUtc);
CREATE INDEX IF NOT EXISTS IX_Alarm_RaisedUtc ON Alarm (RaisedUtc);
-- At most one open alarm per device: a second press joins it.
CREATE UNIQUE INDEX IF NOT EXISTS UX_Alarm_DeviceId_Open ON Alarm (DeviceId) WHERE State < 3 AND DeviceId IS NOT NULL;

CREATE TABLE IF NOT EXISTS AlarmEvent (
    Id INTEGER NOT NULL CONSTRAINT PK_AlarmEvent PRIMARY KEY AUTOINCREMENT,
    AlarmId INTEGER NOT NULL CONSTRAINT FK_AlarmEvent_Alarm REFERENCES Alarm (Id),
    -- 0 raised, 1 signal joined, 2 escalated, 3 answered, 4 note, 5 dispatch, 6 transferred, 7 closed, 8 camera, 9 acceptance result
    Kind INTEGER NOT NULL,
    AtUtc TEXT NOT NULL,
    UserId INTEGER NULL,
    UserName TEXT NULL,
    RemoteAddress TEXT NULL,
    Text TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_AlarmEvent_AlarmId ON AlarmEvent (AlarmId);

CREATE TABLE IF NOT EXISTS DeviceNonce (
    DeviceId INTEGER NOT NULL CONSTRAINT FK_DeviceNonce_Device REFERENCES Device (Id),
    Nonce TEXT NOT NULL,
    SeenUtc TEXT NOT NULL,
    CONSTRAINT PK_DeviceNonce PRIMARY KEY (DeviceId, Nonce)
);
CREATE INDEX IF NOT EXISTS IX_DeviceNonce_SeenUtc ON DeviceNonce (SeenUtc);

CREATE TABLE IF NOT EXISTS SecurityLog (
    Id INTEGER NOT NULL CONSTRAINT PK_SecurityLog PRIMARY KEY AUTOINCREMENT,
    AtUtc TEXT NOT NULL,
    RemoteAddress TEXT NULL,
    DeviceId INTEGER NULL,
    Reason TEXT NOT NULL,
    Detail TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_SecurityLog_AtUtc ON SecurityLog (AtUtc);
