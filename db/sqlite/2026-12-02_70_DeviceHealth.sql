-- Device health (issue 12): what the scheduled checks keep per device, every state transition, one row per check
-- cycle, the portal's notification centre and Web Push subscriptions. Device.HealthState stays the public state
-- (written by DeviceRepository); the tables here hold what the health checks need to decide it.

-- One row per checked device: consecutive missed checks, since when the current state holds (flap suppression),
-- what people were last told, and whether the device is flapping. Written only when something changes.
CREATE TABLE IF NOT EXISTS DeviceHealth (
    DeviceId INTEGER NOT NULL CONSTRAINT PK_DeviceHealth PRIMARY KEY CONSTRAINT FK_DeviceHealth_Device REFERENCES Device (Id),
    -- 0 unknown, 1 online, 2 degraded, 3 offline (as Device.HealthState)
    State INTEGER NOT NULL DEFAULT 0,
    StateSinceUtc TEXT NULL,
    Misses INTEGER NOT NULL DEFAULT 0,
    -- The last check that found the device alive, as of the last write (online devices are alive as of the last cycle).
    LastOkUtc TEXT NULL,
    Detail TEXT NULL,
    -- The state people were last told about (0 unknown: nobody told yet).
    NotifiedState INTEGER NOT NULL DEFAULT 0,
    IsFlapping INTEGER NOT NULL DEFAULT 0,
    FlappingSinceUtc TEXT NULL,
    UpdatedUtc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_DeviceHealth_IsFlapping ON DeviceHealth (IsFlapping);

-- Every transition, for the drill-down's history and the flap count; old rows go with the retention job.
CREATE TABLE IF NOT EXISTS DeviceHealthEvent (
    Id INTEGER NOT NULL CONSTRAINT PK_DeviceHealthEvent PRIMARY KEY AUTOINCREMENT,
    DeviceId INTEGER NOT NULL CONSTRAINT FK_DeviceHealthEvent_Device REFERENCES Device (Id),
    FromState INTEGER NOT NULL,
    ToState INTEGER NOT NULL,
    AtUtc TEXT NOT NULL,
    Detail TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_DeviceHealthEvent_DeviceId_AtUtc ON DeviceHealthEvent (DeviceId, AtUtc);
CREATE INDEX IF NOT EXISTS IX_DeviceHealthEvent_AtUtc ON DeviceHealthEvent (AtUtc);

-- One row per check cycle: when it ran, what it found, how long it took.
CREATE TABLE IF NOT EXISTS HealthCheckRun (
    Id INTEGER NOT NULL CONSTRAINT PK_HealthCheckRun PRIMARY KEY AUTOINCREMENT,
    StartedUtc TEXT NOT NULL,
    FinishedUtc TEXT NOT NULL,
    Devices INTEGER NOT NULL,
    Probed INTEGER NOT NULL,
    Failed INTEGER NOT NULL,
    Changes INTEGER NOT NULL,
    ElapsedMs INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_HealthCheckRun_StartedUtc ON HealthCheckRun (StartedUtc);

-- The notification centre: one row per event, addressed to an audience (a bit per role: 1 principal, 2 bureau,
-- 4 police, 8 admin) within a school and district; each user sees the rows their role and scope cover.
CREATE TABLE IF NOT EXISTS Notification (
    Id INTEGER NOT NULL CONSTRAINT PK_Notification PRIMARY KEY AUTOINCREMENT,
    -- 0 device offline, 1 device back online, 2 device degraded, 3 device flapping
    Kind INTEGER NOT NULL,
    Audience INTEGER NOT NULL,
    DistrictId INTEGER NOT NULL CONSTRAINT FK_Notification_District REFERENCES District (Id),
    SchoolId INTEGER NOT NULL CONSTRAINT FK_Notification_School REFERENCES School (Id),
    DeviceId INTEGER NULL CONSTRAINT FK_Notification_Device REFERENCES Device (Id),
    SchoolName TEXT NOT NULL,
    DeviceKind INTEGER NULL,
    SerialNumber TEXT NULL,
    CreatedUtc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_Notification_SchoolId_CreatedUtc ON Notification (SchoolId, CreatedUtc);
CREATE INDEX IF NOT EXISTS IX_Notification_DistrictId_CreatedUtc ON Notification (DistrictId, CreatedUtc);
CREATE INDEX IF NOT EXISTS IX_Notification_CreatedUtc ON Notification (CreatedUtc);

CREATE TABLE IF NOT EXISTS NotificationRead (
    NotificationId INTEGER NOT NULL CONSTRAINT FK_NotificationRead_Notification REFERENCES Notification (Id) ON DELETE CASCADE,
    UserId INTEGER NOT NULL,
    ReadUtc TEXT NOT NULL,
    CONSTRAINT PK_NotificationRead PRIMARY KEY (NotificationId, UserId)
);

-- A browser's Web Push subscription (RFC 8030), with the user's scope when it subscribed so pushes are addressed
-- without a join into Identity. The auth secret is Data Protection ciphertext.
CREATE TABLE IF NOT EXISTS PushSubscription (
    Id INTEGER NOT NULL CONSTRAINT PK_PushSubscription PRIMARY KEY AUTOINCREMENT,
    UserId INTEGER NOT NULL,
    Role TEXT NOT NULL,
    DistrictId INTEGER NULL,
    SchoolId INTEGER NULL,
    Endpoint TEXT NOT NULL,
    -- SHA-256 of the endpoint, hex: unique, and short enough for a SQL Server index key.
    EndpointHash TEXT NOT NULL,
    P256dh TEXT NOT NULL,
    AuthProtected TEXT NOT NULL,
    Culture TEXT NOT NULL,
    CreatedUtc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_PushSubscription_EndpointHash ON PushSubscription (EndpointHash);
CREATE INDEX IF NOT EXISTS IX_PushSubscription_UserId ON PushSubscription (UserId);

-- The portal's VAPID key pair (RFC 8292), made once; the private key is Data Protection ciphertext.
CREATE TABLE IF NOT EXISTS WebPushKey (
    Id INTEGER NOT NULL CONSTRAINT PK_WebPushKey PRIMARY KEY,
    PublicKey TEXT NOT NULL,
    PrivateKeyProtected TEXT NOT NULL,
    CreatedUtc TEXT NOT NULL
);
