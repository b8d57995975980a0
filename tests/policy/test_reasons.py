"""Every reason code of the contract (section 4), table-driven over a small district."""

from datetime import timedelta

import pytest

from broker.policy import Principal
from broker.policy.types import REASON_CODES
from broker.timeutil import parse_instant
from tests.policy.builders import MONDAY_MORNING, emergency, mou, pdp, request

E1 = emergency()
SATURDAY = parse_instant("2026-09-19T15:00:00Z")
EVENING = parse_instant("2026-09-14T21:00:00Z")  # 17:00 local, after 07:00-16:00
BEFORE = parse_instant("2026-06-30T12:00:00Z")
LAST_DAY_LATE = parse_instant("2027-07-01T03:59:59Z")  # 23:59:59 local on expires
AFTER = parse_instant("2027-07-01T04:00:00Z")  # 00:00 local the day after expires
FIRE = Principal.of("ff", "fd", ["captain"])
CLERK = Principal.of("c", "pd", ["clerk"])

CASES = [
    # id, request, (allowed, reason, mou, grant, clause, emergency)
    ("allowed-always", request("hs-ext"), (True, "allowed", "sd-pd", "G1", "4.1", None)),
    ("allowed-emergency", request("hs-int", emergencies=(E1,)), (True, "allowed", "sd-pd", "G2", "4.2", "E1")),
    ("unknown_camera", request("nope"), (False, "unknown_camera", None, None, None, None)),
    ("no_mou", request("hs-ext", principal=FIRE), (False, "no_mou", None, None, None, None)),
    (
        "never_shared_zone",
        request("hs-res", emergencies=(E1,)),
        (False, "never_shared_zone", "sd-pd", None, None, None),
    ),
    ("mou_not_in_effect-before", request("hs-ext", at=BEFORE), (False, "mou_not_in_effect", "sd-pd", None, None, None)),
    ("mou_not_in_effect-after", request("hs-ext", at=AFTER), (False, "mou_not_in_effect", "sd-pd", None, None, None)),
    ("unclassified-absent", request("hs-new"), (False, "unclassified_camera", "sd-pd", None, None, None)),
    ("unclassified-unknown-zone", request("hs-odd"), (False, "unclassified_camera", "sd-pd", None, None, None)),
    (
        "no_matching_grant-role",
        request("hs-ext", principal=CLERK),
        (False, "no_matching_grant", "sd-pd", None, None, None),
    ),
    (
        "no_matching_grant-action",
        request("hs-ext", "export", window=("2026-09-14T12:00:00Z", "2026-09-14T12:10:00Z")),
        (False, "no_matching_grant", "sd-pd", None, None, None),
    ),
    (
        "outside_schedule-weekend",
        request("hs-ext", at=SATURDAY),
        (False, "outside_schedule", "sd-pd", "G1", "4.1", None),
    ),
    (
        "outside_schedule-evening",
        request("hs-ext", at=EVENING),
        (False, "outside_schedule", "sd-pd", "G1", "4.1", None),
    ),
    ("no_emergency", request("hs-int"), (False, "no_emergency", "sd-pd", "G2", "4.2", None)),
    (
        "no_emergency-other-site",
        request("ms-int", emergencies=(E1,)),
        (False, "no_emergency", "sd-pd", "G2", "4.2", None),
    ),
    (
        "outside_playback_window-always",
        request("hs-ext", "playback", window=("2026-09-01T12:00:00Z", "2026-09-01T12:10:00Z")),
        (False, "outside_playback_window", "sd-pd", "G1", "4.1", None),
    ),
    (
        "playback-always-ok",
        request("hs-ext", "playback", window=("2026-09-10T12:00:00Z", "2026-09-10T12:10:00Z")),
        (True, "allowed", "sd-pd", "G1", "4.1", None),
    ),
    (
        "outside_playback_window-emergency",
        request("hs-int", "playback", emergencies=(E1,), window=("2026-09-14T12:59:00Z", "2026-09-14T13:01:00Z")),
        (False, "outside_playback_window", "sd-pd", "G2", "4.2", None),
    ),
    (
        "playback-emergency-from",
        request("hs-int", "playback", emergencies=(E1,), window=("2026-09-14T12:59:30Z", "2026-09-14T13:01:00Z")),
        (True, "allowed", "sd-pd", "G2", "4.2", "E1"),
    ),
]


@pytest.mark.parametrize(("req", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reason(req, want):
    d = pdp().decide(req)
    assert (d.allowed, d.reason, d.mou, d.grant, d.clause, d.emergency) == want


def test_every_reason_code_is_covered():
    from tests.policy.test_roster import ROSTER_CASES  # not_on_roster needs a roster (issue 14, item 5)

    covered = {c[2][1] for c in CASES} | {c[3][1] for c in ROSTER_CASES}
    assert covered == set(REASON_CODES)


def test_expires_is_inclusive_through_end_of_local_day():
    assert pdp().decide(request("hs-ext", "snapshot", at=LAST_DAY_LATE)).reason == "outside_schedule"  # Wed 23:59
    weekday_last = parse_instant("2027-06-30T14:00:00Z")
    assert pdp().decide(request("hs-ext", at=weekday_last)).allowed


def test_schedule_end_is_exclusive_and_start_inclusive():
    start = parse_instant("2026-09-14T11:00:00Z")  # 07:00 EDT
    assert pdp().decide(request("hs-ext", at=start)).allowed
    assert pdp().decide(request("hs-ext", at=start - timedelta(seconds=1))).reason == "outside_schedule"
    end = parse_instant("2026-09-14T20:00:00Z")  # 16:00 EDT
    assert pdp().decide(request("hs-ext", at=end)).reason == "outside_schedule"
    assert pdp().decide(request("hs-ext", at=end - timedelta(seconds=1))).allowed


def test_schedule_uses_mou_timezone_across_dst():
    winter = parse_instant("2026-12-14T12:30:00Z")  # 07:30 EST (UTC-5)
    assert pdp().decide(request("hs-ext", at=winter)).allowed
    assert pdp().decide(request("hs-ext", at=winter - timedelta(hours=1))).reason == "outside_schedule"


class TestEmergencyCoverage:
    def check(self, e, camera="hs-int", at=MONDAY_MORNING):
        return pdp().decide(request(camera, emergencies=(e,), at=at))

    def test_building_scope(self):
        e = emergency(buildings=frozenset({"gym"}))
        assert self.check(e, "hs-gym").allowed
        assert self.check(e, "hs-int").reason == "no_emergency"

    def test_zone_scope(self):
        assert self.check(emergency(zones=frozenset({"exterior"}))).reason == "no_emergency"
        assert self.check(emergency(zones=frozenset({"interior"}))).allowed

    def test_radius_scope(self):
        from broker.policy import GeoPoint

        e = emergency(center=GeoPoint(41.0, -73.0), radius_m=20.0)
        assert self.check(e, "hs-int").allowed  # ~11 m away
        assert self.check(e, "hs-gym").reason == "no_emergency"  # ~1.1 km away

    def test_radius_needs_a_camera_location(self):
        from broker.policy import GeoPoint

        doc = mou()
        doc["zones"]["rooftop"] = {}
        doc["grants"][1]["zones"] = ["interior", "rooftop"]
        e = emergency(center=GeoPoint(41.0, -73.0), radius_m=100000.0)
        assert pdp(doc).decide(request("hs-odd", emergencies=(e,))).reason == "no_emergency"

    def test_time_bounds(self):
        e = emergency(ended="2026-09-14T13:03:00Z")
        assert self.check(e).reason == "no_emergency"  # ended before 13:05
        assert self.check(emergency(declared="2026-09-14T13:06:00Z")).reason == "no_emergency"
        assert self.check(emergency(expires="2026-09-14T13:05:00Z")).reason == "no_emergency"  # end is exclusive
        assert self.check(emergency(declared="2026-09-14T13:05:00Z")).allowed  # start inclusive
        # ended_at later than expires_at: expires_at rules
        assert (
            self.check(emergency(expires="2026-09-14T13:04:00Z", ended="2026-09-14T13:30:00Z")).reason == "no_emergency"
        )

    def test_only_activates_its_own_mou(self):
        assert self.check(emergency(mou_id="other-mou")).reason == "no_emergency"

    def test_first_covering_emergency_in_request_order_is_used(self):
        e1, e2 = emergency("A", declared="2026-09-14T13:04:00Z"), emergency("B")
        d = pdp().decide(request("hs-int", emergencies=(emergency("X", site="ms"), e1, e2)))
        assert d.emergency == "A"


def test_precedence_no_emergency_over_outside_schedule():
    doc = mou()
    doc["grants"].append(
        {
            "id": "G9",
            "clause": "9",
            "agency": "pd",
            "roles": ["officer"],
            "zones": ["exterior"],
            "actions": ["live"],
            "when": "emergency",
        }
    )
    d = pdp(doc).decide(request("hs-ext", at=SATURDAY))
    assert (d.reason, d.grant) == ("no_emergency", "G9")
    assert [y[0] for y in d.yielded] == ["outside_schedule", "no_emergency"]


def test_mou_id_order_decides_between_mous():
    a = mou(mou="a-first")
    a["grants"] = [dict(a["grants"][0], id="A1", schedule=None)]
    d = pdp(mou(), a).decide(request("hs-ext", at=SATURDAY))
    assert (d.allowed, d.mou, d.grant) == (True, "a-first", "A1")


def test_never_zone_in_any_candidate_denies_even_if_another_grants():
    other = mou(mou="aa-open", zones={"restricted": {}})
    other["grants"] = [dict(other["grants"][0], id="R1", zones=["restricted"], schedule=None)]
    d = pdp(mou(), other).decide(request("hs-res"))
    assert (d.reason, d.mou) == ("never_shared_zone", "sd-pd")


def test_denial_reports_first_yield_of_winning_reason_across_mous():
    late = mou(mou="zz-late")
    d = pdp(mou(), late).decide(request("hs-int"))
    assert (d.reason, d.mou, d.grant) == ("no_emergency", "sd-pd", "G2")


def test_emergency_grant_without_from_uses_declared_at():
    doc = mou()
    doc["grants"][1]["playback"] = None
    req = request("hs-int", "playback", emergencies=(E1,), window=("2026-09-14T12:59:59Z", "2026-09-14T13:01:00Z"))
    assert pdp(doc).decide(req).reason == "outside_playback_window"
