-- Refused device requests, counted per minute, source address and reason instead of a SecurityLog row each (issue 14:
-- a flood of unsigned requests wrote one durable row per request into the alarms' write lock). Bounded: within a
-- minute, addresses beyond a cap are folded into RemoteAddress 'other'. Kept 30 days (DeviceRefusalRetentionJob).
IF OBJECT_ID(N'dbo.DeviceRefusalCount', N'U') IS NULL
CREATE TABLE dbo.DeviceRefusalCount (
    MinuteUtc DATETIME2 NOT NULL,
    RemoteAddress NVARCHAR(64) NOT NULL,
    -- Unauthorized reasons (UnknownDevice, BadSignature, Stale, Disabled, NoKey), Malformed, Replay, RateLimited, ...
    Reason NVARCHAR(32) NOT NULL,
    Requests BIGINT NOT NULL,
    CONSTRAINT PK_DeviceRefusalCount PRIMARY KEY (MinuteUtc, RemoteAddress, Reason)
);
GO
