-- Keys that every portal instance must share, kept in the database rather than in one machine's folder:
-- ASP.NET Core Data Protection's key ring (it protects device secrets, TOTP keys and sessions; each key's XML
-- is encrypted with the configured certificate when one is given) and the OpenID Connect server's signing and
-- encryption keys (each protected with Data Protection), one per purpose and rotation period.

IF OBJECT_ID(N'dbo.DataProtectionKey', N'U') IS NULL
CREATE TABLE dbo.DataProtectionKey (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_DataProtectionKey PRIMARY KEY,
    FriendlyName NVARCHAR(256) NULL,
    Xml NVARCHAR(MAX) NOT NULL,
    CreatedUtc DATETIME2 NOT NULL
);
GO

IF OBJECT_ID(N'dbo.TokenKey', N'U') IS NULL
CREATE TABLE dbo.TokenKey (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_TokenKey PRIMARY KEY,
    -- 0 signing, 1 encryption
    Purpose INT NOT NULL,
    -- The rotation period the key serves (days since 1970 divided by the period length): instances starting
    -- at the same time agree on it, and the unique index lets exactly one of them create the key.
    Generation INT NOT NULL,
    -- The RSA private key (PKCS#8), protected with Data Protection.
    KeyProtected NVARCHAR(MAX) NOT NULL,
    CreatedUtc DATETIME2 NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'UX_TokenKey_Purpose_Generation')
CREATE UNIQUE INDEX UX_TokenKey_Purpose_Generation ON dbo.TokenKey (Purpose, Generation);
GO
