#!/usr/bin/python3
# A third-party RTSP camera for the tests and the media benchmark: GStreamer's gst-rtsp-server from Debian's
# packages (gir1.2-gst-rtsp-server-1.0, python3-gi, x264enc from gstreamer1.0-plugins-ugly, clockoverlay from
# gstreamer1.0-x). Serves rtsp://127.0.0.1:PORT/gate: 640x360 H.264 Constrained Baseline, 25 fps, a 2 s GOP and a
# visible clock, live and shared by every client (as a camera is), SPS/PPS repeated in-band, RTP over TCP or UDP.
# GStreamer's RTP session turns an RTCP PLI or FIR about its stream into a force-key-unit request to the encoder,
# which then starts a new GOP; each such request reaching the encoder prints "KEYUNIT" on stdout.
# Usage: gst-rtsp-server.py PORT [--ignore-keyframe-requests] [--bitrate=KBPS]   (the flag drops the requests before the
# encoder, as a camera that ignores RTCP feedback would; the bitrate is x264's target, 800 kbit/s unless given, e.g. a
# sub-stream's 384). Run with Debian's /usr/bin/python3 (it has gi).
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ignore = "--ignore-keyframe-requests" in sys.argv[2:]
bitrate = next((int(a.split("=", 1)[1]) for a in sys.argv[2:] if a.startswith("--bitrate=")), 800)


def on_upstream_event(pad, info):
    event = info.get_event()
    if event.type == Gst.EventType.CUSTOM_UPSTREAM and event.has_name("GstForceKeyUnit"):
        print("KEYUNIT ignored" if ignore else "KEYUNIT", flush=True)
        if ignore:
            return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def on_media_configure(factory, media):
    encoder = media.get_element().get_by_name("enc")
    encoder.get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_UPSTREAM, on_upstream_event)


Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[1])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=25/1 ! clockoverlay "
    f"! x264enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max=50 bitrate={bitrate} "
    "! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
factory.set_shared(True)
factory.connect("media-configure", on_media_configure)
server.get_mount_points().add_factory("/gate", factory)
if server.attach(None) == 0:
    sys.exit("could not bind the RTSP port")
print("READY", flush=True)
GLib.MainLoop().run()
