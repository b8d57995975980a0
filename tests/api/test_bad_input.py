"""Bad input is a 4xx with a stable error body, never a 500 and never a request to a camera system.

(The ``api`` fixture's client fails any test that gets a 500.)
"""

from __future__ import annotations

import pytest

from tests.api.support import PREFIX, THREAT, Api, assert_422, stored_emergencies
from tests.fakes.hls_origin import DECOY_PATH

CAMERA_IDS = [
    "..", "%2e%2e", "%2E%2E", ".", "%2e", "....", ".hidden", "-dash", "Saxe-Ext-01", "saxe%20ext", "saxe-ext-01%00",
    "caf%C3%A9", "%", "%zz", "saxe-ext-01%2Flive.m3u8", "%2e%2e%2f%2e%2e%2fprivate", "..%5c..%5cprivate", "a" * 65,
    "a" * 5000, "saxe-ext-01;rm", "saxe-ext-01'--", "%u002e",
]  # fmt: skip


SEGMENT_NAMES = [
    "..", "%2e%2e", "%2e%2e%2f%2e%2e%2fprivate%2fsecret.txt", "..%5csecret", "seg000.ts%00.jpg", "seg000.ts%0a",
    "a" * 129, "a" * 5000, "%2fetc%2fpasswd", "seg001.ts", "SEG000.TS",
]  # fmt: skip
SEGMENT_TOKENS = ["..", "%2e%2e", "a" * 5000, "a.b", ".", "x" * 4000 + "." + "y" * 50, "%00.%00", "abc%2fdef.ghi"]
EMERGENCY_IDS = ["..", "%2e%2e", "%00", "a" * 5000, "em-%27%3B--", "%E2%80%A8"]


def test_path_tricks_in_camera_ids(api: Api, subtests: pytest.Subtests) -> None:
    for camera in CAMERA_IDS:
        for route in ("live.m3u8", "snapshot.jpg"):
            with subtests.test(camera=camera[:40], route=route):
                r = api.get(f"{PREFIX}/{camera}/{route}")
                assert r.status_code in (404, 422), r.text
                body = r.json()
                if r.status_code == 422:
                    assert body["error"] == "invalid_request" and body["field"] == "camera_id"
                else:
                    assert body["error"] in ("not_found", "unknown_camera")
                # Without a token: 401 wherever a route matched, 404 where none did.
                assert api.get(f"{PREFIX}/{camera}/{route}", as_=None).status_code in (401, 404)
    assert api.origin_total() == 0


def test_path_tricks_in_camera_ids_on_the_segment_route(api: Api, subtests: pytest.Subtests) -> None:
    token = api.playlist_uris("saxe-ext-01")[0].split("?t=")[1]
    for camera in CAMERA_IDS:
        with subtests.test(camera=camera[:40]):
            r = api.get(f"{PREFIX}/{camera}/hls/seg000.ts?t={token}", as_=None)
            assert r.status_code in (401, 404, 422), r.text
    assert api.origin_total() == 1  # the playlist only
    assert api.origin.count(DECOY_PATH) == 0


def test_path_tricks_in_segment_names(api: Api, subtests: pytest.Subtests) -> None:
    token = api.playlist_uris("saxe-ext-01")[0].split("?t=")[1]
    for name in SEGMENT_NAMES:
        with subtests.test(name=name[:40]):
            r = api.get(f"{PREFIX}/saxe-ext-01/hls/{name}?t={token}", as_=None)
            assert r.status_code in (401, 404, 422), r.text
            if r.status_code == 401:
                assert r.json()["reason"] == "name_mismatch"
    assert api.origin_total() == 1  # the playlist only
    assert api.origin.count(DECOY_PATH) == 0
    # Other query parameters are not part of the name: this is the signed segment itself.
    assert api.get(f"{PREFIX}/saxe-ext-01/hls/seg000.ts?x=1&t={token}", as_=None).status_code == 200
    assert api.get(f"{PREFIX}/saxe-ext-01/hls/seg000.ts", as_=None).json()["reason"] == "malformed"  # no token


def test_path_tricks_in_segment_tokens(api: Api, subtests: pytest.Subtests) -> None:
    for token in SEGMENT_TOKENS:
        with subtests.test(token=token[:40]):
            r = api.get(f"{PREFIX}/saxe-ext-01/hls/seg000.ts?t={token}", as_=None)
            assert r.status_code in (401, 404, 422), r.text
    assert api.origin_total() == 0


def test_odd_emergency_ids_are_404(api: Api, subtests: pytest.Subtests) -> None:
    for emergency_id in EMERGENCY_IDS:
        with subtests.test(emergency_id=emergency_id[:40]):
            for r in (api.get(f"/api/v1/emergencies/{emergency_id}"), api.end(emergency_id)):
                assert r.status_code in (404, 405), r.text


# -- bodies -------------------------------------------------------------------------------------------------

JSON = {"content-type": "application/json"}


INVALID_JSON = [b"{not json", b"", b"{", b'{"mou": "ncps-ncpd-video",}', b"null", b"[]", b'"text"', b"42", b"NaN"]
UNPARSEABLE = [b"\xff\xfe\x00", b"[" * 100_000, b'{"a":' * 50_000]  # not UTF-8; nested past the recursion limit
CONTENT_TYPES = [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
    "application/json-patch+jsonx", "",
]  # fmt: skip


def test_invalid_json_bodies_are_422_and_unparseable_ones_400(api: Api, subtests: pytest.Subtests) -> None:
    for content in INVALID_JSON:
        with subtests.test(content=content[:20]):
            r = api.post("/api/v1/emergencies", as_="dispatcher", content=content, headers=JSON)
            assert r.status_code == 422, r.text
            body = r.json()
            assert body["error"] == "invalid_request" and body["field"] == "body", body
    for content in UNPARSEABLE:
        with subtests.test(content=content[:20]):
            r = api.post("/api/v1/emergencies", as_="dispatcher", content=content, headers=JSON)
            assert r.status_code == 400, r.text
            assert r.json()["error"] == "bad_request"
    assert stored_emergencies(api) == 0


def test_invalid_json_without_a_token_is_401_not_422(api: Api) -> None:
    # Deny by default: an anonymous caller learns nothing about a route's input.
    for content in (b"{not json", b"[" * 100_000, b"\xff\xfe"):
        r = api.post("/api/v1/emergencies", as_=None, content=content, headers=JSON)
        assert r.status_code == 401 and r.json()["error"] == "unauthenticated", r.text
        assert r.headers["www-authenticate"].startswith("Bearer ")
    r = api.post("/api/v1/emergencies", as_=None, content=b"{not json", headers=JSON | {"Authorization": "Bearer x"})
    assert r.status_code == 401


def test_wrong_content_types_are_422(api: Api, subtests: pytest.Subtests) -> None:
    payload = f'{{"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": "{THREAT}"}}'.encode()
    for content_type in CONTENT_TYPES:
        with subtests.test(content_type=content_type):
            headers = {"content-type": content_type} if content_type else {}
            r = api.post("/api/v1/emergencies", as_="dispatcher", content=payload, headers=headers)
            assert r.status_code == 422, r.text
            assert r.json()["error"] == "invalid_request"
    assert stored_emergencies(api) == 0


def test_a_json_content_type_with_parameters_is_accepted(api: Api) -> None:
    payload = f'{{"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": "{THREAT}"}}'.encode()
    r = api.post("/api/v1/emergencies", as_="dispatcher", content=payload,
                 headers={"content-type": "application/json; charset=utf-8"})  # fmt: skip
    assert r.status_code == 201, r.text


def test_wrong_types_in_the_body_are_422_naming_the_field(api: Api) -> None:
    cases = {
        "mou": 7, "site": ["ncps-saxe"], "zones": [1, {}], "center": "41,-73", "radius_m": "ten", "threat": {"x": 1},
        "duration_minutes": "sixty", "incident": 12,
    }  # fmt: skip
    for name, value in cases.items():
        body = {"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT, name: value}
        r = api.post("/api/v1/emergencies", as_="dispatcher", json=body)
        assert r.status_code == 422, (name, r.text)
        field = r.json()["field"]
        assert field == name or field.startswith(f"{name}."), (name, field)


def test_a_very_large_body_is_refused_without_a_500(api: Api) -> None:
    body = {"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": "word " * 200_000}
    assert_422(api.post("/api/v1/emergencies", as_="dispatcher", json=body), "threat")


# -- queries, methods, headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/cameras", {"limit": "1e3"}, "limit"),
        ("/api/v1/cameras", {"offset": "99999999999999999999999"}, None),
        ("/api/v1/emergencies", {"active": "maybe"}, "active"),
    ],
)
def test_bad_query_values(api: Api, path: str, params: dict, field: str | None) -> None:
    r = api.get(path, params=params)
    if field is None:
        assert r.status_code in (200, 422)
    else:
        assert_422(r, field)


def test_odd_query_values_are_just_no_match(api: Api) -> None:
    for site in ("ü", "' OR 1=1 --", "%00", "a" * 5000):
        r = api.get("/api/v1/cameras", params={"site": site})
        assert r.status_code == 200 and r.json()["cameras"] == []
    r = api.get("/api/v1/audit", as_="auditor", params={"principal": "' OR '1'='1", "camera": "%"})
    assert r.status_code == 200 and r.json()["records"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/api/v1/emergencies"), ("PUT", "/api/v1/cameras"), ("POST", "/api/v1/cameras"),
     ("DELETE", f"{PREFIX}/saxe-ext-01/live.m3u8"), ("PATCH", "/api/v1/audit"), ("GET", "/api/v1/emergencies/x/end")],
)  # fmt: skip
def test_wrong_methods_are_405(api: Api, method: str, path: str) -> None:
    r = api.client.request(method, path, headers=api.headers("officer"))
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_non_ascii_authorization_bytes_are_401(api: Api) -> None:
    r = api.client.get("/api/v1/cameras", headers=[(b"authorization", b"Bearer \xff\xfe\xfa.\xc3\xa9.x")])
    assert r.status_code == 401


def test_odd_forwarded_headers_from_a_trusted_proxy(make_api: object) -> None:
    with make_api(server={"trusted_proxies": ["testclient"]}) as api:  # type: ignore[operator]
        for value in ("", ",,,", "not an address", "a" * 5000):
            assert api.get("/api/v1/cameras", headers={"X-Forwarded-For": value}).status_code == 200


def test_control_and_bidi_characters_in_what_people_type_are_422(api: Api) -> None:
    """A NUL in a threat reached the store (PostgreSQL refuses it: the audit log was marked unwritable) and a bidi
    override went to the parties as typed; now each is 422 naming the field and the character. Lines stay."""
    for name, value in {"threat": THREAT + " \x00", "incident": "NC-26\u202e0201"}.items():
        body = {"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT, name: value}
        assert_422(api.post("/api/v1/emergencies", as_="dispatcher", json=body), name, "U+")
    assert stored_emergencies(api) == 0
    emergency = api.declared(threat=THREAT + "\nSecond line, with a tab:\there.")
    extend = {"minutes": 10, "reason": "more time\x07"}
    r = api.post(f"/api/v1/emergencies/{emergency['id']}/extend", as_="supervisor", json=extend)
    assert_422(r, "reason", "U+0007")
    r = api.post(f"/api/v1/emergencies/{emergency['id']}/end", as_="supervisor", json={"reason": "done\u202e"})
    assert_422(r, "reason", "U+202E")
    assert api.end(emergency["id"], as_="supervisor").status_code == 200
