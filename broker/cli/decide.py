"""``camgate decide``: batch decisions over JSON Lines (access contract, section 5)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from broker.documents import load_inventory, load_mous
from broker.errors import DocumentError, InvalidRequest
from broker.policy import DecisionPoint, compile_policy
from broker.policy.compile import Rosters
from broker.policy.wire import parse_request

DEFAULT_MODEL = Path(
    os.environ.get("CAMGATE_POLICY__MODEL") or Path(__file__).resolve().parents[2] / "policies" / "model.conf"
)


def decide_lines(pdp: DecisionPoint, lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield json.dumps({"error": f"invalid JSON: {exc.msg} (column {exc.colno})"})
            continue
        try:
            req = parse_request(obj)
        except InvalidRequest as exc:
            yield json.dumps({"error": exc.message})
            continue
        yield json.dumps(pdp.decide(req).to_dict())


def load_pdp(
    inventory: str, mou_paths: list[str], model: Path = DEFAULT_MODEL, rosters: Rosters | None = None
) -> DecisionPoint:
    inv = load_inventory(inventory)
    mous = load_mous(mou_paths, inv)
    return DecisionPoint(compile_policy(inv, mous, model.read_text(encoding="utf-8"), rosters))


def run(
    inventory: str, mou_paths: list[str], requests: str | None, out: TextIO | None = None, roster: str | None = None
) -> int:
    out = out or sys.stdout
    try:
        rosters = read_rosters(roster) if roster is not None else None
        pdp = load_pdp(inventory, mou_paths, rosters=rosters)
    except DocumentError as exc:
        print("\n".join(exc.lines()), file=sys.stderr)
        return 2
    except InvalidRequest as exc:
        print(f"{roster}: {exc.message}", file=sys.stderr)
        return 2
    if requests is None or requests == "-":
        source: Iterable[str] = sys.stdin
    else:
        try:
            source = Path(requests).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            print(f"{requests}: cannot read: {exc.strerror}", file=sys.stderr)
            return 2
    for answer in decide_lines(pdp, source):
        out.write(answer + "\n")
    out.flush()
    return 0


def read_rosters(path: str) -> Rosters:
    """``--roster FILE``: ``{"<mou>": [{"agency", "sub", "name"}, ...]}`` (contract section 5); InvalidRequest."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidRequest(f"cannot read: {exc.strerror}", field="roster") from None
    except ValueError as exc:
        raise InvalidRequest(f"invalid JSON: {exc}", field="roster") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("expected an object: MOU id -> entries", field="roster")
    out: dict[str, frozenset[tuple[str, str]]] = {}
    for mou, entries in raw.items():
        if not isinstance(entries, list):
            raise InvalidRequest(f"{mou}: expected a list of entries", field=mou)
        pairs = set()
        for i, e in enumerate(entries):
            if not (isinstance(e, dict) and isinstance(e.get("agency"), str) and isinstance(e.get("sub"), str)):
                raise InvalidRequest(f"{mou}[{i}]: an entry is {{agency, sub, name}}", field=f"{mou}[{i}]")
            pairs.add((e["agency"], e["sub"]))
        out[mou] = frozenset(pairs)
    return out
