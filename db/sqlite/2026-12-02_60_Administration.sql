-- Administration of a real city: the audit trail of every administrative change, the one-time link that
-- creates the first administrator of a production install, and where each 110 centre escalates.

CREATE TABLE IF NOT EXISTS AuditLog (
    Id INTEGER NOT NULL CONSTRAINT PK_AuditLog PRIMARY KEY AUTOINCREMENT,
    AtUtc TEXT NOT NULL,
    -- NULL for the platform itself (start-up, the first-run setup before any user exists).
    UserId INTEGER NULL,
    UserName TEXT NOT NULL,
    RemoteAddress TEXT NULL,
    -- A stable code such as "District.Created" or "User.Disabled"; the UI words it.
    Action TEXT NOT NULL,
    -- What was changed, for people: "370202 市南区", "user shinan110", "device ATS00000001".
    Target TEXT NULL,
    -- The values that changed; never a password, key or secret.
    Detail TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_AuditLog_AtUtc ON AuditLog (AtUtc);

CREATE TABLE IF NOT EXISTS SetupToken (
    Id INTEGER NOT NULL CONSTRAINT PK_SetupToken PRIMARY KEY AUTOINCREMENT,
    -- Lower-case hex SHA-256 of the token printed to the log; the token itself is never stored.
    TokenHash TEXT NOT NULL,
    CreatedUtc TEXT NOT NULL,
    ExpiresUtc TEXT NOT NULL,
    UsedUtc TEXT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_SetupToken_TokenHash ON SetupToken (TokenHash);

-- Where an unanswered alarm goes when the centre's deadline passes (NULL: the city 110 centre).
ALTER TABLE PoliceCentre ADD COLUMN EscalatesToCentreId INTEGER NULL CONSTRAINT FK_PoliceCentre_EscalatesTo REFERENCES PoliceCentre (Id);

-- One city 110 centre at most (the centre without a district).
CREATE UNIQUE INDEX IF NOT EXISTS UX_PoliceCentre_City ON PoliceCentre (COALESCE(DistrictId, 0)) WHERE DistrictId IS NULL;
