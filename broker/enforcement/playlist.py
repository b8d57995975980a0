"""Parsing and rewriting HLS playlists (RFC 8216). Pure: no I/O, no clock.

Every URI a player could fetch (URI lines and ``URI="..."`` attributes) is resolved by the system's adapter
(which refuses anything outside the system) and replaced by a broker URL from ``sign``. A playlist the broker
cannot fully understand is refused (:class:`HostilePlaylist`) rather than passed through: an unrewritten URI
would hand the client an upstream address and bypass the broker. Comments are dropped for the same reason.
Section numbers are RFC 8216's; the low-latency tags come from its successor draft (8216bis).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from broker.adapterapi import AdapterError
from broker.errors import CamgateError, HostilePlaylist

MAX_TARGET_DURATION = 60.0  # seconds; real streams use 2-10, tokens live two target durations
MEDIA_EXTENSIONS = frozenset({".ts", ".m4s", ".mp4", ".m3u8", ".aac", ".vtt", ".key", ".jpg"})

# Tags whose attribute list may carry a URI the player fetches (§4.3.2.4-5, §4.3.4.1-5, 8216bis).
URI_TAGS = frozenset(
    {
        "EXT-X-KEY", "EXT-X-SESSION-KEY", "EXT-X-MAP", "EXT-X-MEDIA", "EXT-X-I-FRAME-STREAM-INF",
        "EXT-X-PART", "EXT-X-PRELOAD-HINT", "EXT-X-RENDITION-REPORT", "EXT-X-SESSION-DATA",
    }
)  # fmt: skip
URI_OPTIONAL = frozenset({"EXT-X-MEDIA", "EXT-X-SESSION-DATA"})
# Other attribute-list tags: parsed anyway so no URI hides in them (e.g. DATERANGE X-ASSET-URI).
ATTRIBUTE_TAGS = URI_TAGS | {
    "EXT-X-STREAM-INF", "EXT-X-DATERANGE", "EXT-X-START", "EXT-X-SERVER-CONTROL", "EXT-X-PART-INF",
    "EXT-X-SKIP", "EXT-X-DEFINE",
}  # fmt: skip
UNSUPPORTED_TAGS = {"EXT-X-CONTENT-STEERING": "content steering sends players to an upstream steering server"}
# §4.3.4: clients MUST fail to parse a playlist mixing master tags with media (segment) tags.
MASTER_TAGS = frozenset(
    {"EXT-X-MEDIA", "EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-SESSION-DATA", "EXT-X-SESSION-KEY"}
)
MEDIA_TAGS = frozenset(
    {
        "EXTINF", "EXT-X-BYTERANGE", "EXT-X-DISCONTINUITY", "EXT-X-KEY", "EXT-X-MAP", "EXT-X-PROGRAM-DATE-TIME",
        "EXT-X-DATERANGE", "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE", "EXT-X-DISCONTINUITY-SEQUENCE",
        "EXT-X-ENDLIST", "EXT-X-PLAYLIST-TYPE", "EXT-X-I-FRAMES-ONLY", "EXT-X-GAP", "EXT-X-BITRATE",
        "EXT-X-PART", "EXT-X-PART-INF", "EXT-X-SERVER-CONTROL", "EXT-X-PRELOAD-HINT", "EXT-X-RENDITION-REPORT",
        "EXT-X-SKIP",
    }
)  # fmt: skip

# §4.1: no control characters (U+0000-U+001F, U+007F-U+009F) except CR and LF; also refuse the Unicode
# line/paragraph separators and a BOM anywhere, which some parsers treat as line breaks or skip.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]*)')  # §4.2
_TARGET_DURATION = re.compile(r"\d{1,6}(\.\d{1,6})?")
_SIGNED = re.compile(r"[!#-~]+")  # printable ASCII, no space, no '"'
_FILENAME = re.compile(r"[A-Za-z0-9._-]{1,128}")

Resolve = Callable[[str, str], str]
Sign = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class RewrittenPlaylist:
    body: bytes
    target_duration: float | None  # EXT-X-TARGETDURATION of a media playlist (§4.3.3.1)
    is_master: bool
    refs: tuple[str, ...]  # every upstream ref signed, in order of first appearance


def _shown(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:120] + "...")


def _hostile(line: int, why: str) -> HostilePlaylist:
    return HostilePlaylist(f"line {line}: {why}" if line else why, line=line or None)


def _split_lines(body: bytes, max_bytes: int, max_lines: int) -> list[str]:
    if len(body) > max_bytes:
        raise _hostile(0, f"playlist is {len(body)} bytes, over the {max_bytes}-byte limit")
    if body.startswith(b"\xef\xbb\xbf"):
        raise _hostile(1, "byte order mark (§4.1: playlists MUST NOT contain a BOM)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _hostile(body[: exc.start].count(b"\n") + 1, f"not UTF-8 at byte {exc.start} (§4.1)") from None
    lines = text.replace("\r\n", "\n").split("\n")  # §4.1: lines end with LF or CR LF, nothing else
    if len(lines) > max_lines:
        raise _hostile(0, f"playlist has {len(lines)} lines, over the {max_lines}-line limit")
    for number, line in enumerate(lines, 1):
        if "\r" in line:
            raise _hostile(number, "bare CR line break (§4.1 allows only LF or CR LF)")
        if bad := _CONTROL.search(line):
            raise _hostile(number, f"control character U+{ord(bad.group()):04X} (§4.1)")
    if lines[0] != "#EXTM3U":
        raise _hostile(1, "not an HLS playlist: the first line must be #EXTM3U (§4.3.1.1)")
    return lines


def _parse_attributes(text: str, line: int, offset: int) -> list[tuple[str, str]]:
    """A §4.2 attribute list as (name, raw value) pairs; duplicates refused (§4.2 forbids them).

    ``offset`` is where ``text`` starts in its line, for error columns.
    """
    pairs: list[tuple[str, str]] = []
    pos = 0
    while True:
        match = _ATTRIBUTE.match(text, pos)
        if not match:
            raise _hostile(line, f"malformed attribute list at column {offset + pos + 1} (§4.2)")
        name, value = match.groups()
        if any(name == seen for seen, _ in pairs):
            raise _hostile(line, f"attribute {name} appears twice (§4.2)")
        pairs.append((name, value))
        pos = match.end()
        if pos == len(text):
            return pairs
        if text[pos] != ",":
            raise _hostile(line, f"malformed attribute list at column {offset + pos + 1} (§4.2)")
        pos += 1


_SLOT = re.compile("\x00([0-9]+)\x00")  # stands for a URI until it is signed; NUL never survives _split_lines


class _Rewriter:
    def __init__(self, base_ref: str, resolve: Resolve) -> None:
        self.base_ref, self.resolve = base_ref, resolve
        self.slots: list[str] = []  # the ref of each URI, in order of appearance
        self.refs: dict[str, None] = {}
        self.target_duration: float | None = None
        self.kind: str | None = None  # "master" or "media", from the first tag that tells
        self.pending_uri = False  # an EXTINF (§4.3.2.1) or EXT-X-STREAM-INF (§4.3.4.2) awaits its URI line

    def uri(self, uri: str, line: int) -> str:
        if "{$" in uri:
            raise _hostile(line, f"variable substitution in URI {_shown(uri)} is not supported")
        scheme = _SCHEME.match(uri)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            raise _hostile(line, f"URI scheme {scheme.group(1).lower()!r} refused: {_shown(uri)}")
        try:
            ref = self.resolve(self.base_ref, uri)
        except AdapterError as exc:
            raise _hostile(line, f"URI outside the camera system: {exc}") from None
        self.refs.setdefault(ref)
        self.slots.append(ref)
        return f"\x00{len(self.slots) - 1}\x00"

    def tag(self, text: str, line: int) -> str:
        name, colon, value = text[1:].partition(":")
        if name in UNSUPPORTED_TAGS:
            raise _hostile(line, f"#{name} refused: {UNSUPPORTED_TAGS[name]}")
        kind = "master" if name in MASTER_TAGS else "media" if name in MEDIA_TAGS else None
        if kind and self.kind and kind != self.kind:
            raise _hostile(line, f"#{name} in a {self.kind} playlist (§4.3.4: master and media tags mix)")
        self.kind = self.kind or kind
        if name in ("EXTINF", "EXT-X-STREAM-INF"):
            self.pending_uri = True
        if name == "EXT-X-TARGETDURATION":
            self._target_duration(value, line)
        if name not in ATTRIBUTE_TAGS:
            if "URI=" in value and name not in MEDIA_TAGS:  # e.g. not an EXTINF title
                raise _hostile(line, f"URI attribute in unknown tag #{name} cannot be rewritten")
            return text
        pairs = _parse_attributes(value, line, len(name) + 2) if colon else []
        attrs = dict(pairs)
        if name in ("EXT-X-KEY", "EXT-X-SESSION-KEY") and attrs.get("METHOD") == "NONE":
            if "URI" in attrs:  # §4.3.2.4: with METHOD=NONE the other attributes MUST NOT be present
                raise _hostile(line, f"#{name} METHOD=NONE with a URI (§4.3.2.4)")
            return text
        if name in URI_TAGS and name not in URI_OPTIONAL and "URI" not in attrs:
            raise _hostile(line, f"#{name} without the REQUIRED URI attribute")
        out: list[str] = []
        for key, raw in pairs:
            if key == "X-ASSET-LIST":
                raise _hostile(line, f"#{name} {key} (interstitial asset list) cannot be rewritten")
            if key == "URI" or key.endswith("-URI"):
                if not (len(raw) >= 2 and raw[0] == raw[-1] == '"'):
                    raise _hostile(line, f"#{name} {key} must be a quoted-string (§4.2)")
                raw = f'"{self.uri(raw[1:-1], line)}"'
            out.append(f"{key}={raw}")
        return f"#{name}:{','.join(out)}"

    def _target_duration(self, value: str, line: int) -> None:
        # §4.3.3.1: EXT-X-TARGETDURATION:<s>, a decimal-integer, REQUIRED once in a media playlist.
        if self.target_duration is not None:
            raise _hostile(line, "second #EXT-X-TARGETDURATION (§4.3.3.1)")
        if not _TARGET_DURATION.fullmatch(value):
            raise _hostile(line, f"#EXT-X-TARGETDURATION {_shown(value)} is not a number (§4.3.3.1)")
        seconds = float(value)
        if not 0 < seconds <= MAX_TARGET_DURATION:
            raise _hostile(line, f"#EXT-X-TARGETDURATION {value} outside (0, {MAX_TARGET_DURATION:g}] seconds")
        self.target_duration = seconds


@dataclass(frozen=True, slots=True)
class ParsedPlaylist:
    """A checked playlist whose URIs are resolved but not yet signed; :meth:`render` signs them."""

    template: str
    slots: tuple[str, ...]  # the ref of each URI, in order of appearance
    target_duration: float | None  # EXT-X-TARGETDURATION of a media playlist (§4.3.3.1)
    is_master: bool
    refs: tuple[str, ...]  # every distinct ref, in order of first appearance

    def render(self, sign: Sign) -> bytes:
        def signed(match: re.Match[str]) -> str:
            uri = sign(self.slots[int(match.group(1))])
            if not _SIGNED.fullmatch(uri):
                raise ValueError(f"sign() returned an unsafe URI {uri!r}")
            return uri

        return _SLOT.sub(signed, self.template).encode("utf-8")


def parse_playlist(
    body: bytes, *, base_ref: str, resolve: Resolve, max_bytes: int = 1 << 20, max_lines: int = 20000
) -> ParsedPlaylist:
    """Check the playlist fetched as ``base_ref`` and resolve every URI; :class:`HostilePlaylist` says what and where.

    Signing comes after (:meth:`ParsedPlaylist.render`), so a caller can let the target duration decide
    how long the signed URIs live without parsing twice.
    """
    lines = _split_lines(body, max_bytes, max_lines)
    rewriter = _Rewriter(base_ref, resolve)
    out = ["#EXTM3U"]
    for number, line in enumerate(lines[1:], 2):
        if not line:
            continue  # §4.1: blank lines are ignored
        if line.startswith("#EXT"):
            out.append(rewriter.tag(line, number))
        elif line.startswith("#"):
            continue  # §4.1: a comment; dropped so it cannot leak upstream details
        else:
            if not rewriter.pending_uri:
                raise _hostile(number, "URI line without a preceding #EXTINF or #EXT-X-STREAM-INF (§4.3.2.1)")
            if line != line.strip():
                raise _hostile(number, "whitespace around a URI line (§4.1)")
            rewriter.pending_uri = False
            out.append(rewriter.uri(line, number))
    is_master = rewriter.kind == "master"
    if not is_master and rewriter.target_duration is None:
        raise _hostile(0, "media playlist without #EXT-X-TARGETDURATION (§4.3.3.1 REQUIRED)")
    return ParsedPlaylist(
        template="\n".join(out) + "\n",
        slots=tuple(rewriter.slots),
        target_duration=None if is_master else rewriter.target_duration,
        is_master=is_master,
        refs=tuple(rewriter.refs),
    )


def rewrite_playlist(
    body: bytes,
    *,
    base_ref: str,
    resolve: Resolve,
    sign: Sign,
    max_bytes: int = 1 << 20,
    max_lines: int = 20000,
) -> RewrittenPlaylist:
    """Check the playlist and replace every URI with ``sign(ref)``: :func:`parse_playlist` then render."""
    parsed = parse_playlist(body, base_ref=base_ref, resolve=resolve, max_bytes=max_bytes, max_lines=max_lines)
    return RewrittenPlaylist(
        body=parsed.render(sign),
        target_duration=parsed.target_duration,
        is_master=parsed.is_master,
        refs=parsed.refs,
    )


def safe_filename(ref: str, *, error: type[CamgateError] = HostilePlaylist) -> str:
    """The last path component of ``ref`` if it is a plain media file name, for the visible end of URLs.

    Players (ffmpeg among them) pick demuxers and refuse fetches by extension. Raises ``error``
    (:class:`HostilePlaylist` for upstream refs; pass :class:`~broker.errors.InvalidRequest` for client input).
    """
    name = ref.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    if not _FILENAME.fullmatch(name) or name.startswith("."):
        raise error(f"file name {_shown(name)} is not 1-128 of [A-Za-z0-9._-]")
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    if extension not in MEDIA_EXTENSIONS:
        raise error(f"file name {_shown(name)} lacks a media extension ({' '.join(sorted(MEDIA_EXTENSIONS))})")
    return name
