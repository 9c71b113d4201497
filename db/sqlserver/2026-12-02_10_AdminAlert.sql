-- Alerts an administrator must act on (for example: an alarm refused because no 110 centre covers its
-- district). One open row per kind and subject: a repeat raises Occurrences and LastUtc instead of adding rows.

IF OBJECT_ID(N'dbo.AdminAlert', N'U') IS NULL
CREATE TABLE dbo.AdminAlert (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_AdminAlert PRIMARY KEY,
    -- A stable code, e.g. NoCentre; the UI words it.
    Kind NVARCHAR(64) NOT NULL,
    -- What it is about, e.g. "District 370202".
    Subject NVARCHAR(256) NOT NULL,
    Detail NVARCHAR(1024) NULL,
    FirstUtc DATETIME2 NOT NULL,
    LastUtc DATETIME2 NOT NULL,
    Occurrences INT NOT NULL CONSTRAINT DF_AdminAlert_Occurrences DEFAULT 1,
    ClosedUtc DATETIME2 NULL,
    ClosedBy NVARCHAR(256) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_AdminAlert_Kind_Subject_Open')
CREATE UNIQUE INDEX UX_AdminAlert_Kind_Subject_Open ON dbo.AdminAlert (Kind, Subject) WHERE ClosedUtc IS NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AdminAlert_LastUtc')
CREATE INDEX IX_AdminAlert_LastUtc ON dbo.AdminAlert (LastUtc);
GO
