"""Tamper-evident audit log: every access decision, session and emergency, hash-chained."""

from broker.audit.chain import GENESIS, VerifyResult, canonical, record_hash, verify
from broker.audit.log import AuditLog
from broker.audit.records import APPEND_FIELDS, KINDS, Actor, AuditRecord, principal_fields, rfc3339

__all__ = [
    "APPEND_FIELDS",
    "GENESIS",
    "KINDS",
    "Actor",
    "AuditLog",
    "AuditRecord",
    "VerifyResult",
    "canonical",
    "principal_fields",
    "record_hash",
    "rfc3339",
    "verify",
]
