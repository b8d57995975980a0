"""What changed between two versions of an MOU, in sentences a school board can read (issue 14, item 3). Pure.

Each :class:`Change` names its area (grants, zones, emergency, dates, parties, sites, title, roster), whether
something was added, removed or changed, where (``grants.G1``, ``zones.interior``, ``emergency.max_duration``) and
one sentence.
The wording is the plain-words text the console already shows (:mod:`broker.policy.plainwords`): a changed grant
reads as the grant now and before, a changed emergency rule as who or how long now and before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from broker.documents.mou import EmergencySpec, Grant, Mou, RosterSpec, ZoneSpec
from broker.policy import plainwords as pw
from broker.policy.plainwords import Names

Area = Literal["grants", "zones", "emergency", "dates", "parties", "sites", "title", "roster"]
Kind = Literal["added", "removed", "changed"]
# A grant's fields, and how a board member would name each.
GRANT_FIELDS = {
    "agency": "the agency",
    "roles": "who",
    "actions": "what they may do",
    "zones": "which cameras",
    "when": "when",
    "schedule": "the hours",
    "playback": "which footage",
    "clause": "the clause",
}


@dataclass(frozen=True, slots=True)
class Change:
    area: Area
    change: Kind
    path: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"area": self.area, "change": self.change, "path": self.path, "text": self.text}


def diff_mous(old: Mou, new: Mou, names: Names) -> list[Change]:
    """Every difference from ``old`` to ``new``: title, dates, parties, sites, zones, grants, emergency, roster."""
    return [
        *_title(old, new),
        *_dates(old, new),
        *_parties(old, new, names),
        *_sites(old, new, names),
        *_zones(old, new),
        *_grants(old, new, names),
        *_emergency(old.emergency, new.emergency, names),
        *_roster(old.roster, new.roster, names),
    ]


def _roster(old: RosterSpec | None, new: RosterSpec | None, names: Names) -> list[Change]:
    """Issue 14, item 5: whose people must be on the roster (contract section 2); whether a change needs every party."""
    if old == new:
        return []
    if new is None:
        assert old is not None
        text = f"Anyone of {_agencies(old.agencies, names)} may use its grants again: it has no roster."
        return [Change("roster", "removed", "roster", text)]
    how = "the approval of every party" if new.countersign else "no countersignature"
    text = (
        f"Only the people of {_agencies(new.agencies, names)} named on its roster may use its grants "
        f"(a roster change needs {how})."
    )
    return [Change("roster", "added" if old is None else "changed", "roster", text)]


def _title(old: Mou, new: Mou) -> list[Change]:
    if old.title == new.title:
        return []
    text = f"The title is now {new.title or '(none)'!r} (was {old.title or '(none)'!r})."
    return [Change("title", "changed", "title", text)]


def _expiry(mou: Mou) -> str:
    return f"through {pw.day(mou.expires)}" if mou.expires is not None else "with no end date"


def _dates(old: Mou, new: Mou) -> list[Change]:
    out: list[Change] = []
    if old.effective != new.effective:
        text = f"In force from {pw.day(new.effective)} (was from {pw.day(old.effective)})."
        out.append(Change("dates", "changed", "effective", text))
    if old.expires != new.expires:
        out.append(Change("dates", "changed", "expires", f"In force {_expiry(new)} (was {_expiry(old)})."))
    if old.timezone != new.timezone:
        text = f"Dates and schedules are now read in {new.timezone} time (was {old.timezone})."
        out.append(Change("dates", "changed", "timezone", text))
    return out


def _agencies(ids: Sequence[str], names: Names) -> str:
    return pw.join([pw.agency(names.agencies, a) for a in ids]) or "nobody"


def _parties(old: Mou, new: Mou, names: Names) -> list[Change]:
    out: list[Change] = []
    a, b = old.parties, new.parties
    if a.owner != b.owner:
        text = f"The cameras' owner is now {_agencies([b.owner], names)} (was {_agencies([a.owner], names)})."
        out.append(Change("parties", "changed", "parties.owner", text))
    for agency in [r for r in b.recipients if r not in a.recipients]:
        text = f"{pw.agency(names.agencies, agency)} becomes a recipient of this MOU."
        out.append(Change("parties", "added", f"parties.recipients.{agency}", text))
    for agency in [r for r in a.recipients if r not in b.recipients]:
        text = f"{pw.agency(names.agencies, agency)} is no longer a recipient of this MOU."
        out.append(Change("parties", "removed", f"parties.recipients.{agency}", text))
    return out


def _sites(old: Mou, new: Mou, names: Names) -> list[Change]:
    before, now = pw.sites_text(old, names), pw.sites_text(new, names)
    if old.sites == new.sites and before == now:
        return []
    return [Change("sites", "changed", "sites", f"It now covers {now} (was {before}).")]


def _zone_name(zone: str) -> str:
    return zone.replace("_", " ")


def _zone_flags(zone: str, spec: ZoneSpec) -> str:
    flags = []
    if spec.never:
        flags.append("never shared, by any grant or in any emergency")
    if spec.education_records:
        flags.append("its footage is a FERPA education record (34 CFR 99.3)")
    return f"; {' and '.join(flags)}" if flags else ""


def _zones(old: Mou, new: Mou) -> list[Change]:
    out: list[Change] = []
    for zone, spec in new.zones.items():
        if zone not in old.zones:
            text = f"New zone: {_zone_name(zone)} cameras{_zone_flags(zone, spec)}."
            out.append(Change("zones", "added", f"zones.{zone}", text))
    for zone in old.zones:
        if zone not in new.zones:
            text = f"Zone removed: {_zone_name(zone)} cameras are no longer named by this MOU."
            out.append(Change("zones", "removed", f"zones.{zone}", text))
    for zone, spec in new.zones.items():
        was = old.zones.get(zone)
        if was is None:
            continue
        name = _zone_name(zone)
        if was.never != spec.never:
            text = (
                f"{name.capitalize()} cameras are now never shared, by any grant or in any emergency."
                if spec.never
                else f"{name.capitalize()} cameras are no longer 'never shared': a grant may now name them."
            )
            out.append(Change("zones", "changed", f"zones.{zone}.never", text))
        if was.education_records != spec.education_records:
            text = (
                f"Footage of {name} cameras is now a FERPA education record (34 CFR 99.3): every disclosure is "
                "recorded (34 CFR 99.32)."
                if spec.education_records
                else f"Footage of {name} cameras is no longer treated as a FERPA education record."
            )
            out.append(Change("zones", "changed", f"zones.{zone}.education_records", text))
    return out


def _grant_label(g: Grant) -> str:
    return f"Grant {g.id} (clause {g.clause})"


def _grants(old: Mou, new: Mou, names: Names) -> list[Change]:
    out: list[Change] = []
    before = {g.id: g for g in old.grants}
    after = {g.id: g for g in new.grants}
    for g in new.grants:
        was = before.get(g.id)
        if was is None:
            text = f"{_grant_label(g)} added: {pw.grant_text(new, g, names)}"
            out.append(Change("grants", "added", f"grants.{g.id}", text))
            continue
        now_text, was_text = pw.grant_text(new, g, names), pw.grant_text(old, was, names)
        fields = [words for f, words in GRANT_FIELDS.items() if _field(g, f) != _field(was, f)]
        if fields:  # its own fields: a change of the MOU's sites or emergency rules is said once, there
            text = f"{_grant_label(g)} changes {pw.join(fields)}. Now: {now_text} Before: {was_text}"
            out.append(Change("grants", "changed", f"grants.{g.id}", text))
    for g in old.grants:
        if g.id not in after:
            text = f"{_grant_label(g)} removed. It said: {pw.grant_text(old, g, names)}"
            out.append(Change("grants", "removed", f"grants.{g.id}", text))
    return out


def _field(g: Grant, name: str) -> Any:
    value = getattr(g, name)
    return value.model_dump() if hasattr(value, "model_dump") else value


def _who_list(parties: Sequence[Any], names: Names) -> str:
    return pw.join([pw.who(p, names) for p in parties]) or "nobody"


def _list(items: Sequence[str], the: str = "") -> str:
    return f"{the}{pw.join(list(items))}" if items else "nothing"


# (field, how to say its value, the sentence it goes in; then "(was <the value before>)")
_EMERGENCY_RULES: tuple[tuple[str, Callable[[EmergencySpec, Names], str], str], ...] = (
    ("declare", lambda e, n: _who_list(e.declare, n), "Emergencies may now be declared by {}"),
    (
        "end",
        lambda e, n: pw.join(["the declarer", *(pw.who(p, n) for p in e.end)]),
        "Emergencies may now be ended by {}",
    ),
    (
        "default_duration",
        lambda e, n: pw.duration(e.default_duration),
        "An emergency now lasts {} unless set otherwise",
    ),
    ("max_duration", lambda e, n: pw.duration(e.max_duration), "An emergency now lasts at most {} with extensions"),
    ("require", lambda e, n: _list(e.require, "the "), "A declaration must now state {}"),
    ("triggers", lambda e, n: _list(e.triggers), "Signed alarms that may now declare: {}"),
    ("confirm", lambda e, n: _confirm(e, n), "An alarm's declaration must now be confirmed by {}"),
)


def _confirm(e: EmergencySpec, names: Names) -> str:
    if e.confirm is None:
        return "nobody (it need not be confirmed)"
    return f"{_who_list(e.confirm.by, names)} within {pw.duration(e.confirm.within)}"


def _emergency(old: EmergencySpec | None, new: EmergencySpec | None, names: Names) -> list[Change]:
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [Change("emergency", "added", "emergency", f"Emergency rules added: {pw.emergency_text(new, names)}")]
    if new is None:
        said = pw.emergency_text(old, names)
        text = f"Emergency rules removed: no emergency can be declared under this MOU. They said: {said}"
        return [Change("emergency", "removed", "emergency", text)]
    out: list[Change] = []
    for name, say, sentence in _EMERGENCY_RULES:
        if _dump(getattr(old, name)) == _dump(getattr(new, name)):
            continue
        text = f"{sentence.format(say(new, names))} (was {say(old, names)})."
        out.append(Change("emergency", "changed", f"emergency.{name}", text))
    return out


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value.model_dump() if hasattr(value, "model_dump") else value
