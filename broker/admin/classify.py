"""School IT classifies a camera (issue 14, item 7): ``PUT /api/v1/cameras/{id}/classification``.

One classification, in order (each refusal leaves everything as it was):

1. the camera must exist (404) and be the caller's agency's (its site or its camera system; 403
   ``not_camera_owner``); the site, building and zone are checked (:func:`broker.inventory.classification.check`:
   422 naming the field; a zone the site's MOUs do not define names the zones they do);
2. the whole inventory with the change is validated as a reload would (with the MOUs in force): any problem is a
   422 with every ``FILE:LINE: path: message`` line;
3. it is kept, with one ``camera.classify`` audit record (who, the camera, before and after, the SHA-256 of the
   inventory after): no record, no change;
4. the caller reloads (:meth:`broker.api.services.Services.reload`): the next decision here uses it, and other
   replicas follow the new document generation on their next housekeeping tick (about a second).

Where it is kept (the rule):

- ``mous.source = "files"``: the inventory file is authoritative. It is edited in place, as inventory sync edits
  it (:mod:`broker.inventory.yamledit`: comments and layout kept; atomic, and only if nobody changed it since it
  was read: :mod:`broker.admin.filewrite`); the record is written before the file is swapped in. A file the broker
  cannot write is a 409: edit it by hand and ``camgate reload``.
- ``mous.source = "store"``: the store is authoritative, and replicas need not share a file. The classification is
  a row of ``camera_classifications`` (:mod:`broker.store.classifications`) written in the record's transaction
  and applied on top of the inventory file whenever the reloader reads it (:func:`read_classified`),
  on every replica. The file is left as it is: it may be a copy each replica keeps, or (``make demo``) the
  checked-in example. A row names a camera; a camera the file no longer lists is not served.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from broker.admin.filewrite import replace_if_unchanged, sha256
from broker.audit import AuditLog, AuditRecord, principal_fields
from broker.clock import Clock
from broker.documents import DocumentSet
from broker.documents.loader import InventoryRead, read_inventory_digested, read_inventory_text
from broker.errors import Conflict, DocumentError, PermissionDenied, UnknownCamera
from broker.inventory.catalog import Catalog
from broker.inventory.classification import Classification, check, classified_text, overlaid_text, owns
from broker.inventory.yamledit import EditError
from broker.policy import Principal
from broker.store.binding import Binding
from broker.store.classifications import ClassificationRepository, StoredClassification

Source = Literal["files", "store"]
log = logging.getLogger("camgate.classify")


@dataclass(frozen=True)
class Classified:
    camera: str
    before: Classification
    after: Classification
    changed: bool
    inventory_sha256: str
    kept: Source
    file_edited: bool


def _writable(path: Path) -> bool:
    target = path.resolve()
    return os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)


def _of(row: StoredClassification) -> Classification:
    return Classification(row.site, row.building, row.zone, row.location)


def stored_overlay(repo: ClassificationRepository) -> dict[str, Classification]:
    return {r.camera: _of(r) for r in repo.all()}


def _overlaid_read(path: Path, text: str, overlay: dict[str, Classification]) -> InventoryRead:
    name = str(path)
    try:
        return read_inventory_text(overlaid_text(text, overlay), name)
    except EditError as exc:
        issue = (name, 0, "(document)", f"the store's camera classifications cannot be applied: {exc}")
        return None, [issue], None, {}


def _with_overlay(path: Path, read: InventoryRead, text: str, overlay: dict[str, Classification]) -> InventoryRead:
    """``read`` (of ``text``) with ``overlay`` applied: as it is when the text says the same already (a file edited
    in place too: no second parse), else the text edited and read again."""
    if not overlay:
        return read
    if read[0] is not None:
        cameras = {c.id: c for c in read[0].cameras}
        overlay = {k: v for k, v in overlay.items() if k in cameras and Classification.of(cameras[k]) != v}
        if not overlay:
            return read
    return _overlaid_read(path, text, overlay)


def read_classified(path: Path, repo: ClassificationRepository) -> InventoryRead:
    """The inventory the reloader serves when the store is authoritative: the file, with the store's
    classifications on top (raises StoreUnavailable)."""
    overlay = stored_overlay(repo)
    read = read_inventory_digested(path)
    if not overlay or not read[3]:  # a file that cannot be read says so, at its line
        return read
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return read
    return _with_overlay(path, read, text, overlay)


class ClassificationService:
    def __init__(
        self,
        inventory: Path,
        source: Source,
        documents: Callable[[InventoryRead], DocumentSet],
        repo: ClassificationRepository,
        audit: AuditLog,
        live: Callable[[], Catalog],
        clock: Clock,
    ) -> None:
        self.path, self.source, self.documents, self.repo = inventory, source, documents, repo
        self.audit, self.live, self.clock = audit, live, clock
        self._lock = threading.Lock()

    # -- the reloader's inventory ------------------------------------------------------------------------------

    def overlay(self) -> dict[str, Classification]:
        """The store's classifications (``mous.source = "store"``; none otherwise). Raises StoreUnavailable."""
        return stored_overlay(self.repo) if self.source == "store" else {}

    def _read_text(self, text: str, overlay: dict[str, Classification]) -> InventoryRead:
        return _with_overlay(self.path, read_inventory_text(text, str(self.path)), text, overlay)

    # -- one classification ---------------------------------------------------------------------------------

    def classify(self, principal: Principal, camera: str, new: Classification, client: str | None = None) -> Classified:
        """Check, validate, keep and record one classification (the caller reloads when ``changed``)."""
        with self._lock:
            catalog = self.live()
            cam = catalog.camera(camera)
            if cam is None:
                raise UnknownCamera(f"no camera {camera!r}", field="camera_id")
            if not owns(catalog, cam, principal.agency):
                raise PermissionDenied(
                    f"camera {camera!r} is not your agency's: only its owner's school IT classifies it",
                    reason="not_camera_owner",
                )
            check(catalog, principal.agency, new)
            before = Classification.of(cam)
            if before == new:  # classified so already: nothing to keep or record
                served = catalog.documents.get(str(self.path), "")
                return Classified(camera, before, new, False, served, self.source, False)
            self.audit.require_reserve("a classification")  # it may share a camera: fail closed, nothing kept
            raw = self._file()
            text = raw.decode("utf-8", errors="replace")
            file_text = self._edited(text, camera, new)
            overlay = {**self.overlay(), camera: new} if self.source == "store" else {}
            read = self._read_text(file_text, overlay)
            docs = self.documents(read)
            if docs.issues or docs.inventory is None:  # validated as a reload would: every line
                raise DocumentError(docs.issues or [(str(self.path), 0, "(document)", "no inventory")])
            after_sha = next(iter(read[3].values()), "")
            done = Classified(camera, before, new, True, after_sha, self.source, False)
            return self._keep(principal, done, raw, file_text, text, client)

    def _file(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise Conflict(f"the inventory file cannot be read: {exc.strerror or exc}") from None

    def _edited(self, text: str, camera: str, new: Classification) -> str:
        if self.source == "store":
            return text  # kept in the store only; the file stays as it is (see the module's rule)
        try:
            return classified_text(text, camera, new)
        except EditError as exc:
            if self.source == "store":
                return text  # kept in the store only; the file stays as it is
            raise Conflict(f"the inventory file cannot be edited: {exc}") from None

    def _keep(
        self, principal: Principal, done: Classified, raw: bytes, file_text: str, text: str, client: str | None
    ) -> Classified:
        edit = file_text != text
        if self.source == "files" and edit and not _writable(self.path):
            raise Conflict(
                f"the inventory file {self.path} is not writable by the broker: give the camera its zone there by "
                "hand, then run camgate reload"
            )
        edit = edit and _writable(self.path)
        details: dict[str, Any] = {
            "camera": done.camera,
            "before": done.before.to_dict(),
            "after": done.after.to_dict(),
            "inventory": self.path.name,
            "inventory_sha256": done.inventory_sha256,
            "kept": self.source,
            "file_edited": edit,
        }
        who = principal_fields(principal) | {"camera": done.camera, "client": client}
        written: list[AuditRecord] = []

        def record() -> None:
            if self.source == "files":
                written.append(self.audit.append("camera.classify", **who, details=details))
                return
            after = done.after
            where = (after.site, after.building, after.zone or "", after.location)
            row = StoredClassification(done.camera, *where, principal.sub, self.clock.now())

            def bind(conn: Any, rec: AuditRecord) -> None:
                ClassificationRepository.put_in(conn, row, Binding(rec.seq, rec.hash))

            written.append(self.audit.append_bound("camera.classify", bind, **who, details=details)[0])

        if not edit:
            record()
        else:
            try:
                replace_if_unchanged(self.path, file_text.encode("utf-8"), sha256(raw), record)
            except OSError as exc:
                why = exc.strerror or str(exc)
                if written:  # recorded: the rename itself failed; only the file is behind (store: the row holds)
                    log.error(
                        "camera.classify %s recorded, but %s could not be replaced: %s", done.camera, self.path, why
                    )
                    edit = False
                if self.source == "files":
                    raise Conflict(
                        f"the inventory file {self.path} could not be written ({why}); it is unchanged"
                    ) from None
                if not written:
                    details["file_edited"] = edit = False  # this replica cannot write it: the store has it
                    record()
        return Classified(done.camera, done.before, done.after, True, done.inventory_sha256, self.source, edit)
