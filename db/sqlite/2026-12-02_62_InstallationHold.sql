-- An installation step whose serial differs from the registry's device is held here for an administrator's
-- confirmation instead of rewriting the device: the serial is the device's identity (its key, its SIP account),
-- and a typo would make the real terminal an unknown device. Confirmed, the step is recorded and the device
-- takes the new serial; rejected, nothing changes and the school records the step again.
CREATE TABLE IF NOT EXISTS InstallationHold (
    Id INTEGER NOT NULL CONSTRAINT PK_InstallationHold PRIMARY KEY AUTOINCREMENT,
    SchoolId INTEGER NOT NULL CONSTRAINT FK_InstallationHold_School REFERENCES School (Id),
    -- 1 terminal installed, 2 camera installed (the steps that carry a serial)
    Step INTEGER NOT NULL,
    DeviceId INTEGER NOT NULL CONSTRAINT FK_InstallationHold_Device REFERENCES Device (Id),
    RegistrySerial TEXT NOT NULL,
    InstalledSerial TEXT NOT NULL,
    DoneUtc TEXT NOT NULL,
    DoneBy TEXT NOT NULL,
    Notes TEXT NULL,
    CreatedUtc TEXT NOT NULL,
    -- 0 waiting, 1 confirmed, 2 rejected
    State INTEGER NOT NULL,
    ResolvedUtc TEXT NULL,
    ResolvedBy TEXT NULL
);
CREATE INDEX IF NOT EXISTS IX_InstallationHold_State ON InstallationHold (State);
-- One waiting hold per school and step.
CREATE UNIQUE INDEX IF NOT EXISTS UX_InstallationHold_SchoolId_Step_Waiting ON InstallationHold (SchoolId, Step) WHERE State = 0;
