-- The city's registry: districts, police centres, schools and their devices.
-- Enumerations are stored as INT; their values are listed beside each column and mirror the C# enums.

IF OBJECT_ID(N'dbo.District', N'U') IS NULL
CREATE TABLE dbo.District (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_District PRIMARY KEY,
    Code NVARCHAR(16) NOT NULL,
    Name NVARCHAR(64) NOT NULL,
    NameEn NVARCHAR(64) NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_District_Code')
CREATE UNIQUE INDEX UX_District_Code ON dbo.District (Code);
GO

IF OBJECT_ID(N'dbo.PoliceCentre', N'U') IS NULL
CREATE TABLE dbo.PoliceCentre (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_PoliceCentre PRIMARY KEY,
    Name NVARCHAR(128) NOT NULL,
    NameEn NVARCHAR(128) NOT NULL,
    -- NULL: the city 110 centre, which oversees every district.
    DistrictId INT NULL CONSTRAINT FK_PoliceCentre_District REFERENCES dbo.District (Id),
    AnswerDeadlineSeconds INT NOT NULL CONSTRAINT DF_PoliceCentre_AnswerDeadlineSeconds DEFAULT 15
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_PoliceCentre_DistrictId')
CREATE UNIQUE INDEX UX_PoliceCentre_DistrictId ON dbo.PoliceCentre (DistrictId) WHERE DistrictId IS NOT NULL;
GO

IF OBJECT_ID(N'dbo.School', N'U') IS NULL
CREATE TABLE dbo.School (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_School PRIMARY KEY,
    Code NVARCHAR(32) NOT NULL,
    Name NVARCHAR(128) NOT NULL,
    -- 0 kindergarten, 1 primary, 2 junior middle, 3 nine-year, 4 senior high
    SchoolType INT NOT NULL,
    DistrictId INT NOT NULL CONSTRAINT FK_School_District REFERENCES dbo.District (Id),
    Address NVARCHAR(256) NOT NULL,
    Longitude FLOAT NULL,
    Latitude FLOAT NULL,
    PrincipalName NVARCHAR(64) NOT NULL,
    Phone NVARCHAR(32) NOT NULL,
    CreatedUtc DATETIME2 NOT NULL,
    UpdatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_School_Code')
CREATE UNIQUE INDEX UX_School_Code ON dbo.School (Code);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_School_DistrictId')
CREATE INDEX IX_School_DistrictId ON dbo.School (DistrictId);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_School_Name')
CREATE INDEX IX_School_Name ON dbo.School (Name);
GO

IF OBJECT_ID(N'dbo.Device', N'U') IS NULL
CREATE TABLE dbo.Device (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_Device PRIMARY KEY,
    SchoolId INT NOT NULL CONSTRAINT FK_Device_School REFERENCES dbo.School (Id),
    -- 0 alarm terminal, 1 gate camera
    Kind INT NOT NULL,
    Model NVARCHAR(64) NOT NULL,
    SerialNumber NVARCHAR(64) NOT NULL,
    SipAccount NVARCHAR(64) NULL,
    RtspUrl NVARCHAR(512) NULL,
    OnvifUrl NVARCHAR(512) NULL,
    Username NVARCHAR(64) NULL,
    -- The device's password or key, encrypted with ASP.NET Core Data Protection; never plain text.
    SecretProtected NVARCHAR(1024) NULL,
    -- 0 planned, 1 installed, 2 connected, 3 accepted
    InstallState INT NOT NULL,
    Enabled BIT NOT NULL CONSTRAINT DF_Device_Enabled DEFAULT 1,
    -- 0 unknown, 1 online, 2 degraded, 3 offline
    HealthState INT NOT NULL CONSTRAINT DF_Device_HealthState DEFAULT 0,
    LastSeenUtc DATETIME2 NULL,
    CreatedUtc DATETIME2 NOT NULL,
    UpdatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_Device_SerialNumber')
CREATE UNIQUE INDEX UX_Device_SerialNumber ON dbo.Device (SerialNumber);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_Device_SipAccount')
CREATE UNIQUE INDEX UX_Device_SipAccount ON dbo.Device (SipAccount) WHERE SipAccount IS NOT NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_Device_SchoolId')
CREATE INDEX IX_Device_SchoolId ON dbo.Device (SchoolId);
GO
