"""The redline of versions with a roster (issue 14, items 3 and 5): a roster added, removed or changed is a change in
words, and the impact between two rostered versions is what the people on the roster gain or lose (asked as someone
of no roster, both versions deny everything and the impact would say nothing changed)."""

from __future__ import annotations

from broker.admin.mous.diff import diff_mous
from broker.admin.mous.impact import compute_impact, names_of
from tests.admin.mous.demo_change import AT, MODEL_TEXT, V3, demo_inventory, parse

ROSTER = "roster:\n  agencies: [ncpd]\n"
NO_LIVE_G1 = (
    "    actions: [live, snapshot, playback]\n    when: always",
    "    actions: [snapshot, playback]\n    when: always",
)


def v(text: str, version: int) -> str:
    return text.replace("version: 3", f"version: {version}")


def test_the_impact_between_two_rostered_versions_is_what_the_named_people_lose() -> None:
    inv = demo_inventory()
    old = parse(v(V3 + ROSTER, 4), inv)
    new = parse(v(V3.replace(*NO_LIVE_G1) + ROSTER, 5), inv)
    found = compute_impact(inv, old, new, MODEL_TEXT, AT)
    lost = {(a, r, m): sorted(o.lost) for a, r, m, o in found.rows if o.lost}
    assert lost == {("ncpd", role, "always"): ["live"] for role in ("officer", "dispatcher", "supervisor")}


def test_a_roster_added_is_a_change_and_its_impact_is_on_everyone_not_named() -> None:
    inv = demo_inventory()
    old, new = parse(V3, inv), parse(v(V3 + ROSTER, 4), inv)
    assert [(c.area, c.change, c.path, c.text) for c in diff_mous(old, new, names_of(inv))] == [
        (
            "roster",
            "added",
            "roster",
            "Only the people of New Canaan Police Department named on its roster may use its grants "
            "(a roster change needs no countersignature).",
        )
    ]
    found = compute_impact(inv, old, new, MODEL_TEXT, AT)
    assert {reason for *_, o in found.rows for reason in o.reasons.values()} == {"not_on_roster"}
    assert all(o.lost and not o.gained for *_, o in found.rows)
    back = [(c.change, c.text) for c in diff_mous(new, old, names_of(inv))]
    assert back == [("removed", "Anyone of New Canaan Police Department may use its grants again: it has no roster.")]
    countersigned = parse(v(V3 + ROSTER + "  countersign: true\n", 4), inv)
    assert [(c.change, c.path, c.text) for c in diff_mous(new, countersigned, names_of(inv))] == [
        (
            "changed",
            "roster",
            "Only the people of New Canaan Police Department named on its roster may use its grants "
            "(a roster change needs the approval of every party).",
        )
    ]
