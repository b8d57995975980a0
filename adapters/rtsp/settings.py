"""Settings of a generic RTSP system, validated from :attr:`SystemSpec.settings`.

Example inventory entries (``id``, ``owner``, ``adapter`` and ``base_url`` are not settings)::

    - id: lot-cameras                                  # one URL pattern for every camera
      adapter: rtsp
      url_template: "rtsp://10.20.0.5:554/{ref}"       # the camera's ref replaces {ref} (percent-encoded)
      username: camgate
      password_env: LOT_CAMERAS_PASSWORD               # or password_file: /run/secrets/lot-cameras
    - id: gym-encoder                                  # or a path per camera, relative to base_url
      adapter: rtsp
      base_url: "rtsp://10.20.0.9:8554/"
      cameras: {gym-01: "live/ch1", gym-02: "live/ch2"}
      transport: tcp                                   # tcp (interleaved, RFC 7826 §14); the gateway's relay
                                                       # carries udp as tcp too

Passwords never live in the inventory: ``password_env`` names an environment variable, ``password_file`` a
file (:func:`broker.adapterapi.read_secret`).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urljoin, urlsplit

from pydantic import Field, field_validator, model_validator

from broker.adapterapi import AdapterConfigError, AdapterSettings

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def unsafe(value: str) -> str | None:
    """Why ``value`` cannot be (part of) a URL handed to ffmpeg as one argument, or None. A URI has no whitespace
    or control characters (RFC 3986 §2, Appendix C: they are not URI characters), and an argument beginning with
    '-' would be read by ffmpeg as an option, not an input."""
    if value.startswith("-"):
        return "must not begin with '-'"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "must not contain spaces or control characters (percent-encode them)"
    return None


def absolute(base_url: str | None, url: str, setting: str) -> str:
    """``url`` made absolute against ``base_url``; an rtsp:// or rtsps:// URL without credentials."""
    for name, value in ((setting, url), ("base_url", base_url or "")):
        problem = unsafe(value)
        if problem is not None:
            raise AdapterConfigError(problem, setting=name)
    if "://" not in url:
        if url.startswith("/"):
            raise AdapterConfigError("a relative path must not start with '/'", setting=setting)
        if base_url is None:
            raise AdapterConfigError(f"{url!r} is relative but the system has no base_url", setting=setting)
        url = urljoin(base_url.replace("rtsp", "http", 1), url).replace("http", "rtsp", 1)
    parts = urlsplit(url)
    if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
        raise AdapterConfigError("not an rtsp:// URL", setting=setting)
    if parts.username is not None or parts.password is not None:
        raise AdapterConfigError("credentials go in username and password_env, not the URL", setting=setting)
    if "{ref}" in url and urlsplit(url.replace("{ref}", "a")).netloc != urlsplit(url.replace("{ref}", "b")).netloc:
        raise AdapterConfigError("'{ref}' must be in the path or query, after the host", setting=setting)
    return url


class RtspSettings(AdapterSettings):
    url_template: str | None = None
    cameras: dict[str, str] | None = None
    username: str | None = Field(default=None, min_length=1, max_length=256)
    password_env: str | None = Field(default=None, min_length=1, max_length=256, pattern=_ENV_NAME)
    password_file: str | None = Field(default=None, min_length=1, max_length=4096)
    transport: Literal["tcp", "udp"] = "tcp"

    @field_validator("url_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = unsafe(value)  # it becomes ffmpeg's input argument (broker/gateway)
        if problem is not None:
            raise ValueError(problem)
        # Substituted with str.replace, never str.format: a template is data, not code.
        if value.count("{ref}") != 1 or value.replace("{ref}", "").count("{"):
            raise ValueError("must contain '{ref}' exactly once and no other '{'")
        if (
            "://" in value
            and urlsplit(value.replace("{ref}", "a")).netloc != urlsplit(value.replace("{ref}", "b")).netloc
        ):
            raise ValueError("'{ref}' must be in the path or query, after the host")
        return value

    @model_validator(mode="after")
    def _complete(self) -> RtspSettings:
        if self.url_template is None and not self.cameras:
            raise ValueError("give url_template or cameras (a path or URL per camera ref)")
        if (self.password_env or self.password_file) and self.username is None:
            raise ValueError("a password needs a username")
        if self.password_env and self.password_file:
            raise ValueError("give one of password_env or password_file")
        return self
