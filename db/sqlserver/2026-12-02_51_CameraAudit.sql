-- One audit log of every camera action and every video view: who, which school, when, from where, and whether
-- it happened in an alarm's pop-up (AlarmId), on the school page or on the camera wall (Origin). No foreign keys:
-- the audit outlives the devices and schools it names.
IF OBJECT_ID(N'dbo.CameraAudit', N'U') IS NULL
CREATE TABLE dbo.CameraAudit (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_CameraAudit PRIMARY KEY,
    AtUtc DATETIME2 NOT NULL,
    UserId INT NOT NULL,
    UserName NVARCHAR(64) NOT NULL,
    Role NVARCHAR(32) NOT NULL,
    SchoolId INT NOT NULL,
    DeviceId INT NULL,
    AlarmId INT NULL,
    -- 0 alarm pop-up, 1 school page, 2 camera wall
    Origin INT NOT NULL,
    -- 0 video view, 1 PTZ move, 2 PTZ stop, 3 preset, 4 warning light/siren on, 5 warning light/siren off
    Action INT NOT NULL,
    Detail NVARCHAR(256) NULL,
    RemoteAddress NVARCHAR(64) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_CameraAudit_AtUtc')
CREATE INDEX IX_CameraAudit_AtUtc ON dbo.CameraAudit (AtUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_CameraAudit_SchoolId_AtUtc')
CREATE INDEX IX_CameraAudit_SchoolId_AtUtc ON dbo.CameraAudit (SchoolId, AtUtc);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_CameraAudit_UserId_AtUtc')
CREATE INDEX IX_CameraAudit_UserId_AtUtc ON dbo.CameraAudit (UserId, AtUtc);
GO
