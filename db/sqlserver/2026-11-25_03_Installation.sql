-- The installation programme: each school's steps with date, who and notes, photo evidence (files live in
-- the data folder, only their metadata here), joint acceptance tests, the deadline and district targets, and
-- the history of completion reports (files in the data folder too).

IF OBJECT_ID(N'dbo.InstallationProgramme', N'U') IS NULL
CREATE TABLE dbo.InstallationProgramme (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_InstallationProgramme PRIMARY KEY,
    StartUtc DATETIME2 NOT NULL,
    DeadlineUtc DATETIME2 NOT NULL,
    UpdatedUtc DATETIME2 NOT NULL,
    UpdatedBy NVARCHAR(64) NOT NULL
);
GO

IF OBJECT_ID(N'dbo.DistrictTarget', N'U') IS NULL
CREATE TABLE dbo.DistrictTarget (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_DistrictTarget PRIMARY KEY,
    DistrictId INT NOT NULL CONSTRAINT FK_DistrictTarget_District REFERENCES dbo.District (Id),
    -- The district's own date; schools not signed off by then are overdue (NULL: the programme deadline).
    TargetUtc DATETIME2 NULL,
    -- Share of the district's schools to be signed off by the target date.
    TargetPercent INT NOT NULL CONSTRAINT DF_DistrictTarget_TargetPercent DEFAULT 100,
    ContactName NVARCHAR(64) NOT NULL,
    ContactPhone NVARCHAR(32) NOT NULL,
    UpdatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_DistrictTarget_DistrictId')
CREATE UNIQUE INDEX UX_DistrictTarget_DistrictId ON dbo.DistrictTarget (DistrictId);
GO

IF OBJECT_ID(N'dbo.InstallationStep', N'U') IS NULL
CREATE TABLE dbo.InstallationStep (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_InstallationStep PRIMARY KEY,
    SchoolId INT NOT NULL CONSTRAINT FK_InstallationStep_School REFERENCES dbo.School (Id),
    -- 0 site surveyed, 1 terminal installed, 2 camera installed, 3 devices online, 4 acceptance passed, 5 signed off
    Step INT NOT NULL,
    DoneUtc DATETIME2 NOT NULL,
    DoneBy NVARCHAR(64) NOT NULL,
    Notes NVARCHAR(1000) NULL,
    SerialNumber NVARCHAR(64) NULL,
    CreatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_InstallationStep_SchoolId_Step')
CREATE UNIQUE INDEX UX_InstallationStep_SchoolId_Step ON dbo.InstallationStep (SchoolId, Step);
GO

IF OBJECT_ID(N'dbo.InstallationPhoto', N'U') IS NULL
CREATE TABLE dbo.InstallationPhoto (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_InstallationPhoto PRIMARY KEY,
    SchoolId INT NOT NULL CONSTRAINT FK_InstallationPhoto_School REFERENCES dbo.School (Id),
    Step INT NOT NULL,
    -- The file's name under the data folder's photo directory (generated, never the uploader's name).
    StoredName NVARCHAR(128) NOT NULL,
    OriginalName NVARCHAR(256) NOT NULL,
    ContentType NVARCHAR(64) NOT NULL,
    SizeBytes BIGINT NOT NULL,
    UploadedUtc DATETIME2 NOT NULL,
    UploadedBy NVARCHAR(64) NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_InstallationPhoto_SchoolId')
CREATE INDEX IX_InstallationPhoto_SchoolId ON dbo.InstallationPhoto (SchoolId);
GO

IF OBJECT_ID(N'dbo.AcceptanceTest', N'U') IS NULL
CREATE TABLE dbo.AcceptanceTest (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_AcceptanceTest PRIMARY KEY,
    SchoolId INT NOT NULL CONSTRAINT FK_AcceptanceTest_School REFERENCES dbo.School (Id),
    -- The test alarm raised through the alarm intake.
    AlarmId INT NULL,
    -- 0 requested, 1 passed, 2 failed
    Outcome INT NOT NULL,
    RequestedUtc DATETIME2 NOT NULL,
    RequestedBy NVARCHAR(64) NOT NULL,
    AudioOk BIT NULL,
    VideoOk BIT NULL,
    Notes NVARCHAR(1000) NULL,
    RecordedUtc DATETIME2 NULL,
    RecordedBy NVARCHAR(64) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AcceptanceTest_SchoolId')
CREATE INDEX IX_AcceptanceTest_SchoolId ON dbo.AcceptanceTest (SchoolId);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AcceptanceTest_AlarmId')
CREATE INDEX IX_AcceptanceTest_AlarmId ON dbo.AcceptanceTest (AlarmId);
GO

IF OBJECT_ID(N'dbo.CompletionReport', N'U') IS NULL
CREATE TABLE dbo.CompletionReport (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_CompletionReport PRIMARY KEY,
    -- NULL: the city report.
    DistrictId INT NULL CONSTRAINT FK_CompletionReport_District REFERENCES dbo.District (Id),
    -- 0 xlsx, 1 pdf
    Format INT NOT NULL,
    -- 0 on demand, 1 weekly
    Origin INT NOT NULL,
    -- The ISO week of a weekly report (2026-W48), so a retried job does not write it twice.
    PeriodKey NVARCHAR(16) NULL,
    StoredName NVARCHAR(128) NOT NULL,
    SizeBytes BIGINT NOT NULL,
    Schools INT NOT NULL,
    SchoolsDone INT NOT NULL,
    CreatedUtc DATETIME2 NOT NULL,
    CreatedBy NVARCHAR(64) NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_CompletionReport_CreatedUtc')
CREATE INDEX IX_CompletionReport_CreatedUtc ON dbo.CompletionReport (CreatedUtc);
GO
