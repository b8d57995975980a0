"""The simulated VMS's encoders (broker/demo/encoders.py) as processes: out of the demo's process group, so the
terminal's Ctrl-C (SIGINT to the foreground process group) reaches only camgate, which stops them itself. They
were in it: each was killed by the Ctrl-C, logged "encoder for … exited with 255; restarting" and was started
again by the recorder while the demo stopped."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx

from broker.demo.vms import SimulatedVms


def test_an_encoder_is_out_of_the_demos_process_group(make_vms: Callable[..., tuple[SimulatedVms, str]]) -> None:
    vms, url = make_vms()
    assert httpx.get(f"{url}cam-a/index.m3u8", timeout=30).status_code == 200
    pid = vms.encoder_pid("cam-a")
    assert pid is not None
    assert os.getpgid(pid) != os.getpgid(0)  # a Ctrl-C at the demo's terminal does not reach it
    vms.stop()
    assert vms.encoder_pid("cam-a") is None  # camgate stops it itself
