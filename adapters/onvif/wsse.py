"""WS-Security UsernameToken with a password digest, as ONVIF devices expect it.

OASIS Web Services Security UsernameToken Profile 1.0, §3.1::

    Password_Digest = Base64 ( SHA-1 ( nonce + created + password ) )

where ``nonce`` is the raw (decoded) nonce bytes and ``created`` the exact text of ``wsu:Created``. ONVIF Core
§5.9.5 ("Username token profile"): "A client shall use both nonce and timestamps ... The server shall reject any
Username Token not using both nonce and creation timestamps". Devices also reject a ``Created`` that is stale by
their own clock (the profile's §3.1 recommends a freshness limit), so ``created`` is the device's time as best we
know it: the adapter passes its clock corrected by the offset learnt from GetSystemDateAndTime (Core §8.3.6,
access class PRE_AUTH, so it can be asked without credentials).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

from adapters.onvif.soapxml import el, text_el

PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


def created_text(when: datetime) -> str:
    """xs:dateTime in UTC with a ``Z`` and milliseconds, the form ONVIF devices parse most reliably."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def username_token(username: str, password: str, *, now: datetime, nonce: bytes | None = None) -> str:
    """A ``wsse:Security`` header block carrying a digest UsernameToken; a fresh 16-byte nonce per call."""
    nonce = secrets.token_bytes(16) if nonce is None else nonce
    created = created_text(now)
    token = el(
        "wsse:UsernameToken",
        text_el("wsse:Username", username),
        text_el("wsse:Password", password_digest(nonce, created, password), {"Type": PASSWORD_DIGEST}),
        text_el("wsse:Nonce", base64.b64encode(nonce).decode(), {"EncodingType": BASE64_BINARY}),
        text_el("wsu:Created", created),
    )
    return el("wsse:Security", token, attrs={"env:mustUnderstand": "1"})
