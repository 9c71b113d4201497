-- Account flags for user administration and session policy: disabled accounts, a forced password change after a
-- reset, and two-factor sign-in required for one user (beside the role policy in configuration).
ALTER TABLE "AspNetUsers" ADD COLUMN "IsDisabled" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "AspNetUsers" ADD COLUMN "MustChangePassword" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "AspNetUsers" ADD COLUMN "RequireTwoFactor" INTEGER NOT NULL DEFAULT 0;
