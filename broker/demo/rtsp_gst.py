"""The demo's RTSP camera server: GStreamer's gst-rtsp-server (not written here), run by Debian's python3.

Run by :class:`broker.demo.rtspcam.DemoRtspCameras` with ``/usr/bin/python3`` (``python3-gi``,
``gir1.2-gst-rtsp-server-1.0``: ``make rtsp-server`` installs them), never imported by the broker::

    /usr/bin/python3 broker/demo/rtsp_gst.py --port 9554 --mount /saxe-bus-loop=5004

Each mount re-sends as RTP over RTSP (RFC 7826, RFC 6184) the H.264 an ffmpeg encoder sends to its UDP port as
RTP; one shared media per mount, as a camera's is. Anonymous, like many cameras on an isolated VLAN. Prints
``ready`` once listening.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    '( udpsrc port={udp} caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96" '
    "! rtpjitterbuffer latency=50 ! rtph264depay ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True)
    parser.add_argument("--mount", action="append", required=True, help="/path=udp_port")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(args.port)
    mounts = server.get_mount_points()
    for spec in args.mount:
        path, _, udp = spec.partition("=")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE.format(udp=int(udp)))
        factory.set_shared(True)
        mounts.add_factory(path, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
