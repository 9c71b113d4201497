-- Refused device requests, counted per minute, source address and reason instead of a SecurityLog row each (issue 14:
-- a flood of unsigned requests wrote one durable row per request into the alarms' write lock). Bounded: within a
-- minute, addresses beyond a cap are folded into RemoteAddress 'other'. Kept 30 days (DeviceRefusalRetentionJob).
CREATE TABLE IF NOT EXISTS DeviceRefusalCount (
    MinuteUtc TEXT NOT NULL,
    RemoteAddress TEXT NOT NULL,
    -- Unauthorized reasons (UnknownDevice, BadSignature, Stale, Disabled, NoKey), Malformed, Replay, RateLimited, ...
    Reason TEXT NOT NULL,
    Requests INTEGER NOT NULL,
    CONSTRAINT PK_DeviceRefusalCount PRIMARY KEY (MinuteUtc, RemoteAddress, Reason)
);
