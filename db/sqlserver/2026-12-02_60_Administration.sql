-- Administration of a real city: the audit trail of every administrative change, the one-time link that
-- creates the first administrator of a production install, and where each 110 centre escalates.

IF OBJECT_ID(N'dbo.AuditLog', N'U') IS NULL
CREATE TABLE dbo.AuditLog (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_AuditLog PRIMARY KEY,
    AtUtc DATETIME2 NOT NULL,
    -- NULL for the platform itself (start-up, the first-run setup before any user exists).
    UserId INT NULL,
    UserName NVARCHAR(64) NOT NULL,
    RemoteAddress NVARCHAR(64) NULL,
    -- A stable code such as "District.Created" or "User.Disabled"; the UI words it.
    Action NVARCHAR(64) NOT NULL,
    -- What was changed, for people: "370202 市南区", "user shinan110", "device ATS00000001".
    Target NVARCHAR(256) NULL,
    -- The values that changed; never a password, key or secret.
    Detail NVARCHAR(2000) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_AuditLog_AtUtc')
CREATE INDEX IX_AuditLog_AtUtc ON dbo.AuditLog (AtUtc);
GO

IF OBJECT_ID(N'dbo.SetupToken', N'U') IS NULL
CREATE TABLE dbo.SetupToken (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_SetupToken PRIMARY KEY,
    -- Lower-case hex SHA-256 of the token printed to the log; the token itself is never stored.
    TokenHash NVARCHAR(64) NOT NULL,
    CreatedUtc DATETIME2 NOT NULL,
    ExpiresUtc DATETIME2 NOT NULL,
    UsedUtc DATETIME2 NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_SetupToken_TokenHash')
CREATE UNIQUE INDEX UX_SetupToken_TokenHash ON dbo.SetupToken (TokenHash);
GO

-- Where an unanswered alarm goes when the centre's deadline passes (NULL: the city 110 centre).
IF COL_LENGTH(N'dbo.PoliceCentre', N'EscalatesToCentreId') IS NULL
ALTER TABLE dbo.PoliceCentre ADD EscalatesToCentreId INT NULL CONSTRAINT FK_PoliceCentre_EscalatesTo REFERENCES dbo.PoliceCentre (Id);
GO

-- One city 110 centre at most (the centre without a district): SQL Server's unique index counts NULLs as equal.
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_PoliceCentre_City')
CREATE UNIQUE INDEX UX_PoliceCentre_City ON dbo.PoliceCentre (DistrictId) WHERE DistrictId IS NULL;
GO
