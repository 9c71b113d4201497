-- The city's registry: districts, police centres, schools and their devices.
-- Enumerations are stored as INTEGER; their values are listed beside each column and mirror the C# enums.

CREATE TABLE IF NOT EXISTS District (
    Id INTEGER NOT NULL CONSTRAINT PK_District PRIMARY KEY AUTOINCREMENT,
    Code TEXT NOT NULL,
    Name TEXT NOT NULL,
    NameEn TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_District_Code ON District (Code);

CREATE TABLE IF NOT EXISTS PoliceCentre (
    Id INTEGER NOT NULL CONSTRAINT PK_PoliceCentre PRIMARY KEY AUTOINCREMENT,
    Name TEXT NOT NULL,
    NameEn TEXT NOT NULL,
    -- NULL: the city 110 centre, which oversees every district.
    DistrictId INTEGER NULL CONSTRAINT FK_PoliceCentre_District REFERENCES District (Id),
    AnswerDeadlineSeconds INTEGER NOT NULL DEFAULT 15
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_PoliceCentre_DistrictId ON PoliceCentre (DistrictId) WHERE DistrictId IS NOT NULL;

CREATE TABLE IF NOT EXISTS School (
    Id INTEGER NOT NULL CONSTRAINT PK_School PRIMARY KEY AUTOINCREMENT,
    Code TEXT NOT NULL,
    Name TEXT NOT NULL,
    -- 0 kindergarten, 1 primary, 2 junior middle, 3 nine-year, 4 senior high
    SchoolType INTEGER NOT NULL,
    DistrictId INTEGER NOT NULL CONSTRAINT FK_School_District REFERENCES District (Id),
    Address TEXT NOT NULL,
    Longitude REAL NULL,
    Latitude REAL NULL,
    PrincipalName TEXT NOT NULL,
    Phone TEXT NOT NULL,
    CreatedUtc TEXT NOT NULL,
    UpdatedUtc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_School_Code ON School (Code);
CREATE INDEX IF NOT EXISTS IX_School_DistrictId ON School (DistrictId);
CREATE INDEX IF NOT EXISTS IX_School_Name ON School (Name);

CREATE TABLE IF NOT EXISTS Device (
    Id INTEGER NOT NULL CONSTRAINT PK_Device PRIMARY KEY AUTOINCREMENT,
    SchoolId INTEGER NOT NULL CONSTRAINT FK_Device_School REFERENCES School (Id),
    -- 0 alarm terminal, 1 gate camera
    Kind INTEGER NOT NULL,
    Model TEXT NOT NULL,
    SerialNumber TEXT NOT NULL,
    SipAccount TEXT NULL,
    RtspUrl TEXT NULL,
    OnvifUrl TEXT NULL,
    Username TEXT NULL,
    -- The device's password or key, encrypted with ASP.NET Core Data Protection; never plain text.
    SecretProtected TEXT NULL,
    -- 0 planned, 1 installed, 2 connected, 3 accepted
    InstallState INTEGER NOT NULL,
    Enabled INTEGER NOT NULL DEFAULT 1,
    -- 0 unknown, 1 online, 2 degraded, 3 offline
    HealthState INTEGER NOT NULL DEFAULT 0,
    LastSeenUtc TEXT NULL,
    CreatedUtc TEXT NOT NULL,
    UpdatedUtc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_Device_SerialNumber ON Device (SerialNumber);
CREATE UNIQUE INDEX IF NOT EXISTS UX_Device_SipAccount ON Device (SipAccount) WHERE SipAccount IS NOT NULL;
CREATE INDEX IF NOT EXISTS IX_Device_SchoolId ON Device (SchoolId);
