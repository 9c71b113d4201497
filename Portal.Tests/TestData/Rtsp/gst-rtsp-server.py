#!/usr/bin/python3
# A third-party RTSP server for the camera tests: GStreamer's gst-rtsp-server from Debian's packages
# (gir1.2-gst-rtsp-server-1.0, python3-gi, x264enc from gstreamer1.0-plugins-ugly, clockoverlay from
# gstreamer1.0-x). Serves rtsp://127.0.0.1:PORT/gate: 640x360 H.264 Constrained Baseline, 25 fps, a 2 s GOP
# and a visible clock, live, SPS/PPS repeated in-band. Run with Debian's /usr/bin/python3 (it has gi).
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=25/1 ! clockoverlay "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=50 bitrate=800 "
    "! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
factory.set_shared(True)
server.get_mount_points().add_factory("/gate", factory)
if server.attach(None) == 0:
    sys.exit("could not bind the RTSP port")
print("READY", flush=True)
GLib.MainLoop().run()
