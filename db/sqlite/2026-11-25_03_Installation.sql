-- The installation programme: each school's steps with date, who and notes, photo evidence (files live in
-- the data folder, only their metadata here), joint acceptance tests, the deadline and district targets, and
-- the history of completion reports (files in the data folder too).

CREATE TABLE IF NOT EXISTS InstallationProgramme (
    Id INTEGER NOT NULL CONSTRAINT PK_InstallationProgramme PRIMARY KEY AUTOINCREMENT,
    StartUtc TEXT NOT NULL,
    DeadlineUtc TEXT NOT NULL,
    UpdatedUtc TEXT NOT NULL,
    UpdatedBy TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS DistrictTarget (
    Id INTEGER NOT NULL CONSTRAINT PK_DistrictTarget PRIMARY KEY AUTOINCREMENT,
    DistrictId INTEGER NOT NULL CONSTRAINT FK_DistrictTarget_District REFERENCES District (Id),
    -- The district's own date; schools not signed off by then are overdue (NULL: the programme deadline).
    TargetUtc TEXT NULL,
    -- Share of the district's schools to be signed off by the target date.
    TargetPercent INTEGER NOT NULL DEFAULT 100,
    ContactName TEXT NOT NULL,
    ContactPhone TEXT NOT NULL,
    UpdatedUtc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_DistrictTarget_DistrictId ON DistrictTarget (DistrictId);

CREATE TABLE IF NOT EXISTS InstallationStep (
    Id INTEGER NOT NULL CONSTRAINT PK_InstallationStep PRIMARY KEY AUTOINCREMENT,
    SchoolId INTEGER NOT NULL CONSTRAINT FK_InstallationStep_School REFERENCES School (Id),
    -- 0 site surveyed, 1 terminal installed, 2 camera installed, 3 devices online, 4 acceptance passed, 5 signed off
    Step INTEGER NOT NULL,
    DoneUtc TEXT NOT NULL,
    DoneBy TEXT NOT NULL,
    Notes TEXT NULL,
    SerialNumber TEXT NULL,
    CreatedUtc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_InstallationStep_SchoolId_Step ON InstallationStep (SchoolId, Step);

CREATE TABLE IF NOT EXISTS InstallationPhoto (
    Id INTEGER NOT NULL CONSTRAINT PK_InstallationPhoto PRIMARY KEY AUTOINCREMENT,
    SchoolId INTEGER NOT NULL CONSTRAINT FK_InstallationPhoto_School REFERENCES School (Id),
    Step INTEGER NOT NULL,
    -- The file's name under the data folder's photo directory (generated, never the uploader's name).
    StoredName TEXT NOT NULL,
    OriginalName TEXT NOT NULL,
    ContentType TEXT NOT NULL,
    SizeBytes INTEGER NOT NULL,
    UploadedUtc TEXT NOT NULL,
    UploadedBy TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_InstallationPhoto_SchoolId ON InstallationPhoto (SchoolId);

CREATE TABLE IF NOT EXISTS AcceptanceTest (
    Id INTEGER NOT NULL CONSTRAINT PK_AcceptanceTest PRIMARY KEY AUTOINCREMENT,
    SchoolId INTEGER NOT NULL CONSTRAINT FK_AcceptanceTest_School REFERENCES School (Id),
    -- The test alarm raised through the alarm intake.
    AlarmId INTEGER NULL,
    -- 0 requested, 1 passed, 2 failed
    Outcome INTEGER NOT NULL,
    RequestedUtc TEXT NOT NULL,
    RequestedBy TEXT NOT NULL,
    AudioOk INTEGER NULL,
    VideoOk INTEGER NULL,
    Notes TEXT NULL,
    RecordedUtc TEXT NULL,
    RecordedBy TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_AcceptanceTest_SchoolId ON AcceptanceTest (SchoolId);
CREATE INDEX IF NOT EXISTS IX_AcceptanceTest_AlarmId ON AcceptanceTest (AlarmId);

CREATE TABLE IF NOT EXISTS CompletionReport (
    Id INTEGER NOT NULL CONSTRAINT PK_CompletionReport PRIMARY KEY AUTOINCREMENT,
    -- NULL: the city report.
    DistrictId INTEGER NULL CONSTRAINT FK_CompletionReport_District REFERENCES District (Id),
    -- 0 xlsx, 1 pdf
    Format INTEGER NOT NULL,
    -- 0 on demand, 1 weekly
    Origin INTEGER NOT NULL,
    -- The ISO week of a weekly report (2026-W48), so a retried job does not write it twice.
    PeriodKey TEXT NULL,
    StoredName TEXT NOT NULL,
    SizeBytes INTEGER NOT NULL,
    Schools INTEGER NOT NULL,
    SchoolsDone INTEGER NOT NULL,
    CreatedUtc TEXT NOT NULL,
    CreatedBy TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_CompletionReport_CreatedUtc ON CompletionReport (CreatedUtc);
