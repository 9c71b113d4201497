-- Signed HTTP heartbeats (POST /api/device/heartbeat). LastSeenUtc (server time of the newest sighting of any kind)
-- is what the health checks read; LastHeartbeatUtc is the device's own signed X-Timestamp of its newest accepted
-- heartbeat, so a replayed heartbeat (no newer than it) is refused even after a restart or at another instance.
ALTER TABLE Device ADD COLUMN LastHeartbeatUtc TEXT NULL;
