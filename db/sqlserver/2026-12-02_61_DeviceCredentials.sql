-- Device credentials administered in the portal: when the device API key was issued, the previous key that
-- stays valid for a short overlap after a rotation (so a terminal being re-keyed misses no alarm), and the
-- flag a registry import sets when a terminal's identity (serial) changed and it needs a new key.

-- The key replaced by the last rotation, encrypted with Data Protection like ApiKeyProtected.
IF COL_LENGTH(N'dbo.Device', N'ApiKeyPreviousProtected') IS NULL
ALTER TABLE dbo.Device ADD ApiKeyPreviousProtected NVARCHAR(1024) NULL;
GO
-- Until when the previous key is still accepted; NULL or past: not at all.
IF COL_LENGTH(N'dbo.Device', N'ApiKeyPreviousUntilUtc') IS NULL
ALTER TABLE dbo.Device ADD ApiKeyPreviousUntilUtc DATETIME2 NULL;
GO
IF COL_LENGTH(N'dbo.Device', N'ApiKeyIssuedUtc') IS NULL
ALTER TABLE dbo.Device ADD ApiKeyIssuedUtc DATETIME2 NULL;
GO
-- 1 when the device's serial changed (new hardware) and an administrator should issue it a new key.
IF COL_LENGTH(N'dbo.Device', N'RekeyRequired') IS NULL
ALTER TABLE dbo.Device ADD RekeyRequired BIT NOT NULL CONSTRAINT DF_Device_RekeyRequired DEFAULT 0;
GO
