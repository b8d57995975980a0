"""The adapter contract suite: one set of checks every camera-system adapter passes against a fake of its system
speaking the vendor's documented protocol over real HTTP and RTSP on 127.0.0.1 (``test_contract.py``), and again
through a real broker (``test_through_broker.py``, served by ``through.py``: ffmpeg reads live video through
``live.m3u8`` and recorded footage through ``playback.m3u8``).

Each adapter contributes a *rig* (``rig_<name>.py``): a :class:`~tests.adapters.contract.rigs.RigKind` stating what
the system offers, and a ``start(env)`` context manager that starts the fake system (once per test module) and
yields a :class:`~tests.adapters.contract.rigs.Rig`:

- ``build(right_password=True)``: a new adapter for the fake system (``False``: a wrong password);
- ``set_fault(None | "hang" | "malformed")``: the fake accepts requests and never answers, or answers with
  broken documents, until set back to ``None`` (a system reached by RTSP alone: adapters built meanwhile reach a
  camera with that fault; a folder: a malformed file lands in it);
- ``expected``: the ``(ref, name)`` pairs of the system's cameras (what ``discover()`` lists, in order);
  ``missing_ref``: a ref the system does not have; ``window``: when its recorded footage is;
- ``secret``: the right password (in no repr, str, error or broker answer), None for a folder;
- ``timeout_seconds``: the adapter's configured timeout; ``malformed``: a regex the error (or the reported
  problem) for a malformed answer must match (it says what was wrong); ``spec``: for checks in another process.

What each kind offers, as the six rigs state it (a check runs for the rigs it applies to; none is skipped):

======== ======= ===== ============= ======== ========================== ====================================
rig      serves  lists live          snapshot recorded footage           credentials, timeout, malformed at
======== ======= ===== ============= ======== ========================== ====================================
axis     rtsp    yes   RTSP          yes      the gateway's              the adapter's HTTP requests
hikvision rtsp   yes   RTSP          yes      the gateway's              the adapter's HTTP requests
onvif    rtsp    yes   RTSP          yes      the gateway's              the adapter's SOAP requests
rtsp     rtsp    no    RTSP          no       the gateway's              the RTSP stream (through the broker)
hls      hls     no    HLS over HTTP yes      the VMS's recording        the adapter's HTTP requests
evidence hls     yes   no            no       the exported clips         the folder: permissions, bad files
======== ======= ===== ============= ======== ========================== ====================================

To add a rig: write ``rig_<name>.py`` with a ``KIND`` and add it to :func:`~tests.adapters.contract.rigs._kinds`.

Independent checks: a system nobody on this project wrote, against an adapter: ``test_ipycam.py`` runs the onvif
adapter (and a broker) against ``ipycam``'s ONVIF service (PyPI).
"""
