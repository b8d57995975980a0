"""Reading document files: every problem becomes ``FILE:LINE: path.to.field: message`` (section 2)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from broker.documents.inventory import Inventory, InventoryIndex, check_inventory
from broker.documents.mou import Mou, check_mou
from broker.documents.warnings import DocumentWarning, MouSource, period_warnings, zone_warnings
from broker.documents.yamlsrc import Located, YamlSyntaxError, dotted, load_located
from broker.errors import DocumentError
from broker.gcpause import gc_paused

M = TypeVar("M", bound=BaseModel)
FileIssue = tuple[str, int, str, str]
_LITERAL_NOUNS = {
    "actions": "action",
    "days": "weekday",
    "when": "when",
    "kind": "agency kind",
    "require": "required field",
}
MAX_DOCUMENT_BYTES = 64 << 20  # about 350,000 cameras in one inventory; refuses runaway files


def _message(err: Mapping[str, Any]) -> str:
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r}"
    if kind == "missing":
        return "required field missing"
    if kind == "literal_error":
        noun = next((n for p, n in _LITERAL_NOUNS.items() if p in loc), "value")
        return f"unknown {noun} {value!r} ({err['msg'].removeprefix('Input should be ')})"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _validate(model: type[M], located: Located, name: str) -> tuple[M | None, list[FileIssue]]:
    issues: list[FileIssue] = [(name, line, dotted(p), f"duplicate key {p[-1]!r}") for p, line in located.duplicates]
    if not isinstance(located.data, dict):
        got = "an empty file" if located.data is None else type(located.data).__name__
        return None, [*issues, (name, 1, "(document)", f"expected a mapping at the top level, got {got}")]
    try:
        return model.model_validate(located.data), issues
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            issues.append((name, located.line_of(loc), dotted(loc), _message(err)))
        return None, issues


@dataclass
class DocumentSet:
    """The inventory and MOUs read together, with the SHA-256 of every file's bytes as they were parsed."""

    inventory: Inventory | None = None
    mous: list[Mou] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # file name -> hex SHA-256
    issues: list[FileIssue] = field(default_factory=list)
    inventory_lines: Located | None = None  # line marks of the inventory, for errors found after loading
    mou_sources: dict[str, MouSource] = field(default_factory=dict)  # mou id -> its file and lines
    zone_warnings: list[DocumentWarning] = field(default_factory=list)  # cameras whose zone no MOU defines
    # mou id -> (agency, sub) pairs of its roster in force, read from the store (issue 14, item 5); each roster's
    # SHA-256 is in ``digests`` as ``roster:<mou>``, so a roster change is a new document digest
    rosters: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)

    def warnings(self, now: datetime) -> list[DocumentWarning]:
        """What loads but silently shares less than meant (broker/documents/warnings.py), as of ``now``."""
        return period_warnings(self.mous, self.mou_sources, now) + self.zone_warnings

    @property
    def digest(self) -> str:
        """One SHA-256 over every file name and digest: equal for equal document sets."""
        listing = "".join(f"{name}\0{sha}\n" for name, sha in sorted(self.digests.items()))
        return hashlib.sha256(listing.encode()).hexdigest()

    def raise_for_issues(self) -> None:
        if self.issues or self.inventory is None:
            raise DocumentError(self.issues or [("(inventory)", 0, "(document)", "no inventory")])


def _read(path: Path, digests: dict[str, str] | None = None) -> tuple[Located | None, list[FileIssue]]:
    name = str(path)
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            return None, [(name, 1, "(document)", f"file larger than {MAX_DOCUMENT_BYTES} bytes")]
        raw = path.read_bytes()
        if digests is not None:
            digests[name] = hashlib.sha256(raw).hexdigest()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return None, [(name, 0, "(document)", "no such file")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [(name, 0, "(document)", f"cannot read: {exc}")]
    try:
        return load_located(text), []
    except YamlSyntaxError as exc:
        return None, [(name, exc.line, "(document)", str(exc))]


def _inventory(
    path: Path, digests: dict[str, str] | None = None
) -> tuple[Inventory | None, list[FileIssue], Located | None]:
    located, issues = _read(path, digests)
    if located is None:
        return None, issues, None
    inv, more = _checked_inventory(located, str(path))
    return inv, sorted(issues + more, key=lambda i: i[1]), located


def _checked_inventory(located: Located, name: str) -> tuple[Inventory | None, list[FileIssue]]:
    inv, issues = _validate(Inventory, located, name)
    if inv is not None:
        issues += [(name, located.line_of(p), dotted(p), m) for p, m in check_inventory(inv)]
    return (inv if not issues else None), sorted(issues, key=lambda i: i[1])


def read_inventory(path: Path) -> tuple[Inventory | None, list[FileIssue], Located | None]:
    """The inventory (None when invalid), every problem, and the line marks of the file."""
    with gc_paused():
        return _inventory(path)


def parse_inventory(text: str, name: str) -> Inventory:
    """An inventory from its text, validated as a file would be; :class:`DocumentError` lists every problem."""
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        raise DocumentError([(name, exc.line, "(document)", str(exc))]) from None
    inv, issues = _checked_inventory(located, name)
    if inv is None:
        raise DocumentError(issues)
    return inv


def mou_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to their ``*.yaml``/``*.yml`` files (sorted); keep files as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file())
        else:
            out.append(p)
    return out


def _mous(
    paths: Sequence[Path],
    inv: InventoryIndex | None,
    digests: dict[str, str] | None = None,
    sources: dict[str, MouSource] | None = None,
) -> tuple[list[Mou], list[FileIssue]]:
    mous: list[Mou] = []
    issues: list[FileIssue] = []
    seen: dict[str, str] = {}
    for path in paths:
        located, file_issues = _read(path, digests)
        _one_mou(located, file_issues, str(path), inv, seen, mous, sources)
        issues += sorted(file_issues, key=lambda i: i[1])
    return sorted(mous, key=lambda m: m.mou), issues


def _one_mou(
    located: Located | None,
    file_issues: list[FileIssue],
    name: str,
    inv: InventoryIndex | None,
    seen: dict[str, str],
    mous: list[Mou],
    sources: dict[str, MouSource] | None,
) -> None:
    """Validate one read MOU document; a valid one joins ``mous``, every problem joins ``file_issues``."""
    if located is None:
        return
    mou, more = _validate(Mou, located, name)
    file_issues += more
    if mou is None:
        return
    file_issues += [(name, located.line_of(p), dotted(p), m) for p, m in check_mou(mou, inv)]
    if mou.mou in seen:
        duplicate = f"duplicate mou id {mou.mou!r} (also in {seen[mou.mou]})"
        file_issues.append((name, located.line_of(("mou",)), "mou", duplicate))
    seen.setdefault(mou.mou, name)
    if not file_issues:
        mous.append(mou)
        if sources is not None:
            sources[mou.mou] = MouSource.of(name, located)


def _located_text(raw: bytes, name: str) -> tuple[Located | None, list[FileIssue]]:
    if len(raw) > MAX_DOCUMENT_BYTES:
        return None, [(name, 1, "(document)", f"larger than {MAX_DOCUMENT_BYTES} bytes")]
    try:
        return load_located(raw.decode("utf-8")), []
    except UnicodeDecodeError as exc:
        return None, [(name, 0, "(document)", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
    except YamlSyntaxError as exc:
        return None, [(name, exc.line, "(document)", str(exc))]


def parse_mou_text(raw: bytes, name: str, inv: InventoryIndex | None) -> tuple[Mou | None, list[FileIssue]]:
    """One MOU from its bytes (an API body, a stored version), validated exactly as ``camgate mou validate``
    validates a file named ``name``: every problem as (name, line, path, message)."""
    with gc_paused():
        located, issues = _located_text(raw, name)
        mous: list[Mou] = []
        _one_mou(located, issues, name, inv, {}, mous, None)
    return (mous[0] if mous else None), sorted(issues, key=lambda i: i[1])


InventoryRead = tuple[Inventory | None, list[FileIssue], Located | None, dict[str, str]]


def read_inventory_digested(path: str | Path) -> InventoryRead:
    """The inventory as :func:`read_inventory` reads it, and its file's digest (:func:`read_documents_with_texts`)."""
    digests: dict[str, str] = {}
    with gc_paused():
        inv, issues, located = _inventory(Path(path), digests)
    return inv, issues, located, digests


def read_documents_with_texts(
    inventory: str | Path, texts: Sequence[tuple[str, bytes]], read: InventoryRead | None = None
) -> DocumentSet:
    """:func:`read_documents` with the MOUs given as (name, bytes) rather than files: the versions the store keeps
    in force (broker/admin/mous/source.py). Digests are keyed by name. ``read``: the inventory read already."""
    out = DocumentSet()
    with gc_paused():
        inv, issues, located, digests = read if read is not None else read_inventory_digested(inventory)
        out.inventory, out.issues, out.inventory_lines = inv, list(issues), located
        out.digests.update(digests)
        index = out.inventory.index() if out.inventory is not None else None
        seen: dict[str, str] = {}
        for name, raw in texts:
            out.digests[name] = hashlib.sha256(raw).hexdigest()
            located, file_issues = _located_text(raw, name)
            _one_mou(located, file_issues, name, index, seen, out.mous, out.mou_sources)
            out.issues += sorted(file_issues, key=lambda i: i[1])
    out.mous.sort(key=lambda m: m.mou)
    if out.inventory is not None and not out.issues:
        out.zone_warnings = zone_warnings(out.inventory, out.mous, out.inventory_lines, str(inventory))
    return out


def validate_inventory_files(paths: Iterable[str | Path]) -> list[str]:
    lines: list[str] = []
    for p in paths:
        lines += DocumentError(_inventory(Path(p))[1]).lines()
    return lines


def validate_mou_files(paths: Iterable[str | Path], inventory: str | Path | None = None) -> list[str]:
    if inventory is not None:
        return DocumentError(read_documents(inventory, paths).issues).lines()
    return DocumentError(_mou_paths_issues(list(paths), None)[1]).lines()


def _mou_paths_issues(
    paths: Sequence[str | Path],
    inv: InventoryIndex | None,
    digests: dict[str, str] | None = None,
    sources: dict[str, MouSource] | None = None,
) -> tuple[list[Mou], list[FileIssue]]:
    files = mou_files(paths)
    missing: list[FileIssue] = []
    if not files:
        missing.append((", ".join(map(str, paths)) or "(none)", 0, "(document)", "no MOU files found"))
    mous, issues = _mous(files, inv, digests, sources)
    return mous, missing + issues


def read_documents(inventory: str | Path, mou_paths: Iterable[str | Path]) -> DocumentSet:
    """Read and validate the inventory and every MOU, collecting every problem (nothing raised).

    MOUs are checked against the inventory when it is valid, else on their own (so one reload answer
    lists the problems of every file).
    """
    out = DocumentSet()
    with gc_paused():
        out.inventory, out.issues, out.inventory_lines = _inventory(Path(inventory), out.digests)
        index = out.inventory.index() if out.inventory is not None else None
        out.mous, more = _mou_paths_issues(list(mou_paths), index, out.digests, out.mou_sources)
    out.issues += more
    if out.inventory is not None and not out.issues:
        out.zone_warnings = zone_warnings(out.inventory, out.mous, out.inventory_lines, str(inventory))
    return out


def mou_warnings(paths: Iterable[str | Path], now: datetime) -> list[DocumentWarning]:
    """The warnings of MOU files read on their own (no inventory: periods only); invalid files give none."""
    sources: dict[str, MouSource] = {}
    mous, _ = _mou_paths_issues(list(paths), None, None, sources)
    return period_warnings(mous, sources, now)


def load_documents(inventory: str | Path, mou_paths: Iterable[str | Path]) -> DocumentSet:
    """:func:`read_documents`, raising :class:`DocumentError` listing every problem."""
    docs = read_documents(inventory, mou_paths)
    docs.raise_for_issues()
    return docs


def load_inventory(path: str | Path) -> Inventory:
    with gc_paused():
        inv, issues, _ = _inventory(Path(path))
    if inv is None:
        raise DocumentError(issues)
    return inv


def load_mous(paths: Iterable[str | Path], inventory: Inventory) -> list[Mou]:
    """Every MOU under ``paths``, validated against ``inventory``, in ``mou`` id order."""
    mous, issues = _mous(mou_files(paths), inventory.index())
    if issues:
        raise DocumentError(issues)
    return mous


# -- camera classification (issue 14, item 7): the inventory as a text, validated as a reload would ---------------


def read_inventory_text(text: str, name: str) -> InventoryRead:
    """:func:`read_inventory_digested` of a text (the inventory file with classifications applied): its digest is
    the text's, keyed by ``name``."""
    raw = text.encode("utf-8")
    digests = {name: hashlib.sha256(raw).hexdigest()}
    with gc_paused():
        located, issues = _located_text(raw, name)
        if located is None:
            return None, issues, None, digests
        inv, more = _checked_inventory(located, name)
    return inv, sorted(issues + more, key=lambda i: i[1]), located, digests


def read_documents_over(read: InventoryRead, inventory: str | Path, mou_paths: Iterable[str | Path]) -> DocumentSet:
    """:func:`read_documents` with the inventory read already (``mous.source = "files"``)."""
    out = DocumentSet()
    with gc_paused():
        inv, issues, located, digests = read
        out.inventory, out.issues, out.inventory_lines = inv, list(issues), located
        out.digests.update(digests)
        index = out.inventory.index() if out.inventory is not None else None
        out.mous, more = _mou_paths_issues(list(mou_paths), index, out.digests, out.mou_sources)
    out.issues += more
    if out.inventory is not None and not out.issues:
        out.zone_warnings = zone_warnings(out.inventory, out.mous, out.inventory_lines, str(inventory))
    return out
