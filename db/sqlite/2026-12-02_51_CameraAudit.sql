-- One audit log of every camera action and every video view: who, which school, when, from where, and whether
-- it happened in an alarm's pop-up (AlarmId), on the school page or on the camera wall (Origin). No foreign keys:
-- the audit outlives the devices and schools it names.
CREATE TABLE IF NOT EXISTS CameraAudit (
    Id INTEGER NOT NULL CONSTRAINT PK_CameraAudit PRIMARY KEY AUTOINCREMENT,
    AtUtc TEXT NOT NULL,
    UserId INTEGER NOT NULL,
    UserName TEXT NOT NULL,
    Role TEXT NOT NULL,
    SchoolId INTEGER NOT NULL,
    DeviceId INTEGER NULL,
    AlarmId INTEGER NULL,
    -- 0 alarm pop-up, 1 school page, 2 camera wall
    Origin INTEGER NOT NULL,
    -- 0 video view, 1 PTZ move, 2 PTZ stop, 3 preset, 4 warning light/siren on, 5 warning light/siren off
    Action INTEGER NOT NULL,
    Detail TEXT NULL,
    RemoteAddress TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_CameraAudit_AtUtc ON CameraAudit (AtUtc);
CREATE INDEX IF NOT EXISTS IX_CameraAudit_SchoolId_AtUtc ON CameraAudit (SchoolId, AtUtc);
CREATE INDEX IF NOT EXISTS IX_CameraAudit_UserId_AtUtc ON CameraAudit (UserId, AtUtc);
