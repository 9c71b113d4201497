-- RTSP Basic authentication is answered only for cameras explicitly allowed it (issue #14): on plain RTSP it sends the
-- password in the clear, so a spoofed camera could harvest it. Digest is always used; existing cameras stay on it.
ALTER TABLE Device ADD COLUMN RtspAllowBasicAuth INTEGER NOT NULL DEFAULT 0;
