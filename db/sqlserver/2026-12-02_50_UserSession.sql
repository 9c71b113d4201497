-- Server-side sessions: a signed-in browser's cookie names one row here, and is refused once the row is gone
-- (sign-out, idle or absolute lifetime, an account that was locked, disabled or re-scoped). Kind 0 is the
-- portal's own session, 1 the sign-in server's. The security stamp is the account's at sign-in: a changed one
-- (new password, two-factor changed) ends every other session of the account.
IF OBJECT_ID(N'dbo.UserSession', N'U') IS NULL
CREATE TABLE dbo.UserSession (
    Id INT IDENTITY(1, 1) NOT NULL CONSTRAINT PK_UserSession PRIMARY KEY,
    UserId INT NOT NULL,
    Kind INT NOT NULL,
    SecurityStamp NVARCHAR(256) NULL,
    CreatedUtc DATETIME2 NOT NULL,
    LastSeenUtc DATETIME2 NOT NULL,
    ExpiresUtc DATETIME2 NOT NULL,
    RemoteAddress NVARCHAR(64) NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_UserSession_UserId')
CREATE INDEX IX_UserSession_UserId ON dbo.UserSession (UserId);
GO
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'IX_UserSession_ExpiresUtc')
CREATE INDEX IX_UserSession_ExpiresUtc ON dbo.UserSession (ExpiresUtc);
GO
