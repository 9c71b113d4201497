#!/usr/bin/python3
# A third-party RTSP camera for the tests and the media benchmark: GStreamer's gst-rtsp-server from Debian's
# packages (gir1.2-gst-rtsp-server-1.0, python3-gi, x264enc from gstreamer1.0-plugins-ugly, clockoverlay from
# gstreamer1.0-x). Serves rtsp://127.0.0.1:PORT/gate: 640x360 H.264 Constrained Baseline, 25 fps, a 2 s GOP and a
# visible clock, live and shared by every client (as a camera is), SPS/PPS repeated in-band, RTP over TCP or UDP.
# GStreamer's RTP session turns an RTCP PLI or FIR about its stream into a force-key-unit request to the encoder,
# which then starts a new GOP; each such request reaching the encoder prints "KEYUNIT" on stdout.
# Usage: gst-rtsp-server.py PORT [--ignore-keyframe-requests] [--keep-encoder-on-play] [--bitrate=KBPS]   (the first
# flag drops the requests before the encoder, as a camera that ignores RTCP feedback would; the second keeps a PLAY's
# Range from restarting the encoder, see below; the bitrate is x264's target, 800 kbit/s unless given, e.g. a
# sub-stream's 384). Run with Debian's /usr/bin/python3 (it has gi).
import socket
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ignore = "--ignore-keyframe-requests" in sys.argv[2:]
keep_encoder = "--keep-encoder-on-play" in sys.argv[2:]
bitrate = next((int(a.split("=", 1)[1]) for a in sys.argv[2:] if a.startswith("--bitrate=")), 800)


def on_upstream_event(pad, info):
    event = info.get_event()
    if event.type == Gst.EventType.CUSTOM_UPSTREAM and event.has_name("GstForceKeyUnit"):
        print("KEYUNIT ignored" if ignore else "KEYUNIT", flush=True)
        if ignore:
            return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def on_downstream_event(pad, info):
    event = info.get_event()
    if event.type == Gst.EventType.CUSTOM_DOWNSTREAM and event.has_name("GstForceKeyUnit"):
        print("KEYUNIT downstream ignored" if ignore else "KEYUNIT downstream", flush=True)
        if ignore:
            return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def on_media_configure(factory, media):
    encoder = media.get_element().get_by_name("enc")
    encoder.get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_UPSTREAM, on_upstream_event)
    encoder.get_static_pad("sink").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_downstream_event)


# A PLAY with a Range (npt=0.000-, as most clients send, the portal too) makes gst-rtsp-server seek the shared live
# media, and the seek restarts the encoder with an IDR: every new viewer would get a keyframe at once, whatever its
# keyframe requests. An IP camera does not restart its encoder for a new viewer, so with --keep-encoder-on-play the server listens on a port of its own and the public port is a relay that takes the Range header off
# each PLAY request (RTSP over TCP: requests, and RTP/RTCP frames interleaved after '$', both passed on as they are).
def shut_both(*sockets):
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay_client_to_server(src, dst):
    buffer = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            buffer += data
            out = b""
            while buffer:
                if buffer[0] == 0x24:  # '$': an interleaved frame, 4-byte header and its length
                    if len(buffer) < 4 or len(buffer) < 4 + int.from_bytes(buffer[2:4], "big"):
                        break
                    size = 4 + int.from_bytes(buffer[2:4], "big")
                    out, buffer = out + buffer[:size], buffer[size:]
                    continue
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, rest = buffer[:end + 4], buffer[end + 4:]
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if len(rest) < length:
                    break
                if head.startswith(b"PLAY "):
                    kept = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"range:")]
                    if len(kept) != len(head.split(b"\r\n")):
                        print("RANGE ignored", flush=True)
                    head = b"\r\n".join(kept)
                out, buffer = out + head + rest[:length], rest[length:]
            if out:
                dst.sendall(out)
    except OSError:
        pass
    finally:
        shut_both(src, dst)


def relay_server_to_client(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        shut_both(src, dst)


def start_range_filter(public_port, server_port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", public_port))
    listener.listen(64)

    def accept():
        while True:
            client, _ = listener.accept()
            upstream = socket.create_connection(("127.0.0.1", server_port))
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=relay_client_to_server, args=(client, upstream), daemon=True).start()
            threading.Thread(target=relay_server_to_client, args=(upstream, client), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


Gst.init(None)
server = GstRtspServer.RTSPServer()

server.set_address("127.0.0.1")
server.set_service("0" if keep_encoder else sys.argv[1])
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
if keep_encoder:
    start_range_filter(int(sys.argv[1]), server.get_bound_port())
print("READY", flush=True)
GLib.MainLoop().run()
