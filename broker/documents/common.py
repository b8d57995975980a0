"""Field types shared by the inventory and MOU models (access contract, preamble)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from broker.timeutil import parse_date, parse_duration, parse_instant, parse_timezone

IDENT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _ident(value: str) -> str:
    if not IDENT_RE.match(value):
        raise ValueError(f"invalid identifier {value!r}: lower-case letters, digits, '.', '_', '-' (max 64)")
    return value


def _tz(value: str) -> str:
    parse_timezone(value)
    return value


def _scalar_text(value: Any) -> Any:
    # YAML turns an unquoted clause 4.1 into a float; the clause is free text.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Ident = Annotated[str, Field(strict=True), AfterValidator(_ident)]
TimezoneName = Annotated[str, Field(strict=True), AfterValidator(_tz)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Day = Annotated[date, BeforeValidator(parse_date)]
Instant = Annotated[datetime, BeforeValidator(parse_instant)]  # ISO 8601 with an offset, in UTC
FreeText = Annotated[str, BeforeValidator(_scalar_text)]


class Strict(BaseModel):
    """Every document model: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(Strict):
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees")
    lon: float = Field(ge=-180, le=180, description="Longitude, degrees")
