"""The collector is paused inside gc_paused (nested, from threads) and restored as it was after."""

from __future__ import annotations

import gc
import threading

from broker.gcpause import gc_paused


def test_paused_inside_restored_after_nesting_and_threads() -> None:
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            entered.set()
            release.wait(10)

    with gc_paused():
        assert not gc.isenabled()
        t = threading.Thread(target=other)
        t.start()
        assert entered.wait(10)
    assert not gc.isenabled()  # the other thread is still loading
    release.set()
    t.join(10)
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled_and_errors_restore_it() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
