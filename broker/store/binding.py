"""Rows bound to the audit chain: the ``(audit_seq, audit_hash)`` a row carries.

The emergencies, the document generation (``counters`` row ``documents``) and the notices outbox each carry
the seq and hash of the audit record that created or last changed them, written in that record's
transaction (:meth:`broker.audit.AuditLog.append_bound`). :mod:`broker.audit.bindings` checks both ways:
each row against its record, and each record against its row. The store cannot import the audit package, so
a binding is just the pair.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Binding(NamedTuple):
    seq: int
    hash: str

    def values(self) -> dict[str, Any]:
        """The row's columns."""
        return {"audit_seq": self.seq, "audit_hash": self.hash}


UNBOUND: dict[str, Any] = {"audit_seq": None, "audit_hash": None}
