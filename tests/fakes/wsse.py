"""Server side of the WS-Security UsernameToken with PasswordDigest, for the fake ONVIF device.

    tokens = UsernameTokenServer(username="camgate", password="pw", clock=lambda: datetime.now(UTC))
    why = tokens.refusal(envelope_element)      # None when accepted, else why ("stale Created", ...)

OASIS WS-Security UsernameToken Profile 1.0 §3.1: Password_Digest = Base64(SHA-1(nonce + created + password)),
nonce decoded from Base64, created the exact text of wsu:Created; the profile recommends refusing a stale
Created and a nonce seen before. ONVIF Core §5.9.5: the server shall reject a token without both nonce and
Created. ``freshness`` is how far Created may be from the server's clock either way (5 minutes, the profile's
guideline).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

ENV = "{http://www.w3.org/2003/05/soap-envelope}"
WSSE = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
WSU = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}"
DIGEST_TYPE = "#PasswordDigest"


class UsernameTokenServer:
    def __init__(self, *, username: str, password: str, clock: Callable[[], datetime],
                 freshness: timedelta = timedelta(minutes=5)) -> None:  # fmt: skip
        self.username, self.password, self.clock, self.freshness = username, password, clock, freshness
        self._nonces: set[bytes] = set()

    @staticmethod
    def token(envelope: ET.Element) -> ET.Element | None:
        return envelope.find(f"{ENV}Header/{WSSE}Security/{WSSE}UsernameToken")

    def refusal(self, envelope: ET.Element) -> str | None:
        """None if the envelope's UsernameToken is accepted (its nonce is then spent), else the reason."""
        token = self.token(envelope)
        if token is None:
            return "no UsernameToken"
        username = token.findtext(f"{WSSE}Username") or ""
        password = token.find(f"{WSSE}Password")
        nonce_text, created = token.findtext(f"{WSSE}Nonce"), token.findtext(f"{WSU}Created")
        if password is None or not (password.get("Type") or "").endswith(DIGEST_TYPE):
            return "the password must be a PasswordDigest"
        if not nonce_text or not created:
            return "nonce and Created are required"
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
            when = datetime.fromisoformat(created.strip())
        except (binascii.Error, ValueError):
            return "unreadable nonce or Created"
        if when.tzinfo is None or abs(self.clock() - when) > self.freshness:
            return "stale Created"
        expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + self.password.encode()).digest())
        same_user = hmac.compare_digest(username.encode(), self.username.encode())
        if not same_user & hmac.compare_digest((password.text or "").strip().encode(), expected):
            return "wrong username or password"
        if nonce in self._nonces:
            return "replayed nonce"
        self._nonces.add(nonce)
        return None
