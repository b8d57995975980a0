"""The adapter contract suite: one set of checks every camera-system adapter passes against a fake of its system
speaking the vendor's documented protocol over real HTTP and RTSP on 127.0.0.1 (``test_contract.py``).

Each adapter contributes a *rig* (``rigs.py``): a :class:`~tests.adapters.contract.rigs.RigKind` naming what the
system offers (live RTSP video, snapshots, recordings) and a ``start(env)`` context manager that starts the fake
system and yields a :class:`~tests.adapters.contract.rigs.Rig`:

- ``build(right_password=True)``: a new adapter for the fake system (``False``: a wrong password);
- ``set_fault(None | "hang" | "malformed")``: the fake accepts requests and never answers, or answers with
  broken documents, until set back to ``None``;
- ``expected``: the ``(ref, name)`` pairs ``discover()`` must list, in order; ``missing_ref``: a ref the
  system does not have;
- ``secret``: the right password (checked never to appear in a repr, a str or an error);
- ``timeout_seconds``: the adapter's configured timeout; ``malformed``: a regex the error for a malformed
  answer must match (it says what was wrong).

To add a rig: write ``rig_<name>.py`` with a ``KIND`` and add it to :data:`~tests.adapters.contract.rigs.RIGS`.
ffmpeg reads each adapter's RTSP source directly (``test_contract.py``) and through the broker, where the RTSP
gateway (``broker/gateway/``) offers it as HLS (``test_through_broker.py``, served by ``through.py``).
"""
