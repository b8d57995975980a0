"""RTSP cameras on GStreamer's gst-rtsp-server (not written here), configured here: the demo's RTSP camera
(:class:`broker.demo.rtspcam.DemoRtspCameras`, anonymous, like many cameras on an isolated VLAN) and the tests'
(:class:`tests.fakes.rtsp.FakeRtspCamera`, with Digest authentication).

Run by Debian's ``/usr/bin/python3`` (``python3-gi``, ``gir1.2-gst-rtsp-server-1.0``; ``make rtsp-server``
installs them), never imported by the broker::

    /usr/bin/python3 broker/demo/rtsp_gst.py --port 8554 --mount /cam1=5004 --mount /cam2=5006 \
        [--user camgate --password-stdin] < password-file

Each mount re-sends, as RTP over RTSP (RFC 7826, RFC 6184), the MPEG-TS with H.264 that an ffmpeg feeder sends
to its UDP port (``udpsrc`` then ``tsdemux``, ``h264parse``, ``rtph264pay``). A mount's media is shared by all of
its clients, as a camera's is. With ``--user``, RTSP Digest authentication is required (RFC 2617 as RTSP uses it);
the password is the first line of standard input (``--password-stdin``), never an argument: arguments are
readable by every local user (``/proc/PID/cmdline``).
Prints ``ready`` once listening, then ``client <n>`` on every client connection (n counts connections so far).
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PIPELINE = (
    '( udpsrc port={udp} caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96" '
    "! rtpjitterbuffer latency=50 ! rtph264depay ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True)
    parser.add_argument("--mount", action="append", required=True, help="/path=udp_port")
    parser.add_argument("--user")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else ""
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(args.port)
    permissions = None
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_digest(args.user, password, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        role = "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        permissions.add_role_from_structure(Gst.Structure.from_string(role)[0])
    mounts = server.get_mount_points()
    for spec in args.mount:
        path, _, udp = spec.partition("=")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE.format(udp=int(udp)))
        factory.set_shared(True)
        if permissions is not None:
            factory.set_permissions(permissions)
        mounts.add_factory(path, factory)
    clients = [0]

    def connected(_server: object, _client: object) -> None:
        clients[0] += 1
        print(f"client {clients[0]}", flush=True)

    server.connect("client-connected", connected)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
