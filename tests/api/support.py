"""Helpers of the API tests: the test inventory (cameras streaming from a fake HLS origin), actors, ``Api``.

Requests are made as named actors (``api.get(path, as_="officer")``), each a dev-issuer token minted on the
FakeClock.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from broker.api.services import Services
from broker.clock import FakeClock
from tests.fakes.hls_origin import FakeHlsOrigin, OriginContent
from tests.paths import REPO

# Monday 2026-09-14, 09:00 in New Canaan: inside both MOUs' effective periods and the parking schedule.
START = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
MOUS = REPO / "policies" / "mou"
PREFIX = "/api/v1/cameras"
THREAT = "An armed intruder was reported inside the main building near the front office"

# name -> (sub, agency, roles)
ACTORS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "officer": ("officer-17", "ncpd", ("officer",)),
    "officer2": ("officer-22", "ncpd", ("officer",)),
    "officer3": ("officer-31", "ncpd", ("officer",)),
    "dispatcher": ("dispatch-3", "ncpd", ("dispatcher",)),
    "dispatcher2": ("dispatch-4", "ncpd", ("dispatcher",)),
    "supervisor": ("sgt-1", "ncpd", ("supervisor",)),
    "principal": ("principal-saxe", "ncps", ("principal",)),
    "parking": ("pb-sup-1", "ncpb", ("supervisor",)),
    "fire": ("ff-9", "ncfd", ("officer", "dispatcher", "supervisor")),
    "auditor": ("auditor-1", "ncps", ("auditor",)),
    "operator": ("it-admin-1", "ncps", ("operator",)),
    "chief": ("chief-1", "ncpd", ("chief",)),  # the police MOU approver (issue 14)
    "superintendent": ("supt-1", "ncps", ("superintendent",)),
}

# Refs are the fake origin's "cam1" / "cam2" ("multi": a master playlist of both). The origins are plain http on
# 127.0.0.1, so verify_tls is moot: false skips loading the CA bundle for each system (~20 ms per app).
INVENTORY = """\
agencies:
  - {{id: ncps, name: New Canaan Public Schools, kind: school_district}}
  - {{id: ncpd, name: New Canaan Police Department, kind: police}}
  - {{id: ncpb, name: New Canaan Parking Bureau, kind: parking}}

systems:
  - {{id: ncps-vms, owner: ncps, adapter: hls, base_url: "{base}", verify_tls: false}}
  - {{id: ncps-slow, owner: ncps, adapter: hls, base_url: "{base}", timeout_seconds: 0.5, verify_tls: false}}
  - {{id: ncps-dead, owner: ncps, adapter: hls, base_url: "{dead}", timeout_seconds: 2, verify_tls: false}}
  - {{id: ncpb-cams, owner: ncpb, adapter: hls, base_url: "{base}", verify_tls: false}}

sites:
  - {{id: ncps-saxe, name: Saxe Middle School, owner: ncps, timezone: America/New_York, location: {{lat: 41.1488, lon: -73.4957}}}}
  - {{id: ncps-east, name: East School, owner: ncps, timezone: America/New_York, location: {{lat: 41.1570, lon: -73.4640}}}}
  - {{id: ncpb-lots, name: Parking Bureau, owner: ncpb, timezone: America/New_York, location: {{lat: 41.1468, lon: -73.4946}}}}

cameras:
  - {{id: saxe-ext-01, name: Main entrance, site: ncps-saxe, building: main, zone: exterior, location: {{lat: 41.14885, lon: -73.49571}}, system: ncps-vms, ref: cam1}}
  - {{id: saxe-ext-03, name: Gym entrance (multi-bitrate), site: ncps-saxe, building: gym, zone: exterior, system: ncps-vms, ref: multi}}
  - {{id: saxe-ext-02, name: Side door, site: ncps-saxe, building: main, zone: exterior, location: {{lat: 41.14870, lon: -73.49580}}, system: ncps-vms, ref: cam2}}
  - {{id: saxe-int-01, name: Front office hallway, site: ncps-saxe, building: main, zone: interior, location: {{lat: 41.14882, lon: -73.49565}}, system: ncps-vms, ref: cam2}}
  - {{id: saxe-int-02, name: Library, site: ncps-saxe, building: main, zone: interior, location: {{lat: 41.14860, lon: -73.49530}}, system: ncps-vms, ref: cam1}}
  - {{id: saxe-gym-01, name: Gym lobby, site: ncps-saxe, building: gym, zone: interior, system: ncps-vms, ref: cam1}}
  - {{id: saxe-res-01, name: Locker room corridor, site: ncps-saxe, building: gym, zone: restricted, system: ncps-vms, ref: cam1}}
  - {{id: saxe-new-01, name: New camera (not yet classified), site: ncps-saxe, building: main, system: ncps-vms, ref: cam1}}
  - {{id: saxe-slow-01, name: Bus loop (slow system), site: ncps-saxe, building: main, zone: exterior, system: ncps-slow, ref: cam1}}
  - {{id: saxe-dead-01, name: Field (system down), site: ncps-saxe, building: main, zone: exterior, system: ncps-dead, ref: cam1}}
  - {{id: saxe-nosys-01, name: Loading dock (no system), site: ncps-saxe, building: main, zone: exterior}}
  - {{id: east-ext-01, name: Bus loop, site: ncps-east, building: main, zone: exterior, system: ncps-vms, ref: cam2}}
  - {{id: east-int-01, name: Main hallway, site: ncps-east, building: main, zone: interior, system: ncps-vms, ref: cam2}}
  - {{id: lots-ext-01, name: Morse Court lot, site: ncpb-lots, zone: lot, location: {{lat: 41.14680, lon: -73.49460}}, system: ncpb-cams, ref: cam1}}
  - {{id: pb-body-01, name: Parking officer body camera 1, site: ncpb-lots, zone: body_worn, mobile: true, system: ncpb-cams, ref: cam2}}
"""

SAXE = [
    "saxe-ext-01",
    "saxe-ext-03",
    "saxe-ext-02",
    "saxe-int-01",
    "saxe-int-02",
    "saxe-gym-01",
    "saxe-res-01",
    "saxe-new-01",
    "saxe-slow-01",
    "saxe-dead-01",
    "saxe-nosys-01",
]
EAST = ["east-ext-01", "east-int-01"]
LOTS = ["lots-ext-01", "pb-body-01"]
ALL_CAMERAS = SAXE + EAST + LOTS


def free_port_url(path: str = "/hls/") -> str:
    """A 127.0.0.1 URL on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def write_inventory(directory: Path, base_url: str) -> Path:
    path = directory / "inventory.yaml"
    path.write_text(INVENTORY.format(base=base_url, dead=free_port_url()), encoding="utf-8")
    return path


def no_500(response: httpx.Response) -> None:
    assert response.status_code != 500, f"500 from {response.request.url}: {response.read()!r}"


@dataclass
class Api:
    client: TestClient
    app: FastAPI
    clock: FakeClock
    origin: FakeHlsOrigin
    content: OriginContent
    data_dir: Path
    store_url: str
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return self.app.state.services

    # -- identities ------------------------------------------------------------------------------------
    def token(self, actor: str = "officer", **kw: Any) -> str:
        """A dev-issuer token of ``actor`` minted now (``kw`` goes to ``mint``: ``now``, ``ttl``)."""
        if kw:
            sub, agency, roles = ACTORS[actor]
            return self.mint(sub, agency, roles, **kw)
        if actor not in self._tokens:
            sub, agency, roles = ACTORS[actor]
            self._tokens[actor] = self.mint(sub, agency, roles)
        return self._tokens[actor]

    def travel(self, instant: datetime) -> None:
        """Set the clock (backwards too) and forget the tokens minted so far (they may not be valid then)."""
        self.clock.set(instant)
        self._tokens.clear()

    def mint(self, sub: str, agency: str, roles: tuple[str, ...] | list[str], **kw: Any) -> str:
        assert self.services.dev_issuer is not None
        kw.setdefault("now", self.clock.now())
        return self.services.dev_issuer.mint(sub, agency, list(roles), **kw)

    def headers(self, as_: str | None) -> dict[str, str]:
        return {} if as_ is None else {"Authorization": f"Bearer {self.token(as_)}"}

    # -- requests --------------------------------------------------------------------------------------
    def get(self, path: str, as_: str | None = "officer", **kw: Any) -> httpx.Response:
        headers = {**self.headers(as_), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, as_: str | None = "officer", **kw: Any) -> httpx.Response:
        headers = {**self.headers(as_), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def cameras(self, as_: str = "officer", **params: Any) -> dict[str, dict[str, Any]]:
        r = self.get("/api/v1/cameras", as_=as_, params=params)
        assert r.status_code == 200, r.text
        return {c["id"]: c for c in r.json()["cameras"]}

    def live(self, camera: str, as_: str = "officer") -> httpx.Response:
        return self.get(f"{PREFIX}/{camera}/live.m3u8", as_=as_)

    def playlist_uris(self, camera: str, as_: str = "officer") -> list[str]:
        r = self.live(camera, as_=as_)
        assert r.status_code == 200, r.text
        return [line for line in r.text.splitlines() if line and not line.startswith("#")]

    def declare(self, as_: str = "dispatcher", **body: Any) -> httpx.Response:
        body = {"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT} | body
        return self.post("/api/v1/emergencies", as_=as_, json={k: v for k, v in body.items() if v is not None})

    def declared(self, as_: str = "dispatcher", **body: Any) -> dict[str, Any]:
        r = self.declare(as_=as_, **body)
        assert r.status_code == 201, r.text
        return r.json()

    def end(self, emergency_id: str, as_: str = "dispatcher") -> httpx.Response:
        return self.post(f"/api/v1/emergencies/{emergency_id}/end", as_=as_)

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        """Every audit record matching ``params`` (all pages)."""
        out: list[dict[str, Any]] = []
        after = None
        while True:
            query = {**params, "limit": 1000} | ({"after": after} if after is not None else {})
            r = self.get("/api/v1/audit", as_="auditor", params=query)
            assert r.status_code == 200, r.text
            out += r.json()["records"]
            after = r.json()["next"]
            if after is None:
                return out

    def origin_total(self) -> int:
        """Requests that reached the origin at all (served or not)."""
        return sum(self.origin.requests.values())

    def sql(self, statement: str, **params: Any) -> None:
        with self.services.store.engine.begin() as conn:
            conn.execute(text(statement), params)


def live_decision(api: Api, camera: str, as_: str = "officer") -> dict[str, Any]:
    return api.cameras(as_)[camera]["live"]


def assert_422(r: Any, field: str, message: str | None = None) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_request", body
    assert body["field"] == field, body
    if message is not None:
        assert message in body["message"], body


def stored_emergencies(api: Api) -> int:
    with api.services.store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM emergencies")).scalar_one()
