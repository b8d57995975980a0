"""The tables of camgate (SQLAlchemy Core). Names are unqualified: the schema comes from the connection.

``audit_head`` and ``schema_version`` hold exactly one row (``id = 1``); ``counters`` holds named
counters: the emergencies generation and the document generation. :func:`seed_rows` inserts the fixed rows when missing.
``notices`` is the outbox of webhook notices (:mod:`broker.store.outbox`); ``console_sessions`` and
``console_logins`` are the web console's sessions and sign-ins under way (:mod:`broker.store.console`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from broker.store.types import JSONText, UTCDateTime

SCHEMA_VERSION = 2  # 2: audit_seq / audit_hash on emergencies, notices, counters (broker.store.binding)
AUDIT_GENESIS_HASH = "0" * 64  # equals broker.audit.chain.GENESIS (the store may not import audit)
EMERGENCIES_COUNTER = "emergencies"
DOCUMENTS_COUNTER = "documents"  # the document generation: bumped by every applied reload

# SQLite only makes INTEGER PRIMARY KEY an alias of its rowid (the fast path); BIGINT elsewhere.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
    # documents: the policy.reload record that applied this generation (null: none, or not recorded yet)
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
)

emergencies = Table(
    "emergencies",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("mou", Text, nullable=False),
    Column("site", Text, nullable=False),
    Column("buildings", JSONText, nullable=False),
    Column("zones", JSONText, nullable=False),
    Column("center_lat", Float, nullable=True),
    Column("center_lon", Float, nullable=True),
    Column("radius_m", Float, nullable=True),
    Column("threat", Text, nullable=True),
    Column("incident", Text, nullable=True),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("declared_by_sub", Text, nullable=False),
    Column("declared_by_agency", Text, nullable=False),
    Column("ended_by_sub", Text, nullable=True),
    Column("ended_by_agency", Text, nullable=True),
    Column("closed_recorded", Boolean, nullable=False, default=False),
    # The audit record that created or last changed the row (broker.store.binding; null: not bound yet).
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index(None, "declared_at"),
    Index(None, "site"),
    Index(None, "mou"),
)

# A signed trigger delivery, keyed by (source, webhook-id): its answer is kept so a redelivery of the same
# id gets exactly the same answer and declares nothing (Standard Webhooks: the id is the idempotency key).
trigger_deliveries = Table(
    "trigger_deliveries",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("webhook_id", String(200), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("status", Integer, nullable=True),  # null while the first delivery is being handled
    Column("answer", JSONText, nullable=True),
)

# Emergencies declared by a trigger: which source and device, and the MOU's confirmation rule's state.
trigger_emergencies = Table(
    "trigger_emergencies",
    metadata,
    Column("emergency", String(128), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("device", Text, nullable=False),
    Column("confirm_by", UTCDateTime, nullable=True),  # null: the MOU asks for no confirmation
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("confirmed_by_sub", Text, nullable=True),
    Column("confirmed_by_agency", Text, nullable=True),
    Index(None, "confirm_by"),
)

# The last reported position of each mobile camera, so every replica locates it (read once a second).
camera_positions = Table(
    "camera_positions",
    metadata,
    Column("camera", String(64), primary_key=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("source", String(64), nullable=False),
    Index(None, "at"),
)

# Each camera system's last inventory sync (broker.store.systems): written by `camgate inventory sync` and by
# the broker's periodic sync, read by GET /api/v1/systems on every replica. Never holds a credential.
system_status = Table(
    "system_status",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("adapter", String(64), nullable=False),
    Column("checked_at", UTCDateTime, nullable=False),  # the last attempt
    Column("ok_at", UTCDateTime, nullable=True),  # the last attempt that listed the cameras
    Column("reachable", Boolean, nullable=True),
    Column("authentication_ok", Boolean, nullable=True),
    Column("discovered", Integer, nullable=True),  # cameras listed by the last successful attempt
    Column("error", Text, nullable=True),  # what went wrong last time (null: it worked)
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("principal_sub", Text, nullable=True),
    Column("principal_agency", Text, nullable=True),
    Column("principal_roles", JSONText, nullable=False),
    Column("camera", Text, nullable=True),
    Column("action", Text, nullable=True),
    Column("allowed", Boolean, nullable=True),
    Column("reason", Text, nullable=True),
    Column("mou", Text, nullable=True),
    Column("grant", Text, nullable=True),
    Column("clause", Text, nullable=True),
    Column("emergency", Text, nullable=True),
    Column("client", Text, nullable=True),
    Column("details", JSONText, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # (column, seq): filter on the column and page in seq order with one index.
    Index(None, "ts"),
    Index(None, "principal_sub", "seq"),
    Index(None, "camera", "seq"),
    Index(None, "emergency", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# Signed checkpoints of the audit chain (broker.audit.checkpoint_store), in signing order (``n``). ``body`` is the
# exact signed canonical JSON (broker.audit.checkpoints); the other columns repeat it for queries. Never deleted.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("n", SeqType, primary_key=True, autoincrement=False),
    Column("id", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # checkpoint or prune
    Column("records", BigInteger, nullable=False),
    Column("head", String(64), nullable=False),
    Column("base_seq", BigInteger, nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("previous", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Index(None, "records"),
)

# Viewing sessions open on some replica (broker.store.viewing): a row is added in the transaction of the
# session's ``session.start`` record and removed in that of its ``session.end`` (audit writer hooks), so after a
# kill -9 exactly the sessions still open are here, for another replica (or the restarted one) to close.
viewing_sessions = Table(
    "viewing_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # the session id of its audit records (details.session)
    Column("replica", String(128), nullable=False),
    Column("start_seq", SeqType, nullable=False),  # its session.start record
    Column("camera", Text, nullable=False),
    Index(None, "replica"),
)

# The broker processes (replicas) sharing this database and when each was last seen alive (heartbeat).
replicas = Table(
    "replicas",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)

# The outbox of signed webhook notices: one row per (transition, webhook), written when the transition happens
# and delivered by whichever replica claims it (lease_owner / lease_until), see broker.store.outbox.
notices = Table(
    "notices",
    metadata,
    Column("id", String(64), primary_key=True),  # the Standard Webhooks webhook-id, the same on every attempt
    Column("webhook", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("emergency", String(128), nullable=False),
    Column("mou", Text, nullable=False),
    Column("site", Text, nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent (UTF-8 JSON)
    Column("state", String(16), nullable=False),  # pending, delivered, gave_up
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # The audit record whose notice it is (a transition; for audit.checkpoint, the checkpoint's head record).
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index(None, "state", "due_at"),
    Index(None, "emergency"),
)

# Web console sessions (broker.identity.sessions): keyed by the SHA-256 of the cookie's random id, so the
# table never holds a usable cookie value. The principal is the one mapped from the ID token at sign-in.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("issuer", Text, nullable=False),
    Column("sub", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("roles", JSONText, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # absolute expiry; idle expiry is last_seen_at + idle
    Index(None, "expires_at"),
)

# Sign-ins under way (authlib's state cache): state, nonce and PKCE code_verifier per `state`, deleted when
# the callback uses them, so a state is good for one callback only (RFC 6749 §10.12).
console_logins = Table(
    "console_logins",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)


# --- MOUs kept by the broker (issue 14; broker/store/mous.py) -----------------------------------------------------
# Every text ever posted, byte for byte: a version's revisions (a revision after an approval makes a new hash, and
# approvals start again). Nothing is updated or deleted; each row is bound to the record that made it.
mou_revisions = Table(
    "mou_revisions",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("mou", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("name", Text, nullable=False),  # the file it came from, or draft.yaml: FILE:LINE of its warnings
    Column("author_sub", Text, nullable=False),
    Column("author_agency", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("imported", Boolean, nullable=False, default=False),  # camgate mou import: in force without signatures
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index(None, "mou", "version", "revision", unique=True),
)

# One party's countersignature of one exact text (its SHA-256); withdrawn_at set when taken back.
mou_approvals = Table(
    "mou_approvals",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("mou", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("agency", Text, nullable=False),
    Column("sub", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("approved_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Column("withdrawn_by", Text, nullable=True),
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index(None, "mou", "version"),
)

# A terminated MOU: no grant or emergency under it is honoured from ``at`` on.
mou_terminations = Table(
    "mou_terminations",
    metadata,
    Column("mou", String(128), primary_key=True),
    Column("agency", Text, nullable=False),
    Column("sub", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
)

# Moments recorded once across replicas: a version coming into force, an expiry notice (kind, version).
mou_events = Table(
    "mou_events",
    metadata,
    Column("mou", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)
# --- end of MOUs kept by the broker ------------------------------------------------------------------------------

# --- camera classifications (issue 14, item 7; broker/store/classifications.py) ----------------------------------
# With mous.source = "store": school IT's classification of a camera, applied on top of the inventory file whenever
# the reloader reads it (every replica). One row per camera, replaced by each classification, bound to its
# camera.classify record (broker/audit/bindclassify.py).
camera_classifications = Table(
    "camera_classifications",
    metadata,
    Column("camera", String(64), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("building", Text, nullable=True),
    Column("zone", Text, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("by_sub", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
)
# --- end of camera classifications ------------------------------------------------------------------------------


# --- MOU rosters (issue 14, item 5; broker/store/rosters.py) ----------------------------------------------------
# Every revision of an MOU's roster of named users: the entries as canonical JSON and their SHA-256. Rows are only
# inserted, each in the transaction of its ``mou.roster`` record and bound to it (broker/audit/bindroster.py).
mou_rosters = Table(
    "mou_rosters",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("mou", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("entries", Text, nullable=False),  # [{"agency","sub","name"}, ...] sorted, canonical JSON
    Column("sha256", String(64), nullable=False),
    Column("author_sub", Text, nullable=False),
    Column("author_agency", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index(None, "mou", "revision", unique=True),
)

# A party's approval of one roster revision's SHA-256 (MOUs with roster.countersign: true).
mou_roster_approvals = Table(
    "mou_roster_approvals",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("mou", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("agency", Text, nullable=False),
    Column("sub", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("approved_at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=True),
    Column("audit_hash", String(64), nullable=True),
    Index(None, "mou", "revision", "agency", unique=True),
)
# --- end of MOU rosters -------------------------------------------------------------------------------------------


def seed_rows(conn: Connection) -> None:
    """Insert the fixed rows that are missing (idempotent; run inside a transaction)."""
    seeds = (
        (schema_version, schema_version.c.id == 1, {"id": 1, "version": SCHEMA_VERSION}),
        (audit_head, audit_head.c.id == 1, {"id": 1, "seq": 0, "hash": AUDIT_GENESIS_HASH}),
        (counters, counters.c.name == EMERGENCIES_COUNTER, {"name": EMERGENCIES_COUNTER, "value": 0}),
        (counters, counters.c.name == DOCUMENTS_COUNTER, {"name": DOCUMENTS_COUNTER, "value": 0}),
    )
    for table, where, row in seeds:
        if conn.execute(select(1).select_from(table).where(where)).first() is None:
            conn.execute(table.insert().values(**row))
