-- Issue #15, item 3: pre-warm for gate cameras that ignore keyframe requests. A camera may have a low-rate sub-stream
-- (set by an administrator; nothing is derived from the main URL), and a district or a school may ask for it to be kept
-- pulled. A school's own row wins over its district's; no row at either means off.
ALTER TABLE Device ADD COLUMN RtspSubStreamUrl TEXT NULL;

CREATE TABLE IF NOT EXISTS GateCameraPrewarm (
    Id INTEGER NOT NULL CONSTRAINT PK_GateCameraPrewarm PRIMARY KEY AUTOINCREMENT,
    DistrictId INTEGER NULL CONSTRAINT FK_GateCameraPrewarm_District REFERENCES District (Id),
    SchoolId INTEGER NULL CONSTRAINT FK_GateCameraPrewarm_School REFERENCES School (Id),
    Enabled INTEGER NOT NULL,
    UpdatedUtc TEXT NOT NULL,
    UpdatedBy TEXT NOT NULL,
    CONSTRAINT CK_GateCameraPrewarm_OneScope CHECK ((DistrictId IS NULL) <> (SchoolId IS NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS UX_GateCameraPrewarm_DistrictId ON GateCameraPrewarm (DistrictId) WHERE DistrictId IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS UX_GateCameraPrewarm_SchoolId ON GateCameraPrewarm (SchoolId) WHERE SchoolId IS NOT NULL;
