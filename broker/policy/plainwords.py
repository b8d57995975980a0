"""An MOU in plain words, for the people whose cameras it shares (school IT, principals). Pure: no I/O.

Each sentence is built from the document's own fields (contract section 2), nothing else: who (the grant's
agency and roles), what (actions), of which cameras (zones) where (sites), when (always, a schedule, or
only during a declared emergency and for how long at most), which recorded footage (``max_age``, ``from``),
and the clause. The wording is English; ids without a name in the inventory are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from broker.documents.mou import ALL_DAYS, EmergencySpec, Grant, Mou, PartyRoles, Schedule
from broker.policy.compile import CompiledMou

ACTION_WORDS = {
    "live": "watch live video",
    "snapshot": "take snapshots",
    "playback": "play back recorded footage",
    "export": "export recorded footage",
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of agencies and sites (inventory), by id."""

    agencies: Mapping[str, str] = field(default_factory=dict)
    sites: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GrantWords:
    id: str
    clause: str
    text: str


@dataclass(frozen=True, slots=True)
class MouWords:
    period: str  # "In force from 1 July 2026 through 30 June 2027 (America/New_York)."
    grants: tuple[GrantWords, ...]
    never: str | None  # the never-shared zones, one sentence
    records: str | None  # the zones whose footage is a FERPA education record
    emergency: str | None  # who declares, confirms and ends, how long
    roster: str | None = None  # whose users must be named on the MOU's roster (issue 14, item 5)


def join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def plural(role: str) -> str:
    """``officer`` → ``officers``, ``secretary`` → ``secretaries``, ``it_admin`` → ``it admins``."""
    word = role.replace("_", " ")
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def duration(delta: timedelta) -> str:
    """``7 days``, ``1 day``, ``4 h``, ``90 min``, ``30 s`` (the sign is the caller's to say)."""
    seconds = abs(int(delta.total_seconds()))
    if seconds and seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def day(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def agency(agencies: Mapping[str, str], agency_id: str) -> str:
    return agencies.get(agency_id, agency_id)


def who(party: PartyRoles, names: Names) -> str:
    return f"{agency(names.agencies, party.agency)} {join([plural(r) for r in party.roles])}"


def days_text(days: Sequence[str]) -> str:
    numbers = sorted(ALL_DAYS.index(d) for d in set(days))
    if len(numbers) == 7:
        return "every day"
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{DAY_NAMES[numbers[0]]} to {DAY_NAMES[numbers[-1]]}"
    return join([DAY_NAMES[n] for n in numbers])


def schedule_text(schedule: Schedule, timezone: str) -> str:
    start, end = schedule.hours.split("-")
    return f"on {days_text(schedule.days)} from {start} to {end}, {timezone} time"


def sites_text(mou: Mou, names: Names) -> str:
    if mou.sites == ["*"]:
        return f"every {agency(names.agencies, mou.parties.owner)} site"
    return join([names.sites.get(s, s) for s in mou.sites])


def actions_text(actions: Sequence[str]) -> str:
    """``watch live video, take snapshots and play back and export recorded footage``."""
    words = [ACTION_WORDS.get(a, a) for a in actions if a not in ("playback", "export")]
    footage = [verb for a, verb in (("playback", "play back"), ("export", "export")) if a in actions]
    if footage:
        words.append(f"{' and '.join(footage)} recorded footage")
    return join(words)


def footage_text(grant: Grant) -> str | None:
    """Which recorded footage a grant's playback and export reach (contract section 4)."""
    if not {"playback", "export"} & set(grant.actions):
        return None
    pb = grant.playback
    if grant.when == "always":
        if pb is None or pb.max_age is None:
            return "recorded footage of any age"
        return f"recorded footage up to {duration(pb.max_age)} old"
    start = pb.from_ if pb is not None and pb.from_ is not None else timedelta(0)
    if start < timedelta(0):
        return f"pre-event footage from {duration(start)} before the declaration"
    if start > timedelta(0):
        return f"recorded footage from {duration(start)} after the declaration"
    return "recorded footage from the declaration on"


def grant_text(mou: Mou, grant: Grant, names: Names) -> str:
    """``New Canaan Police Department officers and dispatchers may watch live video of exterior cameras at every
    New Canaan Public Schools site, at any time (clause 4.1).``"""
    subject = f"{agency(names.agencies, grant.agency)} {join([plural(r) for r in grant.roles])}"
    acts = actions_text(grant.actions)
    zones = join([z.replace("_", " ") for z in grant.zones])
    conditions: list[str] = []
    if grant.when == "emergency":
        limit = f", for up to {duration(mou.emergency.max_duration)}" if mou.emergency is not None else ""
        conditions.append(f"only during a declared emergency{limit}")
    if grant.schedule is not None:
        conditions.append(schedule_text(grant.schedule, mou.timezone))
    elif grant.when == "always":
        conditions.append("at any time")
    footage = footage_text(grant)
    when = ", ".join(conditions) + (f"; {footage}" if footage else "")
    source = f"clause {grant.clause}"
    return f"{subject} may {acts} of {zones} cameras at {sites_text(mou, names)}, {when} ({source})."


def period_text(mou: Mou) -> str:
    until = f" through {day(mou.expires)}" if mou.expires is not None else ", with no end date"
    return f"In force from {day(mou.effective)}{until} ({mou.timezone})."


def never_text(mou: Mou) -> str | None:
    never = sorted(mou.never_zones)
    if not never:
        return None
    return f"Never shared, by any grant or in any emergency: {join([z.replace('_', ' ') for z in never])} cameras."


def records_text(mou: Mou) -> str | None:
    zones = sorted(z for z, spec in mou.zones.items() if spec.education_records)
    if not zones:
        return None
    return (
        f"Footage of {join([z.replace('_', ' ') for z in zones])} cameras is a FERPA education record (34 CFR 99.3): "
        "every disclosure is recorded (34 CFR 99.32)."
    )


def emergency_text(em: EmergencySpec | None, names: Names) -> str | None:
    if em is None:
        return None
    parts = [f"Emergencies are declared by {join([who(p, names) for p in em.declare])}"]
    enders = ["the declarer", *(who(p, names) for p in em.end)]
    parts.append(f"ended by {join(enders)}")
    parts.append(
        f"last {duration(em.default_duration)} unless set otherwise, at most {duration(em.max_duration)} "
        "with extensions"
    )
    if em.require:
        parts.append(f"a declaration must state the {join(list(em.require))}")
    sentence = "; ".join(parts) + "."
    if em.triggers:
        sentence += f" Signed alarms that may declare: {join(list(em.triggers))}."
    if em.confirm is not None:
        by, within = join([who(p, names) for p in em.confirm.by]), duration(em.confirm.within)
        sentence += f" An alarm's declaration ends by itself unless {by} confirm it within {within}."
    return sentence


def roster_text(mou: Mou, names: Names) -> str | None:
    """``Only the New Canaan Police Department staff named on the MOU's roster may use its grants; a change to the
    roster takes effect once every party approved it.``"""
    if mou.roster is None:
        return None
    staff = join([agency(names.agencies, a) for a in mou.roster.agencies])
    change = "once every party approved it" if mou.roster.countersign else "at once"
    return (
        f"Only the {staff} staff named on the MOU's roster may use its grants; a roster change takes effect {change}."
    )


def describe_mou(mou: Mou, names: Names) -> MouWords:
    return MouWords(
        period=period_text(mou),
        grants=tuple(GrantWords(g.id, g.clause, grant_text(mou, g, names)) for g in mou.grants),
        never=never_text(mou),
        records=records_text(mou),
        emergency=emergency_text(mou.emergency, names),
        roster=roster_text(mou, names),
    )


def status_at(cm: CompiledMou, at: datetime) -> str:
    """``in_force``, ``not_yet`` (before its effective day) or ``expired`` at ``at`` (contract section 4)."""
    if cm.in_effect(at):
        return "in_force"
    return "not_yet" if at < cm.start else "expired"
