-- Issue #15, item 3: pre-warm for gate cameras that ignore keyframe requests. A camera may have a low-rate sub-stream
-- (set by an administrator; nothing is derived from the main URL), and a district or a school may ask for it to be kept
-- pulled. A school's own row wins over its district's; no row at either means off.
IF COL_LENGTH(N'dbo.Device', N'RtspSubStreamUrl') IS NULL
ALTER TABLE dbo.Device ADD RtspSubStreamUrl NVARCHAR(512) NULL;
GO
IF OBJECT_ID(N'dbo.GateCameraPrewarm', N'U') IS NULL
CREATE TABLE dbo.GateCameraPrewarm (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_GateCameraPrewarm PRIMARY KEY,
    DistrictId INT NULL CONSTRAINT FK_GateCameraPrewarm_District REFERENCES dbo.District (Id),
    SchoolId INT NULL CONSTRAINT FK_GateCameraPrewarm_School REFERENCES dbo.School (Id),
    Enabled BIT NOT NULL,
    UpdatedUtc DATETIME2 NOT NULL,
    UpdatedBy NVARCHAR(64) NOT NULL,
    CONSTRAINT CK_GateCameraPrewarm_OneScope CHECK ((DistrictId IS NULL AND SchoolId IS NOT NULL) OR (DistrictId IS NOT NULL AND SchoolId IS NULL))
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_GateCameraPrewarm_DistrictId')
CREATE UNIQUE INDEX UX_GateCameraPrewarm_DistrictId ON dbo.GateCameraPrewarm (DistrictId) WHERE DistrictId IS NOT NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_GateCameraPrewarm_SchoolId')
CREATE UNIQUE INDEX UX_GateCameraPrewarm_SchoolId ON dbo.GateCameraPrewarm (SchoolId) WHERE SchoolId IS NOT NULL;
GO
