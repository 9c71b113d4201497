-- Account flags for user administration and session policy: disabled accounts, a forced password change after a
-- reset, and two-factor sign-in required for one user (beside the role policy in configuration).
IF COL_LENGTH(N'dbo.AspNetUsers', N'IsDisabled') IS NULL
ALTER TABLE dbo.AspNetUsers ADD IsDisabled BIT NOT NULL CONSTRAINT DF_AspNetUsers_IsDisabled DEFAULT 0;
GO
IF COL_LENGTH(N'dbo.AspNetUsers', N'MustChangePassword') IS NULL
ALTER TABLE dbo.AspNetUsers ADD MustChangePassword BIT NOT NULL CONSTRAINT DF_AspNetUsers_MustChangePassword DEFAULT 0;
GO
IF COL_LENGTH(N'dbo.AspNetUsers', N'RequireTwoFactor') IS NULL
ALTER TABLE dbo.AspNetUsers ADD RequireTwoFactor BIT NOT NULL CONSTRAINT DF_AspNetUsers_RequireTwoFactor DEFAULT 0;
GO
