"""Response models and strict parameter types of the HTTP API: what the routes really send and accept.

The routes build plain dicts (``to_json``, ``to_dict``); these models are their ``response_model`` so that
the description says exactly what is sent (instants are RFC 3339 strings, absent values are ``null``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Defined in broker.timeutil (the webhook bodies parse date-times the same way); re-exported for the routes.
from broker.text import unprintable
from broker.timeutil import Rfc3339 as Rfc3339
from broker.timeutil import parse_rfc3339 as parse_rfc3339

Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class Health(BaseModel):
    status: Literal["ok"]


class AuditHealthModel(BaseModel):
    writable: bool = Field(description="False: nothing is served (no record, no access)")
    reason: str | None = Field(None, description="Why not: a full disk, a lock held elsewhere, the database down")
    since: str | None = Field(None, description="When the current state began (RFC 3339)")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    store: str = Field(description="The store's SQL dialect")
    generation: int = Field(description="The document generation this replica serves (bumped by every reload)")
    documents: str = Field(description="SHA-256 over the names and SHA-256 of every document it serves")
    audit: AuditHealthModel = Field(description="Whether the audit log can take records now, and why not")
    warnings: list[str] = Field(
        default_factory=list,
        description="Files and folders of the broker (data folder, database, keys) open to other users, each with "
        "the chmod that fixes it; the broker is still ready",
    )


class ReloadOutcome(BaseModel):
    """An applied reload (``broker/admin/reload.py``)."""

    outcome: Literal["applied"]
    generation: int = Field(description="The document generation now served, announced to every replica")
    trigger: str = Field(description="api, sighup or replica")
    documents: dict[str, str] = Field(description="Every document loaded, with the SHA-256 of its bytes")
    digest: str = Field(description="SHA-256 over the names and SHA-256 of every document")
    cameras: int
    mous: int
    policy_lines: int = Field(description="casbin attribute lines compiled")
    seconds: float = Field(description="Time to read, validate and compile")
    systems_changed: list[str] = Field(description="Camera systems whose adapter was built anew")
    warnings: list[str] = Field(
        default_factory=list,
        description="Applied all the same: `FILE:LINE: warning: path: message` for an MOU not in force today or a "
        "camera zone no MOU covering its site defines (contract section 2, Warnings)",
    )


class Decision(BaseModel):
    allowed: bool
    reason: str = Field(description="The contract's reason code")
    mou: str | None
    grant: str | None
    clause: str | None
    emergency: str | None = Field(
        description="The active emergency whose grant allows this (contract section 4, step 5); null when an "
        "always grant allows it or when denied. The console's camera wall shows these cameras first."
    )


class Point(BaseModel):
    lat: float
    lon: float


class CameraUrls(BaseModel):
    live: str
    snapshot: str
    playback: str = Field(description="Recorded footage: add ?start= (and &end=), RFC 3339 with offset")


class Camera(BaseModel):
    id: str
    name: str
    site: str
    building: str | None
    zone: str | None
    location: Point | None
    live: Decision = Field(description="The current decision for live viewing")
    urls: CameraUrls


class CameraPage(BaseModel):
    cameras: list[Camera]
    total: int
    offset: int
    limit: int


class Party(BaseModel):
    sub: str
    agency: str


class Emergency(BaseModel):
    id: str
    mou: str
    site: str
    buildings: list[str]
    zones: list[str]
    center: Point | None
    radius_m: float | None
    threat: str | None
    incident: str | None
    declared_at: Instant
    expires_at: Instant
    ended_at: Instant | None
    status: Literal["active", "ended", "expired"]
    declared_by: Party
    ended_by: Party | None


class Viewer(BaseModel):
    """An open viewing session under an emergency: who is watching which camera now."""

    session: str
    sub: str
    agency: str
    roles: list[str]
    camera: str
    action: str
    grant: str | None
    clause: str | None
    client: str | None
    started: Instant
    last: Instant = Field(description="The viewer's latest request")
    requests: int
    bytes: int


class ViewerList(BaseModel):
    emergency: str
    viewers: list[Viewer]


class EmergencyList(BaseModel):
    emergencies: list[Emergency]


class Transition(BaseModel):
    """A step of an emergency's life, from its audit record."""

    kind: Literal["declare", "extend", "confirm", "end", "expire"]
    at: Instant = Field(description="When it took effect (declared_at, ended_at, expires_at; else when recorded)")
    recorded_at: Instant
    seq: int = Field(description="The audit record")
    by: Party | None = Field(description="Who did it; null for an expiry")
    reason: str | None
    minutes: int | None = Field(description="Minutes added (extend)")
    expires_at: Instant | None = Field(description="The expiry after this step")


class Viewing(BaseModel):
    """A viewing session under the emergency's grant, from its session.start and session.end records."""

    session: str
    principal_sub: str | None
    agency: str | None
    roles: list[str]
    camera: str | None
    action: str | None = Field(description="live or playback")
    grant: str | None
    clause: str | None
    client: str | None
    started: Instant
    start_seq: int | None = Field(description="The session.start record (null if only its end is on the chain)")
    last: Instant | None = Field(description="The last request served; null while open")
    ended: Instant | None = Field(description="When the session ended; null while open")
    end_seq: int | None
    reason_ended: str | None = Field(description="idle, access_revoked:<reason>, shutdown; null while open")
    requests: int | None
    bytes: int | None


class Timeline(BaseModel):
    """Who watched which camera when under one emergency (auditors)."""

    emergency: Emergency
    now: Instant = Field(description="The broker's clock: where a session still open is drawn to")
    transitions: list[Transition]
    sessions: list[Viewing]
    complete: bool = Field(description="False when the emergency has more records than one answer holds")


class AuditRecord(BaseModel):
    seq: int
    ts: Instant
    kind: str
    principal_sub: str | None
    principal_agency: str | None
    principal_roles: list[str]
    camera: str | None
    action: str | None
    allowed: bool | None
    reason: str | None
    mou: str | None
    grant: str | None
    clause: str | None
    emergency: str | None
    client: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class MalformedRow(BaseModel):
    seq: int = Field(description="The row's seq")
    field: str = Field(description="The column that is not what a record holds")
    problem: str


class AuditPage(BaseModel):
    records: list[AuditRecord]
    next: int | None = Field(description="Pass as `after` for the next page; null on the last")
    malformed: list[MalformedRow] = Field(
        default_factory=list,
        description="Rows of this page that are not records (tampering; GET /api/v1/audit/verify names it)",
    )


class BindingProblem(BaseModel):
    """A row bound to the audit chain that does not agree with it (broker.audit.bindings)."""

    table: str = Field(description="emergencies, counters (the document generation) or notices")
    row: str = Field(description="The row's id")
    field: str = Field(description="The column that differs, or audit_seq / audit_hash for the binding itself")
    problem: str
    seq: int | None = Field(None, description="The audit record concerned")


class ChainCheck(BaseModel):
    ok: bool = Field(description="The chain, its checkpoints and witness, and every row bound to it all verify")
    chain_ok: bool | None = Field(None, description="The chain, its head, checkpoints and local witness verify")
    records: int = Field(description="Records 1..records form a valid chain")
    head: str = Field(description="The hash of the last good record")
    first_bad: int | None = Field(None, description="Only when not ok")
    problem: str | None = Field(None, description="Only when not ok")
    bindings_ok: bool | None = Field(
        None, description="Whether the emergencies, the document generation and the notices agree with the chain"
    )
    bindings: list[BindingProblem] | None = Field(None, description="Each row that does not (empty when bindings_ok)")
    base_seq: int = Field(0, description="The chain's verified base: records up to it were pruned (signed prune)")
    checkpoints: int = Field(0, description="Signed checkpoints the chain was found to hold")
    witnessed: int = Field(0, description="Checkpoints of the local witness file the chain was found to hold")
    checkpoint: str | None = Field(None, description="Only when not ok, and a checkpoint is at fault: its id")
    problems: list[str] | None = Field(None, description="Only when not ok: every problem found, the first first")
    notes: list[str] | None = Field(None, description="What could not be checked (not a failure)")


class TriggerOutcome(BaseModel):
    """What a trigger did (a redelivery of the same webhook-id gets exactly the first answer)."""

    outcome: Literal["declared", "already_active", "extended", "ended"] = Field(
        description="already_active: the device's emergency is still active, so a repeated event declared nothing"
    )
    emergency: Emergency


class PositionsAccepted(BaseModel):
    source: str = Field(description="The source whose secret verified the signature")
    accepted: int = Field(description="Positions kept")
    superseded: int = Field(description="Positions older than one already known for their camera")


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    minutes: int = Field(gt=0, le=7 * 24 * 60, strict=True, description="Minutes added to expires_at")
    reason: str = Field(min_length=1, max_length=2000, description="Why it is extended (recorded)")

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        if (problem := unprintable(value)) is not None:  # no NUL, no bidi override (broker.text.unprintable)
            raise ValueError(problem)
        return value


class Ending(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str | None = Field(None, max_length=2000, description="Why it ends (recorded)")

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and (problem := unprintable(value)) is not None:
            raise ValueError(problem)
        return value
