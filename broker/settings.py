"""The one settings root, built in the app factory (``create_app``) and by the console script.

Sources, highest first: explicit arguments, ``CAMGATE_*`` environment variables (nested with ``__``,
e.g. ``CAMGATE_STORE__URL``), a TOML file named by ``CAMGATE_CONFIG`` (see ``config/camgate.example.toml``),
then the defaults below. Secrets still holding a placeholder are refused outside dev mode.
"""

from __future__ import annotations

import base64
import os
import shutil
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from broker.errors import ConfigError
from broker.identity.config import DevIssuerConfig, IdentityConfig
from broker.identity.sources import TriggerSettings
from broker.notify.config import NotificationSettings
from broker.notify.witness_config import WitnessSettings, check_unique
from broker.private import private_dir
from broker.settings_problems import (
    SettingsProblems,
    describe,
    secret_problems,
    server_checks_on,
    skipping_server_checks,
)

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER = "change-me"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="Port to listen on")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Peers whose X-Forwarded-For is believed for the audit client address"
    )
    max_body_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="Largest request body a bearer or console route reads (413 beyond, after authentication); "
        "signed webhooks have their own limits",
    )
    # -- issue 13 (ops): the access log --
    access_log: bool = Field(
        True,
        description="uvicorn's access log, one line per request, query strings redacted (false: no access log, "
        "e.g. where a proxy in front keeps one)",
    )


class PolicySettings(Section):
    inventory: Path = Field(REPO / "config" / "inventory.yaml", description="Inventory document (contract §1)")
    mous: list[Path] = Field(default_factory=lambda: [REPO / "policies" / "mou"], description="MOU files or dirs")
    model: Path = Field(REPO / "policies" / "model.conf", description="casbin model over camera attributes")


class StoreSettings(Section):
    url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/camgate.db")
    schema_: str | None = Field(None, alias="schema", description="PostgreSQL schema for camgate's tables")


class StreamSettings(Section):
    token_secret: SecretStr = Field(
        SecretStr(PLACEHOLDER), description="HMAC key (>= 32 bytes) for signed segment URLs; refused if placeholder"
    )
    # -- stream token life (issue 13 items 7 and 8; owner: streams) -------------------------------------------
    token_min_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="A live segment URL lives at least this long (a player that falls behind under load still "
        "fetches the segments of the playlist it read); every request is decided again anyway",
    )
    token_target_durations: float = Field(
        6.0, ge=1, le=100, description="... or this many target durations of its playlist, when that is longer"
    )
    token_max_seconds: float = Field(
        600.0,
        gt=0,
        le=86400,
        description="Cap on a live segment URL's life; every stream URL also dies with the viewer's credential "
        "(bearer token exp, console session), and a master playlist's variant URLs live exactly that long",
    )
    viewing_url_seconds: float = Field(
        60.0,
        ge=5,
        le=600,
        description="POST /api/v1/cameras/{id}/viewing-url: how long the URL may be opened (the player's start); "
        "then the session's stream URLs take over",
    )
    playback_token_max_seconds: float = Field(
        900.0,
        gt=0,
        le=86400,
        description="Cap on a recorded-footage segment token's life (also <= the footage listed + 60 s)",
    )
    cache_bytes: int = Field(256 << 20, ge=1 << 20, description="Shared upstream segment cache size")
    segment_ttl_seconds: float = Field(30.0, gt=0, description="How long a fetched segment is reused for other viewers")
    playlist_ttl_seconds: float = Field(0.5, ge=0, description="How long a live playlist is reused for other viewers")
    session_idle_seconds: float = Field(
        30.0, gt=0, description="A viewing session ends after this long without requests"
    )

    @model_validator(mode="after")
    def _life(self) -> StreamSettings:
        if self.token_max_seconds < self.token_min_seconds:
            raise ValueError("token_max_seconds must be at least token_min_seconds")
        return self


# -- HTTP: cross-origin embedding (issue 13 item 10; owner: streams) ----------------------------------------------


class HttpSettings(Section):
    """Cross-origin access for pages of other origins that embed streams (README "Embedding streams")."""

    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose pages may read the stream and embedding routes with a "
        "bearer token (CORS, Fetch standard §3.3); empty: none. Never cookies: no Allow-Credentials",
    )
    cors_max_age_seconds: int = Field(
        600, ge=0, le=7200, description="Access-Control-Max-Age of a preflight answer (Fetch §4.9 cache)"
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [serialized_origin(v) for v in value]


DEFAULT_PORTS = {"http": 80, "https": 443}


def serialized_origin(value: str) -> str:
    """``value`` as a browser serializes its origin (RFC 6454 §6.2: lower-case scheme and host, no default port),
    so that it compares equal to the ``Origin`` header; "*", "null", paths and user info are refused."""
    parts = urlsplit(value.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path.strip("/") or parts.query:
        raise ValueError(f"{value!r} is not an origin: scheme://host[:port] with http or https, no path")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError(f"{value!r} is not an origin: no user info or fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has a bad port") from None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + ("" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}")


# -- issue 13 item 1: declaration rate limits ----------------------------------------------------------------
class DeclarationRateSettings(Section):
    """Declarations counted over the last ``window_seconds`` from the emergencies table (every replica's)."""

    window_seconds: int = Field(600, ge=1, le=86400, description="The window declarations are counted over")
    per_principal: int = Field(
        20, ge=1, description="Most emergencies one person (sub and agency) declares in the window"
    )
    per_device: int = Field(
        3,
        ge=1,
        description="Most emergencies one trigger device declares in the window (a repeated press "
        "while its emergency is active declares nothing and is not counted)",
    )


class EmergencySettings(Section):
    min_threat_words: int = Field(
        5, ge=1, description="An articulable threat (34 CFR 99.36) has at least this many words"
    )
    min_threat_chars: int = Field(20, ge=1, description="... and at least this many characters")
    max_radius_m: float = Field(50_000, gt=0, description="Largest radius scope accepted")
    refresh_seconds: float = Field(1.0, ge=0, description="How often other replicas' declarations are re-read")
    # -- issue 13 item 1: declarations rate-limited, threats in real words ----------------------------------
    min_threat_known_words: int = Field(
        3,
        ge=1,
        le=50,
        description="A threat names at least this many different English words beyond the small ones "
        "(broker/admin/threat.py), and at least half of its words are English: filler is refused",
    )
    rate_limit: DeclarationRateSettings = Field(
        default_factory=lambda: DeclarationRateSettings(),
        description="Most declarations per principal and per trigger device (429 with Retry-After beyond)",
    )


class GroupCommitSettings(Section):
    max_batch: int = Field(
        256,
        ge=1,
        le=10_000,
        description="Most audit records written by one transaction (group commit); 1: one record per transaction",
    )


class RefusalSettings(Section):
    max_keys_per_minute: int = Field(
        100,
        ge=1,
        le=100_000,
        description="Distinct refusal keys (kind, client, reason, principal) recorded per minute; refusals of "
        "further keys are counted in one refusal.overflow record",
    )


class CheckpointSettings(Section):
    """Signed checkpoints of the audit chain (README "Operator's guide: signing keys")."""

    key_file: Path | None = Field(
        None,
        description="Ed25519 private key (PEM, PKCS #8; `camgate audit keygen --out FILE`), or set "
        "CAMGATE_AUDIT_SIGNING_KEY (that PEM text, or the base64url raw 32-byte seed). Never in the database. "
        "Dev mode: one is generated under data_dir when none is set",
    )
    old_keys: list[str] = Field(
        default_factory=list,
        description="Public keys (base64url, raw 32 bytes) of rotated-out signing keys: their checkpoints still verify",
    )
    interval_seconds: float = Field(
        60.0, ge=1, le=86400, description="Sign the chain's head this often, when it grew since the last checkpoint"
    )
    on_demand_spacing_seconds: float = Field(
        5.0,
        ge=0,
        le=3600,
        description="POST /api/v1/audit/checkpoints within this long of the last checkpoint answers that one "
        "(200) instead of signing another: asking in a loop cannot flood the witnesses",
    )
    witness_file: Path | None = Field(
        None,
        description="The local witness: the latest checkpoint, kept outside the database. None: beside the key "
        "file (<key_file>.checkpoint.json), or <data_dir>/audit-checkpoint.json for a key from the environment",
    )

    @field_validator("old_keys")
    @classmethod
    def _public_keys(cls, value: list[str]) -> list[str]:
        from broker.audit.keys import parse_public_keys

        parse_public_keys(value)  # raises naming the bad entry
        return value


# --- Audit scoping (issue 13 item 13): who reads every agency's records --------------------------------------
class OversightAuditor(Section):
    """Auditors who read every record: an agency's (``roles`` unset: every role of ``audit.roles``), or only
    some of their roles (e.g. a state oversight office's ``oversight`` role)."""

    agency: str = Field(min_length=1, description="The agency whose auditors oversee every agency")
    roles: list[str] | None = Field(
        None, min_length=1, description="Only these roles of audit.roles (None: every role of audit.roles)"
    )


# --- end of audit scoping ---------------------------------------------------------------------------------------


class AuditSettings(Section):
    group_commit: GroupCommitSettings = Field(
        default_factory=GroupCommitSettings, description="How concurrent appends share transactions"
    )
    refusals: RefusalSettings = Field(
        default_factory=RefusalSettings, description="Refused requests, recorded per source and minute"
    )
    reserve_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="SQLite: new access stops when the database's filesystem has less free space than this, so the "
        "records that close access still fit (0: no reserve)",
    )
    write_timeout_seconds: float = Field(
        1.0, gt=0, le=60, description="Longest wait for another writer's lock before an append fails (fail closed)"
    )
    replica_timeout_seconds: float = Field(
        15.0,
        gt=0,
        le=3600,
        description="A broker process not seen for this long is dead: its open viewing sessions get their end record",
    )
    roles: list[str] = Field(default_factory=lambda: ["auditor"], description="Roles that may read the audit log")
    agencies: list[str] | None = Field(None, description="Agencies whose auditors may read it (None: any agency)")
    witnesses: list[WitnessSettings] = Field(
        default_factory=list, description="MOU parties that receive every signed checkpoint (camgate audit witness)"
    )

    @model_validator(mode="after")
    def _unique_witnesses(self) -> AuditSettings:
        check_unique(self.witnesses)
        return self

    checkpoints: CheckpointSettings = Field(
        default_factory=CheckpointSettings, description="Signed checkpoints of the chain's head, and their keys"
    )
    retention_days: int | None = Field(
        None,
        description="Prune records older than this many days (at least 365: CJIS Security Policy 5.4.7 keeps audit "
        "records one year), only through a signed prune checkpoint. None: keep every record",
    )

    @field_validator("retention_days")
    @classmethod
    def _a_year_at_least(cls, value: int | None) -> int | None:
        # CJIS Security Policy 5.4.7 (audit record retention): at least one year.
        if value is not None and value < 365:
            raise ValueError("must be at least 365 days (CJIS Security Policy 5.4.7 keeps audit records a year)")
        return value

    # --- audit scoping (issue 13 item 13) ---------------------------------------------------------------------
    oversight: list[OversightAuditor] = Field(
        default_factory=list,
        description="Auditors who read every agency's records (README 'Who reads which audit records'). Every "
        "other auditor reads the records about their own agency: its people, its cameras, and the records without a "
        "camera (emergencies, notices) under the MOUs it is a party to",
    )

    @model_validator(mode="after")
    def _oversight_roles_are_audit_roles(self) -> AuditSettings:
        for i, entry in enumerate(self.oversight):
            stray = sorted(set(entry.roles or ()) - set(self.roles))
            if stray:  # a role outside audit.roles reads nothing at all: a configuration mistake, said now
                raise ValueError(f"oversight[{i}].roles {stray} are not among audit.roles {self.roles}")
            if self.agencies is not None and entry.agency not in self.agencies:
                raise ValueError(f"oversight[{i}].agency {entry.agency!r} is not among audit.agencies")
        return self

    # --- end of audit scoping ---------------------------------------------------------------------------------


class AdminSettings(Section):
    operator_roles: list[str] = Field(
        default_factory=lambda: ["operator"], description="Roles that may reload the documents (camgate reload)"
    )
    operator_agencies: list[str] | None = Field(None, description="Agencies whose operators count (None: any agency)")


class InventorySyncSettings(Section):
    """The broker's periodic inventory sync (``camgate inventory sync --apply`` then a reload, README)."""

    enabled: bool = Field(
        False,
        description="Sync periodically: new cameras are added unclassified and vanished ones flagged, in the "
        "inventory file itself (the broker must be able to write it), then the documents are reloaded",
    )
    interval_seconds: float = Field(300, ge=1, le=7 * 86400, description="Time between two periodic syncs")
    timeout_seconds: float = Field(30, gt=0, le=600, description="How long one system may take to list its cameras")


class ConsoleSettings(Section):
    """The web console's server-side sessions (sign-in at ``/auth/login``, cookie ``camgate_session``)."""

    session_absolute_minutes: float = Field(
        480, gt=0, le=7 * 24 * 60, description="A console session ends this long after sign-in, whatever happens"
    )
    session_idle_minutes: float = Field(30, gt=0, le=24 * 60, description="... or after this long without a request")
    origin: str | None = Field(
        None,
        description="The broker's own origin as browsers see it (`https://camgate.example`): the OIDC redirect "
        "URI's base and what Origin/Referer must match on cookie-authenticated writes. None: the request's own",
    )

    @field_validator("origin")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
            raise ValueError("console.origin must be scheme://host[:port] (RFC 6454), no path")
        return f"{parts.scheme}://{parts.netloc}"

    events_heartbeat_seconds: float = Field(15, gt=0, description="Comment line on /api/v1/events this often")
    events_queue: int = Field(256, ge=1, description="Events kept per slow event-stream client before it is closed")
    # -- issue 13 (ops): caps on event streams --
    events_per_principal: int = Field(
        10,
        ge=1,
        le=10_000,
        description="Most concurrent GET /api/v1/events streams of one principal (agency and subject) on a "
        "replica; beyond it 429 too_many_streams with Retry-After",
    )
    events_max_streams: int = Field(
        500, ge=1, le=100_000, description="Most concurrent GET /api/v1/events streams on a replica; beyond it 429"
    )
    events_retry_after_seconds: int = Field(
        15, ge=1, le=3600, description="Retry-After of the 429 too_many_streams answer"
    )


class GatewaySettings(Section):
    """The RTSP to HLS gateway (``broker/gateway/``): one ffmpeg per watched RTSP camera, shared by its viewers."""

    ffmpeg: Path | None = Field(None, description="The ffmpeg binary; None: the one bundled by imageio-ffmpeg")
    work_dir: Path | None = Field(
        None, description="Where segments and the rolling recording live (0700); None: <data_dir>/gateway"
    )
    max_processes: int = Field(16, ge=1, le=1000, description="Most cameras repackaged at once; beyond it 503")
    retry_after_seconds: int = Field(10, ge=1, le=3600, description="Retry-After of the 503 gateway_busy answer")
    segment_seconds: float = Field(
        1.0, ge=0.5, le=10, description="HLS segment length asked of ffmpeg (cut at the camera's keyframes)"
    )
    list_size: int = Field(6, ge=2, le=60, description="Segments in the live playlist")
    idle_seconds: float = Field(30.0, gt=0, description="A camera's ffmpeg stops this long after its last viewer")
    startup_timeout_seconds: float = Field(
        15.0, gt=0, le=120, description="How long a first viewer waits for the first segment (then 504)"
    )
    stall_seconds: float = Field(10.0, gt=0, description="No new segment for this long: ffmpeg is restarted")
    rtsp_timeout_seconds: float = Field(10.0, gt=0, le=300, description="ffmpeg's RTSP socket I/O timeout")
    backoff_initial_seconds: float = Field(1.0, gt=0, description="First wait before restarting a dropped camera")
    backoff_max_seconds: float = Field(30.0, gt=0, description="Longest wait between restarts (doubling)")
    stable_seconds: float = Field(30.0, gt=0, description="A run this long resets the backoff to its first wait")
    retention_seconds: float = Field(
        600.0, ge=0, description="Segments are kept this long for playback (the rolling recording), then pruned"
    )
    tick_seconds: float = Field(0.5, gt=0, le=10, description="How often each camera's process is supervised")

    @model_validator(mode="after")
    def _backoff(self) -> GatewaySettings:
        if self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ValueError("backoff_max_seconds must be at least backoff_initial_seconds")
        return self


# --- MOUs kept by the broker (issue 14) ---------------------------------------------------------------------------
class MouPartySettings(Section):
    """One agency's roles in MOU administration (the owner's and each recipient's, by agency id)."""

    editors: list[str] = Field(
        default_factory=list, description="Roles that draft versions, keep the roster and terminate for the agency"
    )
    approvers: list[str] = Field(
        default_factory=list, description="Roles that approve (countersign) a version's content hash for the agency"
    )


class MouSettings(Section):
    """Where MOUs come from, and who of each party drafts and approves them (``broker/admin/mous/``)."""

    source: Literal["files", "store"] = Field(
        "files",
        description="files: policy.mous is authoritative (GitOps, single operator); "
        "store: the broker keeps every version and countersignature in the database",
    )
    parties: dict[str, MouPartySettings] = Field(
        default_factory=dict, description="Agency id -> its editor and approver roles (none: that agency cannot act)"
    )
    expiry_notice_days: int = Field(30, ge=1, le=365, description="An MOU expiring within this many days is linted")


def _demo_mou_parties() -> dict[str, MouPartySettings]:
    with open(REPO / "config" / "demo-mous.toml", "rb") as f:
        table = tomllib.load(f)["mous"]["parties"]
    return {agency: MouPartySettings.model_validate(roles) for agency, roles in table.items()}


# --- end of MOUs kept by the broker -------------------------------------------------------------------------------


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMGATE_", env_nested_delimiter="__", extra="forbid")

    mode: Literal["dev", "prod"] = Field("prod", description="dev enables the built-in token issuer and placeholders")
    data_dir: Path = Field(Path(".camgate"), description="Where SQLite, the dev issuer key and demo video live")
    server: ServerSettings = Field(default_factory=ServerSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    streams: StreamSettings = Field(default_factory=StreamSettings)
    emergencies: EmergencySettings = Field(default_factory=EmergencySettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    inventory_sync: InventorySyncSettings = Field(
        default_factory=InventorySyncSettings, description="Merging each camera system's camera list into the inventory"
    )
    console: ConsoleSettings = Field(default_factory=ConsoleSettings, description="Web console sign-in and sessions")
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings, description="Signed webhook notices of emergency transitions"
    )
    triggers: TriggerSettings = Field(
        default_factory=TriggerSettings, description="Signed-webhook sources: triggers and mobile camera positions"
    )
    gateway: GatewaySettings = Field(
        default_factory=GatewaySettings, description="RTSP cameras repackaged to HLS by ffmpeg, shared by viewers"
    )
    http: HttpSettings = Field(
        default_factory=HttpSettings, description="Cross-origin embedding of streams (CORS allow-list)"
    )
    mous: MouSettings = Field(
        default_factory=MouSettings, description="MOUs kept by the broker: source, editors and approvers per agency"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("CAMGATE_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    # -- issue 13 (ops): every settings problem at once (broker/settings_problems.py) --
    @field_validator("identity", "streams", "audit", "notifications", "triggers")
    @classmethod
    def _server_secrets(cls, value: Any, info: ValidationInfo) -> Any:
        """Outside dev mode, what a server may not run with: each section reports all its problems, and pydantic
        gathers them with every other field's (one ValidationError, one message)."""
        if info.data.get("mode") != "prod" or "data_dir" not in info.data or not server_checks_on():
            return value  # dev mode; or mode/data_dir themselves invalid (reported); or a command that only reads
        if problems := secret_problems(info.field_name or "", value, info.data["data_dir"]):
            raise SettingsProblems(problems)
        return value

    @model_validator(mode="after")
    def _dev_defaults(self) -> Settings:
        if self.mode == "dev":
            if self.identity.dev_issuer is None:  # dev mode means the built-in issuer, for `make demo`
                self.identity.dev_issuer = DevIssuerConfig()
            if not self.triggers.sources:  # the demo's panic buttons and officer alerts
                self.triggers = _demo_triggers()
            if not self.mous.parties:  # the demo district's MOU editors and approvers
                self.mous.parties = _demo_mou_parties()
        return self

    # -- absolute paths (issue 13 item 5) ------------------------------------------------------------------------
    # Child processes (the gateway's ffmpeg, the demo's encoders) run in other directories, so every path the
    # broker may hand one is made absolute here, once, from the directory the broker was started in: the default
    # data_dir ".camgate" made the demo's RTSP camera fail ("failed to rename file .camgate/gateway/…").
    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return Path(os.path.abspath(value.expanduser()))

    @model_validator(mode="after")
    def _absolute_gateway_paths(self) -> Settings:
        gateway = self.gateway
        if gateway.work_dir is not None and not gateway.work_dir.is_absolute():
            gateway.work_dir = Path(os.path.abspath(gateway.work_dir.expanduser()))
        if gateway.ffmpeg is not None and not gateway.ffmpeg.is_absolute():
            found = shutil.which(gateway.ffmpeg) if "/" not in str(gateway.ffmpeg) else os.path.abspath(gateway.ffmpeg)
            if found is None:
                raise ValueError(f"gateway.ffmpeg: {str(gateway.ffmpeg)!r} is not a program on PATH")
            gateway.ffmpeg = Path(found)
        return self

    # -- end of absolute paths ---------------------------------------------------------------------------------

    @property
    def gateway_dir(self) -> Path:
        return self.gateway.work_dir or self.data_dir / "gateway"

    @property
    def database_url(self) -> str:
        return self.store.url or f"sqlite:///{(self.data_dir / 'camgate.db').resolve()}"

    def stream_secret(self) -> bytes:
        secret = self.streams.token_secret.get_secret_value()
        if self.mode == "dev" and (PLACEHOLDER in secret or len(secret.encode()) < 32):
            return _dev_secret(self.data_dir)
        return secret.encode()

    def webhook_secrets(self, source: str) -> list[str]:
        """The whsec_ secrets of a source (none: unknown). Dev mode: a placeholder is a secret in the data dir."""
        src = self.triggers.sources.get(source)
        if src is None:
            return []
        values = src.secret_values()
        if self.mode == "dev" and (not values or any(PLACEHOLDER in v for v in values)):
            return ["whsec_" + base64.b64encode(_dev_secret(self.data_dir, f"dev-webhook-secret-{source}")).decode()]
        return values


def _demo_triggers() -> TriggerSettings:
    with open(REPO / "config" / "demo-triggers.toml", "rb") as f:
        return TriggerSettings.model_validate(tomllib.load(f)["triggers"])


def _dev_secret(data_dir: Path, name: str = "dev-stream-secret") -> bytes:
    """Dev mode: a random secret kept in the data directory (never the placeholder itself)."""
    path = data_dir / name
    if not path.exists():
        private_dir(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex())
    return path.read_text().strip().encode()


def load_settings(*, for_server: bool = True, **overrides: Any) -> Settings:
    """Build the root settings; every problem becomes one :class:`ConfigError` naming each setting and where to
    set it (:func:`broker.settings_problems.describe`). ``for_server=False``: a command that only reads or only talks
    to a broker, which needs none of a server's secrets."""
    from pydantic import ValidationError

    try:
        if for_server:
            return Settings(**overrides)
        with skipping_server_checks():
            return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe(exc.errors(), os.environ.get("CAMGATE_CONFIG"))) from None
