-- Alarms, their timeline, device API replay protection and the security log.

-- The per-device HMAC key of the signed HTTP device API, encrypted with Data Protection.
IF COL_LENGTH(N'dbo.Device', N'ApiKeyProtected') IS NULL
ALTER TABLE dbo.Device ADD ApiKeyProtected NVARCHAR(1024) NULL;
GO

IF OBJECT_ID(N'dbo.Alarm', N'U') IS NULL
CREATE TABLE dbo.Alarm (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_Alarm PRIMARY KEY,
    SchoolId INT NOT NULL CONSTRAINT FK_Alarm_School REFERENCES dbo.School (Id),
    DistrictId INT NOT NULL CONSTRAINT FK_Alarm_District REFERENCES dbo.District (Id),
    DeviceId INT NULL CONSTRAINT FK_Alarm_Device REFERENCES dbo.Device (Id),
    -- The centre that must answer now: the district's at first, the city's after escalation or a transfer.
    CentreId INT NOT NULL CONSTRAINT FK_Alarm_PoliceCentre REFERENCES dbo.PoliceCentre (Id),
    -- 0 SIP call, 1 signed HTTP device API, 2 test started in the portal
    Source INT NOT NULL,
    IsTest BIT NOT NULL,
    -- A joint acceptance test (联调验收), always also a test.
    IsAcceptance BIT NOT NULL CONSTRAINT DF_Alarm_IsAcceptance DEFAULT 0,
    -- 0 ringing, 1 escalated (ringing at the city centre), 2 answered, 3 closed
    State INT NOT NULL,
    RaisedUtc DATETIME2 NOT NULL,
    LastSignalUtc DATETIME2 NOT NULL,
    SignalCount INT NOT NULL CONSTRAINT DF_Alarm_SignalCount DEFAULT 1,
    -- When an unanswered alarm escalates; persisted so a restart loses no timer.
    AnswerDeadlineUtc DATETIME2 NULL,
    EscalatedUtc DATETIME2 NULL,
    AnsweredUtc DATETIME2 NULL,
    AnsweredByUserId INT NULL,
    AnsweredByName NVARCHAR(64) NULL,
    ClosedUtc DATETIME2 NULL,
    -- 0 real emergency, 1 false alarm, 2 test, 3 malfunction
    Disposition INT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Alarm_State_AnswerDeadlineUtc')
CREATE INDEX IX_Alarm_State_AnswerDeadlineUtc ON dbo.Alarm (State, AnswerDeadlineUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Alarm_DistrictId_RaisedUtc')
CREATE INDEX IX_Alarm_DistrictId_RaisedUtc ON dbo.Alarm (DistrictId, RaisedUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Alarm_SchoolId_RaisedUtc')
CREATE INDEX IX_Alarm_SchoolId_RaisedUtc ON dbo.Alarm (SchoolId, RaisedUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Alarm_RaisedUtc')
CREATE INDEX IX_Alarm_RaisedUtc ON dbo.Alarm (RaisedUtc);
GO
-- At most one open alarm per device: a second press joins it.
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_Alarm_DeviceId_Open')
CREATE UNIQUE INDEX UX_Alarm_DeviceId_Open ON dbo.Alarm (DeviceId) WHERE State < 3 AND DeviceId IS NOT NULL;
GO

IF OBJECT_ID(N'dbo.AlarmEvent', N'U') IS NULL
CREATE TABLE dbo.AlarmEvent (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_AlarmEvent PRIMARY KEY,
    AlarmId INT NOT NULL CONSTRAINT FK_AlarmEvent_Alarm REFERENCES dbo.Alarm (Id),
    -- 0 raised, 1 signal joined, 2 escalated, 3 answered, 4 note, 5 dispatch, 6 transferred, 7 closed, 8 camera, 9 acceptance result
    Kind INT NOT NULL,
    AtUtc DATETIME2 NOT NULL,
    UserId INT NULL,
    UserName NVARCHAR(64) NULL,
    RemoteAddress NVARCHAR(64) NULL,
    Text NVARCHAR(2000) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AlarmEvent_AlarmId')
CREATE INDEX IX_AlarmEvent_AlarmId ON dbo.AlarmEvent (AlarmId);
GO

IF OBJECT_ID(N'dbo.DeviceNonce', N'U') IS NULL
CREATE TABLE dbo.DeviceNonce (
    DeviceId INT NOT NULL CONSTRAINT FK_DeviceNonce_Device REFERENCES dbo.Device (Id),
    Nonce NVARCHAR(64) NOT NULL,
    SeenUtc DATETIME2 NOT NULL,
    CONSTRAINT PK_DeviceNonce PRIMARY KEY (DeviceId, Nonce)
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_DeviceNonce_SeenUtc')
CREATE INDEX IX_DeviceNonce_SeenUtc ON dbo.DeviceNonce (SeenUtc);
GO

IF OBJECT_ID(N'dbo.SecurityLog', N'U') IS NULL
CREATE TABLE dbo.SecurityLog (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_SecurityLog PRIMARY KEY,
    AtUtc DATETIME2 NOT NULL,
    RemoteAddress NVARCHAR(64) NULL,
    DeviceId INT NULL,
    Reason NVARCHAR(64) NOT NULL,
    Detail NVARCHAR(512) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_SecurityLog_AtUtc')
CREATE INDEX IX_SecurityLog_AtUtc ON dbo.SecurityLog (AtUtc);
GO
