"""The console's static files: opened explicitly, strict CSP, never a file outside the package."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from broker.api.routes.console import CSP, resolve
from broker.console import STATIC
from broker.console.page import html_page
from tests.api.support import Api


def test_index_is_served_with_a_self_only_csp(api: Api) -> None:
    r = api.client.get("/console/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP and "'unsafe-inline'" not in CSP
    assert "default-src 'self'" in CSP and "http" not in CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="js/main.js">' in r.text


def test_modules_and_styles_have_their_types(api: Api) -> None:
    assert api.client.get("/console/js/main.js").headers["content-type"].startswith("text/javascript")
    assert api.client.get("/console/css/console.css").headers["content-type"].startswith("text/css")
    assert api.client.get("/console", follow_redirects=False).headers["location"] == "/console/"


def test_nothing_outside_the_static_root(api: Api, tmp_path: Path) -> None:
    for path in ("../__init__.py", "..%2F__init__.py", "js/../../__init__.py", "missing.js", "../../../pyproject.toml"):
        assert api.client.get(f"/console/{path}").status_code == 404, path
    assert resolve("../__init__.py") is None and resolve("/etc/passwd") is None
    assert resolve("") == STATIC.resolve() / "index.html"


def test_no_inline_script_or_style_in_the_pages() -> None:
    for page in STATIC.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text and "style=" not in text and "<style" not in text, page
        assert "http://" not in text and "https://" not in text, page  # no CDN


def test_an_unchanged_file_costs_a_304_and_large_files_travel_gzipped(api: Api) -> None:
    plain = api.client.get("/console/js/dispatch.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    again = api.client.get("/console/js/dispatch.js", headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert again.headers["content-security-policy"] == CSP

    packed = api.client.get("/console/js/dispatch.js", headers={"Accept-Encoding": "br, gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # the client decodes it: the same file
    assert int(packed.headers["content-length"]) < len(plain.content)
    assert packed.headers["etag"] != etag  # another representation, another tag
    refused = api.client.get("/console/js/dispatch.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    stale = api.client.get("/console/js/dispatch.js", headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200


def test_every_page_names_its_icon_and_the_icon_is_served(api: Api) -> None:
    """A page naming no icon makes the browser ask /favicon.ico: a 404, logged as an error in the console of every
    officer, school IT and auditor page (and of the sign-in pages)."""
    pages = {"/console/": api.client.get("/console/").text, "/dev/signin": html_page("Sign in", "<p>x</p>")}
    for where, text in pages.items():
        icons = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', text)
        assert len(icons) == 1, where
        icon = api.client.get(urljoin(f"http://testserver{where}", icons[0]))
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml", (where, icons)
        assert icon.content.startswith(b"<svg ")
    assert api.client.get("/favicon.ico").status_code == 404  # asked only by pages naming no icon
