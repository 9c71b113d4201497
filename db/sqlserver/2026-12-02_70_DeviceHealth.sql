-- Device health (issue 12): what the scheduled checks keep per device, every state transition, one row per check
-- cycle, the portal's notification centre and Web Push subscriptions. Device.HealthState stays the public state
-- (written by DeviceRepository); the tables here hold what the health checks need to decide it.

-- One row per checked device: consecutive missed checks, since when the current state holds (flap suppression),
-- what people were last told, and whether the device is flapping. Written only when something changes.
IF OBJECT_ID(N'dbo.DeviceHealth', N'U') IS NULL
CREATE TABLE dbo.DeviceHealth (
    DeviceId INT NOT NULL CONSTRAINT PK_DeviceHealth PRIMARY KEY CONSTRAINT FK_DeviceHealth_Device REFERENCES dbo.Device (Id),
    -- 0 unknown, 1 online, 2 degraded, 3 offline (as Device.HealthState)
    State INT NOT NULL CONSTRAINT DF_DeviceHealth_State DEFAULT 0,
    StateSinceUtc DATETIME2 NULL,
    Misses INT NOT NULL CONSTRAINT DF_DeviceHealth_Misses DEFAULT 0,
    -- The last check that found the device alive, as of the last write (online devices are alive as of the last cycle).
    LastOkUtc DATETIME2 NULL,
    Detail NVARCHAR(256) NULL,
    -- The state people were last told about (0 unknown: nobody told yet).
    NotifiedState INT NOT NULL CONSTRAINT DF_DeviceHealth_NotifiedState DEFAULT 0,
    IsFlapping BIT NOT NULL CONSTRAINT DF_DeviceHealth_IsFlapping DEFAULT 0,
    FlappingSinceUtc DATETIME2 NULL,
    UpdatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_DeviceHealth_IsFlapping')
CREATE INDEX IX_DeviceHealth_IsFlapping ON dbo.DeviceHealth (IsFlapping);
GO

-- Every transition, for the drill-down's history and the flap count; old rows go with the retention job.
IF OBJECT_ID(N'dbo.DeviceHealthEvent', N'U') IS NULL
CREATE TABLE dbo.DeviceHealthEvent (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_DeviceHealthEvent PRIMARY KEY,
    DeviceId INT NOT NULL CONSTRAINT FK_DeviceHealthEvent_Device REFERENCES dbo.Device (Id),
    FromState INT NOT NULL,
    ToState INT NOT NULL,
    AtUtc DATETIME2 NOT NULL,
    Detail NVARCHAR(256) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_DeviceHealthEvent_DeviceId_AtUtc')
CREATE INDEX IX_DeviceHealthEvent_DeviceId_AtUtc ON dbo.DeviceHealthEvent (DeviceId, AtUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_DeviceHealthEvent_AtUtc')
CREATE INDEX IX_DeviceHealthEvent_AtUtc ON dbo.DeviceHealthEvent (AtUtc);
GO

-- One row per check cycle: when it ran, what it found, how long it took.
IF OBJECT_ID(N'dbo.HealthCheckRun', N'U') IS NULL
CREATE TABLE dbo.HealthCheckRun (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_HealthCheckRun PRIMARY KEY,
    StartedUtc DATETIME2 NOT NULL,
    FinishedUtc DATETIME2 NOT NULL,
    Devices INT NOT NULL,
    Probed INT NOT NULL,
    Failed INT NOT NULL,
    Changes INT NOT NULL,
    ElapsedMs INT NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_HealthCheckRun_StartedUtc')
CREATE INDEX IX_HealthCheckRun_StartedUtc ON dbo.HealthCheckRun (StartedUtc);
GO

-- The notification centre: one row per event, addressed to an audience (a bit per role: 1 principal, 2 bureau,
-- 4 police, 8 admin) within a school and district; each user sees the rows their role and scope cover.
IF OBJECT_ID(N'dbo.Notification', N'U') IS NULL
CREATE TABLE dbo.Notification (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_Notification PRIMARY KEY,
    -- 0 device offline, 1 device back online, 2 device degraded, 3 device flapping
    Kind INT NOT NULL,
    Audience INT NOT NULL,
    DistrictId INT NOT NULL CONSTRAINT FK_Notification_District REFERENCES dbo.District (Id),
    SchoolId INT NOT NULL CONSTRAINT FK_Notification_School REFERENCES dbo.School (Id),
    DeviceId INT NULL CONSTRAINT FK_Notification_Device REFERENCES dbo.Device (Id),
    SchoolName NVARCHAR(200) NOT NULL,
    DeviceKind INT NULL,
    SerialNumber NVARCHAR(64) NULL,
    CreatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Notification_SchoolId_CreatedUtc')
CREATE INDEX IX_Notification_SchoolId_CreatedUtc ON dbo.Notification (SchoolId, CreatedUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Notification_DistrictId_CreatedUtc')
CREATE INDEX IX_Notification_DistrictId_CreatedUtc ON dbo.Notification (DistrictId, CreatedUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Notification_CreatedUtc')
CREATE INDEX IX_Notification_CreatedUtc ON dbo.Notification (CreatedUtc);
GO

IF OBJECT_ID(N'dbo.NotificationRead', N'U') IS NULL
CREATE TABLE dbo.NotificationRead (
    NotificationId INT NOT NULL CONSTRAINT FK_NotificationRead_Notification REFERENCES dbo.Notification (Id) ON DELETE CASCADE,
    UserId INT NOT NULL,
    ReadUtc DATETIME2 NOT NULL,
    CONSTRAINT PK_NotificationRead PRIMARY KEY (NotificationId, UserId)
);
GO

-- A browser's Web Push subscription (RFC 8030), with the user's scope when it subscribed so pushes are addressed
-- without a join into Identity. The auth secret is Data Protection ciphertext.
IF OBJECT_ID(N'dbo.PushSubscription', N'U') IS NULL
CREATE TABLE dbo.PushSubscription (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_PushSubscription PRIMARY KEY,
    UserId INT NOT NULL,
    Role NVARCHAR(32) NOT NULL,
    DistrictId INT NULL,
    SchoolId INT NULL,
    Endpoint NVARCHAR(1024) NOT NULL,
    -- SHA-256 of the endpoint, hex: unique, and short enough for a SQL Server index key.
    EndpointHash NVARCHAR(64) NOT NULL,
    P256dh NVARCHAR(200) NOT NULL,
    AuthProtected NVARCHAR(1024) NOT NULL,
    Culture NVARCHAR(16) NOT NULL,
    CreatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_PushSubscription_EndpointHash')
CREATE UNIQUE INDEX UX_PushSubscription_EndpointHash ON dbo.PushSubscription (EndpointHash);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_PushSubscription_UserId')
CREATE INDEX IX_PushSubscription_UserId ON dbo.PushSubscription (UserId);
GO

-- The portal's VAPID key pair (RFC 8292), made once; the private key is Data Protection ciphertext.
IF OBJECT_ID(N'dbo.WebPushKey', N'U') IS NULL
CREATE TABLE dbo.WebPushKey (
    Id INT NOT NULL CONSTRAINT PK_WebPushKey PRIMARY KEY,
    PublicKey NVARCHAR(200) NOT NULL,
    PrivateKeyProtected NVARCHAR(2048) NOT NULL,
    CreatedUtc DATETIME2 NOT NULL
);
GO
