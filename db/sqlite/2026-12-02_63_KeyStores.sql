-- Keys that every portal instance must share, kept in the database rather than in one machine's folder:
-- ASP.NET Core Data Protection's key ring (it protects device secrets, TOTP keys and sessions; each key's XML
-- is encrypted with the configured certificate when one is given) and the OpenID Connect server's signing and
-- encryption keys (each protected with Data Protection), one per purpose and rotation period.

CREATE TABLE IF NOT EXISTS DataProtectionKey (
    Id INTEGER NOT NULL CONSTRAINT PK_DataProtectionKey PRIMARY KEY AUTOINCREMENT,
    FriendlyName TEXT NULL,
    Xml TEXT NOT NULL,
    CreatedUtc TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS TokenKey (
    Id INTEGER NOT NULL CONSTRAINT PK_TokenKey PRIMARY KEY AUTOINCREMENT,
    -- 0 signing, 1 encryption
    Purpose INTEGER NOT NULL,
    -- The rotation period the key serves (days since 1970 divided by the period length): instances starting
    -- at the same time agree on it, and the unique index lets exactly one of them create the key.
    Generation INTEGER NOT NULL,
    -- The RSA private key (PKCS#8), protected with Data Protection.
    KeyProtected TEXT NOT NULL,
    CreatedUtc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_TokenKey_Purpose_Generation ON TokenKey (Purpose, Generation);
