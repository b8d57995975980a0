"""The demo's persona sign-in as a browser does it: ``/dev/signin`` -> ``/auth/login`` -> the dev provider's
persona page -> a button -> ``/auth/callback`` (the broker redeems the code with its PKCE verifier) -> the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient


@dataclass
class PersonaPage(HTMLParser):
    """The persona page's form: where it posts, its hidden fields, one button per persona."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    personas: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a["value"]
        elif tag == "button" and a.get("name") == "persona":
            self.personas.append(a["value"])


def persona_page(client: TestClient) -> PersonaPage:
    """What a browser shows after opening ``/dev/signin`` (the redirects followed)."""
    r = client.get("/dev/signin")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    page = PersonaPage()
    page.feed(r.text)
    assert page.action and page.personas, r.text
    return page


def choose(client: TestClient, persona: str, origin: str, page: PersonaPage | None = None) -> httpx.Response:
    """The click on ``persona``'s button: the provider's answer (303 to the broker's callback, unfollowed)."""
    page = page or persona_page(client)
    return client.post(
        page.action, data=page.hidden | {"persona": persona}, headers={"Origin": origin}, follow_redirects=False
    )


def sign_in(client: TestClient, persona: str, origin: str) -> httpx.Response:
    """The whole flow; the broker's answer to the callback (303 to /console/ with the cookie, unfollowed)."""
    r = choose(client, persona, origin)
    assert r.status_code == 303, r.text
    return client.get(r.headers["location"], follow_redirects=False)
