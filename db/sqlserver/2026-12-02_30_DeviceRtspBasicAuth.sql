-- RTSP Basic authentication is answered only for cameras explicitly allowed it (issue #14): on plain RTSP it sends the
-- password in the clear, so a spoofed camera could harvest it. Digest is always used; existing cameras stay on it.
IF COL_LENGTH(N'dbo.Device', N'RtspAllowBasicAuth') IS NULL
ALTER TABLE dbo.Device ADD RtspAllowBasicAuth BIT NOT NULL CONSTRAINT DF_Device_RtspAllowBasicAuth DEFAULT 0;
GO
