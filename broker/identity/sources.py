"""Settings of the signed-webhook sources: panic-button systems, alarm panels, CAD systems, body cameras.

Each source has its ``whsec_`` secrets (several, for rotation; inline, from the environment through
``CAMGATE_TRIGGERS__SOURCES__<ID>__SECRETS``, or from files), the agency it belongs to, its devices (each
mapped to an MOU, a site and an emergency template), what each event type does, and which mobile cameras it
may report positions for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

PLACEHOLDER = "change-me"
#: 30 feet: the radius around an event's location when the device's template names none.
DEFAULT_RADIUS_M = 9.1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeoSetting(_Section):
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees")
    lon: float = Field(ge=-180, le=180, description="Longitude, degrees")


class DeviceTemplate(_Section):
    """What an event from this device declares."""

    name: str | None = Field(None, description="Where the device is, for the threat text (e.g. 'front office')")
    mou: str = Field(description="The MOU whose emergency grants the event activates (must list the source)")
    site: str = Field(description="The site the emergency covers")
    buildings: list[str] = Field(default_factory=list, description="Empty: every building (no location given)")
    zones: list[str] = Field(default_factory=list, description="Empty: every zone")
    location: GeoSetting | None = Field(None, description="A fixed device's place: the radius is drawn around it")
    radius_m: float = Field(DEFAULT_RADIUS_M, gt=0, description="Radius around the event's location, metres")
    duration_minutes: int | None = Field(None, gt=0, description="Default: the MOU's default_duration")
    camera: str | None = Field(
        None, description="The device's own (mobile) camera: the event's location is its position"
    )


class WebhookSource(_Section):
    agency: str = Field(description="The agency the source belongs to: recorded as the declarer's agency")
    name: str | None = Field(None, description="Human name, for the threat text (e.g. 'panic button')")
    secrets: list[SecretStr] = Field(default_factory=list, description="whsec_ secrets; any one verifies (rotation)")
    secret_files: list[Path] = Field(default_factory=list, description="Files each holding one whsec_ secret")
    events: dict[str, Literal["declare", "extend", "end"]] = Field(
        default_factory=dict, description="Event type -> what it does (end: all clear)"
    )
    devices: dict[str, DeviceTemplate] = Field(default_factory=dict, description="Device id -> emergency template")
    cameras: list[str] = Field(default_factory=list, description="Mobile cameras whose positions it may report")
    extend_minutes: int = Field(30, gt=0, description="What an extend event adds")

    def secret_values(self) -> list[str]:
        values = [s.get_secret_value() for s in self.secrets]
        values += [p.read_text(encoding="utf-8").strip() for p in self.secret_files]
        return [v for v in values if v]


class TriggerSettings(_Section):
    sources: dict[str, WebhookSource] = Field(
        default_factory=dict, description="Source id (the path's {source}; MOUs name it in emergency.triggers)"
    )
    position_max_age_seconds: float = Field(60.0, gt=0, description="A mobile camera's position is used this long")
    position_future_skew_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="A position dated later than now plus this (the sender's clock running ahead) is refused (422 at)",
    )


def placeholder_secrets(cfg: TriggerSettings) -> list[str]:
    """Sources still holding a placeholder secret (refused outside dev mode)."""
    return [
        sid
        for sid, src in cfg.sources.items()
        if any(PLACEHOLDER in s.get_secret_value() for s in src.secrets) or not src.secret_values()
    ]
