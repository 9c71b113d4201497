-- Alerts an administrator must act on (for example: an alarm refused because no 110 centre covers its
-- district). One open row per kind and subject: a repeat raises Occurrences and LastUtc instead of adding rows.

CREATE TABLE IF NOT EXISTS AdminAlert (
    Id INTEGER NOT NULL CONSTRAINT PK_AdminAlert PRIMARY KEY AUTOINCREMENT,
    -- A stable code, e.g. NoCentre; the UI words it.
    Kind TEXT NOT NULL,
    -- What it is about, e.g. "District 370202".
    Subject TEXT NOT NULL,
    Detail TEXT NULL,
    FirstUtc TEXT NOT NULL,
    LastUtc TEXT NOT NULL,
    Occurrences INTEGER NOT NULL DEFAULT 1,
    ClosedUtc TEXT NULL,
    ClosedBy TEXT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_AdminAlert_Kind_Subject_Open ON AdminAlert (Kind, Subject) WHERE ClosedUtc IS NULL;
CREATE INDEX IF NOT EXISTS IX_AdminAlert_LastUtc ON AdminAlert (LastUtc);
