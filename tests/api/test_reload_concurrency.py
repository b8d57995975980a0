"""Requests running during reloads each get a decision from the old policy or the new one, never a mix."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

from broker.policy import Principal
from tests.api.support import MOUS, Api

ROUNDS = 12


def test_decisions_during_reloads_come_from_one_whole_policy(make_api, tmp_path: Path) -> None:
    docs = tmp_path / "mou"
    shutil.copytree(MOUS, docs)
    inventory = tmp_path / "inventory.yaml"
    mou = docs / "mou-ncps-ncpd.yaml"
    # Set A: saxe-ext-01 is exterior, seen under G1 (exterior). Set B: it is interior, seen under G1B (interior).
    # Either half of one with half of the other denies it (no_matching_grant, or no_emergency).
    inv_a, mou_a = inventory.read_text(), mou.read_text()
    inv_b = inv_a.replace("{id: saxe-ext-01, name: Main entrance, site: ncps-saxe, building: main, zone: exterior",
                          "{id: saxe-ext-01, name: Main entrance, site: ncps-saxe, building: main, zone: interior")  # fmt: skip
    mou_b = mou_a.replace("  - id: G1\n    clause: \"4.1\"\n    agency: ncpd\n    roles: [officer, dispatcher, supervisor]\n    zones: [exterior]",
                          "  - id: G1B\n    clause: \"4.1\"\n    agency: ncpd\n    roles: [officer, dispatcher, supervisor]\n    zones: [interior]")  # fmt: skip
    assert inv_b != inv_a and mou_b != mou_a
    with make_api(policy={"inventory": inventory, "mous": [docs]}) as api:
        api: Api
        officer = Principal.of("officer-17", "ncpd", ["officer"])
        seen: Counter[tuple[bool, str | None, str | None]] = Counter()
        stop = threading.Event()
        errors: list[BaseException] = []

        def decide() -> None:
            try:
                while not stop.is_set():
                    d = api.services.guard.decide(officer, "saxe-ext-01", "live")
                    seen[(d.allowed, d.grant, d.reason if not d.allowed else None)] += 1
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        def over_http() -> None:
            try:
                while not stop.is_set():
                    live = api.cameras("officer")["saxe-ext-01"]["live"]
                    seen[(live["allowed"], live.get("grant"), live.get("reason") if not live["allowed"] else None)] += 1
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=decide) for _ in range(3)] + [threading.Thread(target=over_http)]
        for w in workers:
            w.start()
        try:
            for i in range(ROUNDS):
                b = i % 2 == 0
                inventory.write_text(inv_b if b else inv_a)
                mou.write_text(mou_b if b else mou_a)
                api.services.reloader.reload("test")
        finally:
            stop.set()
            for w in workers:
                w.join(timeout=30)
        assert not errors, errors
        assert api.services.live.generation == ROUNDS
        assert set(seen) <= {(True, "G1", None), (True, "G1B", None)}, seen
        assert seen[(True, "G1", None)] > 0 and seen[(True, "G1B", None)] > 0, seen  # both policies were served
