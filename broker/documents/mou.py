"""The MOU document (access contract, section 2) and its semantic checks."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, field_validator

from broker.documents.common import Day, Duration, FreeText, Ident, Strict, TimezoneName
from broker.documents.inventory import InventoryIndex, Issue
from broker.text import unprintable
from broker.timeutil import local_midnight

ActionName = Literal["live", "snapshot", "playback", "export"]
WeekDay = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[WeekDay, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS: tuple[str, ...] = ALL_DAYS
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)  # an MOU's effective and expires (contract §2)
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _empty_is_default(value: object) -> object:
    return {} if value is None else value  # `exterior:` with nothing after it means `exterior: {}`


class Parties(Strict):
    owner: Ident = Field(description="Agency that owns the covered sites")
    recipients: list[Ident] = Field(description="Agencies that may receive access")


class ZoneSpec(Strict):
    education_records: bool = Field(False, description="Footage is a FERPA education record (34 CFR 99.3)")
    never: bool = Field(False, description="Never shared, in any mode, by any grant")


class Schedule(Strict):
    days: list[WeekDay] = Field(default_factory=lambda: list(ALL_DAYS), description="Weekdays in local time")
    hours: str = Field("00:00-24:00", description="HH:MM-HH:MM local time, end after start")

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        m = _HOURS.match(value)
        if not m:
            raise ValueError(f"malformed schedule hours {value!r}: expected HH:MM-HH:MM")
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = int(m.group(3)) * 60 + int(m.group(4))
        if end > 24 * 60:
            raise ValueError(f"malformed schedule hours {value!r}: end after 24:00")
        if end <= start:
            raise ValueError(f"malformed schedule hours {value!r}: end must be after start")
        return value

    @property
    def minutes(self) -> tuple[int, int]:
        """[start, end) in minutes after local midnight."""
        a, b = self.hours.split("-")
        return int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(d) for d in self.days)

    def start_time(self) -> time:
        start, _ = self.minutes
        return time(start // 60, start % 60)


class PlaybackSpec(Strict):
    max_age: Duration | None = Field(None, description="always-grants: oldest footage viewable, relative to now")
    from_: Duration | None = Field(
        None, alias="from", description="emergency-grants: earliest footage, relative to declared_at"
    )


class Grant(Strict):
    id: FreeText = Field(description="Grant id, unique within the MOU (e.g. G1)")
    # Required (issue 13): every allowed decision and its audit record cite the clause (contract section 5).
    clause: FreeText = Field(min_length=1, description="The MOU clause this grant implements, e.g. 4.1")
    agency: Ident
    roles: list[str] = Field(description="Roles of the agency's principals this grant serves")
    zones: list[str] = Field(description="Zone labels (keys of the MOU's zones)")
    actions: list[ActionName] = Field(description="live | snapshot | playback | export")
    when: Literal["always", "emergency"]
    playback: PlaybackSpec | None = None
    schedule: Schedule | None = None


class PartyRoles(Strict):
    agency: Ident
    roles: list[str] = Field(description="Any of these roles")


class ConfirmSpec(Strict):
    by: list[PartyRoles] = Field(description="Who may confirm an emergency declared by a trigger")
    within: Duration = Field(description="Unconfirmed after this long from declared_at, it ends by itself")


class EmergencySpec(Strict):
    declare: list[PartyRoles] = Field(description="Who may declare an emergency")
    end: list[PartyRoles] = Field(default_factory=list, description="Who may end one (the declarer always may)")
    default_duration: Duration
    max_duration: Duration
    require: list[Literal["threat", "incident"]] = Field(default_factory=list)
    triggers: list[Ident] = Field(default_factory=list, description="Webhook sources that may declare under it")
    confirm: ConfirmSpec | None = Field(None, description="Trigger-declared emergencies must be confirmed in time")


class RosterSpec(Strict):
    """Issue 14, item 5: only the named users of these recipient agencies may use the MOU's grants."""

    agencies: list[Ident] = Field(min_length=1, description="Recipient agencies whose users must be on the roster")
    countersign: bool = Field(False, description="A roster change takes effect only once every party approved it")


class Mou(Strict):
    mou: Ident
    title: str | None = None
    version: int = Field(ge=1, strict=True)
    timezone: TimezoneName
    effective: Day
    expires: Day | None = None
    parties: Parties
    sites: list[str] = Field(description='Site ids, or ["*"] for every site of parties.owner')
    zones: dict[str, Annotated[ZoneSpec, BeforeValidator(_empty_is_default)]]
    grants: list[Grant]
    emergency: EmergencySpec | None = None
    roster: RosterSpec | None = Field(None, description="Named users only (the broker keeps the roster)")

    @property
    def never_zones(self) -> frozenset[str]:
        return frozenset(z for z, spec in self.zones.items() if spec.never)

    def period(self) -> tuple[datetime, datetime | None]:
        """In force from 00:00 local on ``effective`` until 00:00 local the day after ``expires`` (contract §2)."""
        tz = ZoneInfo(self.timezone)
        end = local_midnight(self.expires + timedelta(days=1), tz) if self.expires else None
        return local_midnight(self.effective, tz), end


def check_mou(mou: Mou, inv: InventoryIndex | None) -> list[Issue]:
    """Section 2's validation rules beyond shape. ``inv`` None skips inventory references."""
    issues: list[Issue] = []
    # Contract §2: in force from 00:00 local on effective until 00:00 local the day after expires -- both must be
    # instants (date.max + 1 day, or 0001-01-01 east of UTC, are not: a draft naming them once answered 500).
    for field in ("effective", "expires"):
        day = getattr(mou, field)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            issues.append(((field,), f"{field} {day} must be between {FIRST_DAY} and {LAST_DAY}"))
    if mou.expires is not None and mou.expires < mou.effective:
        issues.append((("expires",), f"expires {mou.expires} is before effective {mou.effective}"))
    # Text the parties read and sign: a NUL is nothing PostgreSQL stores, a bidi override shows other words than the
    # text holds (CVE-2021-42574, "Trojan Source"). Lines and tabs are text.
    texts: list[tuple[tuple[str | int, ...], str | None]] = [(("title",), mou.title)]
    texts += [(("grants", i, key), getattr(g, key)) for i, g in enumerate(mou.grants) for key in ("id", "clause")]
    for path, text in texts:
        if text is not None and (problem := unprintable(text)) is not None:
            issues.append((path, problem))
    if inv is not None:
        for path, agency in [(("parties", "owner"), mou.parties.owner)] + [
            (("parties", "recipients", i), a) for i, a in enumerate(mou.parties.recipients)
        ]:
            if agency not in inv.agencies:
                issues.append((path, f"unknown agency {agency!r}"))
        if mou.sites != ["*"]:
            for i, site_id in enumerate(mou.sites):
                site = inv.sites.get(site_id)
                if site is None:
                    issues.append((("sites", i), f"unknown site {site_id!r}"))
                elif site.owner != mou.parties.owner:
                    issues.append(
                        (("sites", i), f"site {site_id!r} is owned by {site.owner!r}, not {mou.parties.owner!r}")
                    )
    if "*" in mou.sites and mou.sites != ["*"]:
        issues.append((("sites",), '"*" must stand alone'))
    seen: set[str] = set()
    for g, grant in enumerate(mou.grants):
        if grant.id in seen:
            issues.append((("grants", g, "id"), f"duplicate grant id {grant.id!r}"))
        seen.add(grant.id)
        if grant.agency not in mou.parties.recipients:
            issues.append((("grants", g, "agency"), f"agency {grant.agency!r} is not in parties.recipients"))
        for z, zone in enumerate(grant.zones):
            if zone not in mou.zones:
                issues.append((("grants", g, "zones", z), f"unknown zone {zone!r} (not a key of zones)"))
            elif mou.zones[zone].never:
                issues.append((("grants", g, "zones", z), f"zone {zone!r} is never shared; no grant may name it"))
        if grant.playback is not None:
            if grant.when == "emergency" and grant.playback.max_age is not None:
                issues.append((("grants", g, "playback", "max_age"), "max_age applies to always-grants only"))
            if grant.when == "always" and grant.playback.from_ is not None:
                issues.append((("grants", g, "playback", "from"), "from applies to emergency-grants only"))
    issues += _roster_issues(mou)
    if mou.emergency is None:
        if any(g.when == "emergency" for g in mou.grants):
            issues.append((("emergency",), "required: a grant has when: emergency"))
    else:
        em = mou.emergency
        if em.default_duration > em.max_duration:
            issues.append((("emergency", "default_duration"), "default_duration is above max_duration"))
        if em.confirm is not None and em.confirm.within.total_seconds() <= 0:
            issues.append((("emergency", "confirm", "within"), "within must be a positive duration"))
        if em.confirm is not None and em.confirm.within > em.max_duration:
            issues.append((("emergency", "confirm", "within"), "within is above max_duration"))
        if len(set(em.triggers)) != len(em.triggers):
            issues.append((("emergency", "triggers"), "duplicate trigger source"))
        if inv is not None:
            parties: list[tuple[tuple[str | int, ...], PartyRoles]] = [
                (("emergency", key, i), party) for key in ("declare", "end") for i, party in enumerate(getattr(em, key))
            ]
            if em.confirm is not None:
                parties += [(("emergency", "confirm", "by", i), p) for i, p in enumerate(em.confirm.by)]
            for where, party in parties:
                if party.agency not in inv.agencies:
                    issues.append(((*where, "agency"), f"unknown agency {party.agency!r}"))
    return issues


def _roster_issues(mou: Mou) -> list[Issue]:
    """roster.agencies name recipients, once each (issue 14, item 5: New Jersey MOUs name the designated people)."""
    if mou.roster is None:
        return []
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, agency in enumerate(mou.roster.agencies):
        if agency in seen:
            issues.append((("roster", "agencies", i), f"duplicate agency {agency!r}"))
        elif agency not in mou.parties.recipients:
            issues.append((("roster", "agencies", i), f"agency {agency!r} is not in parties.recipients"))
        seen.add(agency)
    return issues
