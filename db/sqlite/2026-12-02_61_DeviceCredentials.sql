-- Device credentials administered in the portal: when the device API key was issued, the previous key that
-- stays valid for a short overlap after a rotation (so a terminal being re-keyed misses no alarm), and the
-- flag a registry import sets when a terminal's identity (serial) changed and it needs a new key.

-- The key replaced by the last rotation, encrypted with Data Protection like ApiKeyProtected.
ALTER TABLE Device ADD COLUMN ApiKeyPreviousProtected TEXT NULL;
-- Until when the previous key is still accepted; NULL or past: not at all.
ALTER TABLE Device ADD COLUMN ApiKeyPreviousUntilUtc TEXT NULL;
ALTER TABLE Device ADD COLUMN ApiKeyIssuedUtc TEXT NULL;
-- 1 when the device's serial changed (new hardware) and an administrator should issue it a new key.
ALTER TABLE Device ADD COLUMN RekeyRequired INTEGER NOT NULL DEFAULT 0;
