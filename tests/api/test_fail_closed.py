"""No answer without its durable record: counting what was served, refusing while the audit cannot write."""

from __future__ import annotations

from datetime import timedelta

from tests.api.support import PREFIX, Api


def served(api: Api, camera: str) -> list[tuple[int, int]]:
    return [(r["details"]["requests"], r["details"]["bytes"]) for r in api.audit(kind="session.served", camera=camera)]


def test_every_answer_is_counted_before_it_is_sent_and_failures_are_not(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")  # 1: the playlist
    assert api.get(uris[0], as_=None).status_code == 200  # 2
    api.origin.fail("cam1/seg001.ts", status=500)
    assert api.get(uris[1], as_=None).status_code == 502  # failed upstream: not served, not counted
    api.origin.fail("cam1/index.m3u8", status=500)
    api.clock.advance(timedelta(seconds=5))  # the cached playlist is stale: the reload goes upstream
    assert api.live("saxe-ext-01").status_code == 502  # nor a failed playlist reload
    api.origin.reset()
    uris = api.playlist_uris("saxe-ext-01")  # 3
    got = api.get(uris[1], as_=None)
    assert got.status_code == 200  # 4
    counts = served(api, "saxe-ext-01")
    assert [n for n, _ in counts] == [1, 2, 3, 4]
    assert counts[-1][1] - counts[-2][1] == len(got.content)  # the bytes of the answer itself
    api.clock.advance(timedelta(seconds=31))
    api.services.tick()
    (end,) = api.audit(kind="session.end", camera="saxe-ext-01")
    assert (end["details"]["requests"], end["details"]["bytes"]) == counts[-1]


def test_a_snapshot_is_recorded_as_served_with_its_size(api: Api) -> None:
    r = api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg")
    assert r.status_code == 200
    (rec,) = api.audit(kind="snapshot.served")
    assert (rec["camera"], rec["principal_sub"], rec["grant"], rec["clause"]) == (
        "saxe-ext-01",
        "officer-17",
        "G1",
        "4.1",
    )
    assert rec["details"]["bytes"] == len(r.content)


def test_while_the_audit_cannot_write_nothing_is_served_and_readyz_says_why(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")
    api.sql("ALTER TABLE audit_records RENAME TO audit_records_away")
    try:
        api.services.tick()  # housekeeping's probe: a real write, which fails
        ready = api.get("/readyz", as_=None)
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
        body = ready.json()
        assert body["status"] == "unavailable" and body["audit"]["writable"] is False
        assert "audit_records" in body["audit"]["reason"] and body["audit"]["since"]
        for r in (
            api.get(uris[0], as_=None),  # the open session stops
            api.live("saxe-ext-01"),
            api.live("saxe-int-01", as_="officer2"),
            api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg"),
        ):
            assert r.status_code == 503 and r.json()["error"] == "audit_unavailable", r.text
            assert r.headers["Retry-After"] == "5"
    finally:
        api.sql("ALTER TABLE audit_records_away RENAME TO audit_records")
    api.services.tick()  # recovers without a restart
    assert api.get("/readyz", as_=None).status_code == 200
    assert api.live("saxe-ext-01").status_code == 200
    assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"] is True
