-- Server-side sessions: a signed-in browser's cookie names one row here, and is refused once the row is gone
-- (sign-out, idle or absolute lifetime, an account that was locked, disabled or re-scoped). Kind 0 is the
-- portal's own session, 1 the sign-in server's. The security stamp is the account's at sign-in: a changed one
-- (new password, two-factor changed) ends every other session of the account.
CREATE TABLE IF NOT EXISTS UserSession (
    Id INTEGER NOT NULL CONSTRAINT PK_UserSession PRIMARY KEY AUTOINCREMENT,
    UserId INTEGER NOT NULL,
    Kind INTEGER NOT NULL,
    SecurityStamp TEXT NULL,
    CreatedUtc TEXT NOT NULL,
    LastSeenUtc TEXT NOT NULL,
    ExpiresUtc TEXT NOT NULL,
    RemoteAddress TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_UserSession_UserId ON UserSession (UserId);
CREATE INDEX IF NOT EXISTS IX_UserSession_ExpiresUtc ON UserSession (ExpiresUtc);
