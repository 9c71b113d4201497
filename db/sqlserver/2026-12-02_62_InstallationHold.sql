-- An installation step whose serial differs from the registry's device is held here for an administrator's
-- confirmation instead of rewriting the device: the serial is the device's identity (its key, its SIP account),
-- and a typo would make the real terminal an unknown device. Confirmed, the step is recorded and the device
-- takes the new serial; rejected, nothing changes and the school records the step again.
IF OBJECT_ID(N'dbo.InstallationHold', N'U') IS NULL
CREATE TABLE dbo.InstallationHold (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_InstallationHold PRIMARY KEY,
    SchoolId INT NOT NULL CONSTRAINT FK_InstallationHold_School REFERENCES dbo.School (Id),
    -- 1 terminal installed, 2 camera installed (the steps that carry a serial)
    Step INT NOT NULL,
    DeviceId INT NOT NULL CONSTRAINT FK_InstallationHold_Device REFERENCES dbo.Device (Id),
    RegistrySerial NVARCHAR(64) NOT NULL,
    InstalledSerial NVARCHAR(64) NOT NULL,
    DoneUtc DATETIME2 NOT NULL,
    DoneBy NVARCHAR(64) NOT NULL,
    Notes NVARCHAR(1000) NULL,
    CreatedUtc DATETIME2 NOT NULL,
    -- 0 waiting, 1 confirmed, 2 rejected
    State INT NOT NULL,
    ResolvedUtc DATETIME2 NULL,
    ResolvedBy NVARCHAR(64) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_InstallationHold_State')
CREATE INDEX IX_InstallationHold_State ON dbo.InstallationHold (State);
GO
-- One waiting hold per school and step.
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_InstallationHold_SchoolId_Step_Waiting')
CREATE UNIQUE INDEX UX_InstallationHold_SchoolId_Step_Waiting ON dbo.InstallationHold (SchoolId, Step) WHERE State = 0;
GO
