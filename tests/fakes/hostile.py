"""Hostile HLS playlists, as an upstream under an attacker's control (or just broken) might serve them.

``hostile_playlist(kind, port=...)`` returns the bytes; ``HOSTILE_KINDS`` lists the kinds. Each is a valid
media playlist except for the one trick its kind names (so a refusal is for the right reason). The escapes
aim at ``/private/secret.txt``, a decoy the fake origin serves *outside* its HLS base path: a test can
assert ``origin.count("/private/secret.txt") == 0``.
"""

from __future__ import annotations

from collections.abc import Callable

HEAD = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
GOOD_SEGMENT = "#EXTINF:1.000000,\nseg000.ts\n"


def _media(bad_uri: str) -> bytes:
    return (HEAD + GOOD_SEGMENT + f"#EXTINF:1.000000,\n{bad_uri}\n").encode()


def _key(bad_uri: str) -> bytes:
    return (HEAD + f'#EXT-X-KEY:METHOD=AES-128,URI="{bad_uri}"\n' + GOOD_SEGMENT).encode()


def _huge(_port: int) -> bytes:
    return (HEAD + "".join(f"#EXTINF:1.000000,\nseg{i:06d}.ts\n" for i in range(50_000))).encode()


_BUILDERS: dict[str, Callable[[int], bytes]] = {
    "other_host": lambda port: _media(f"http://evil.example:{port}/hls/cam1/seg001.ts"),
    "other_port": lambda port: _media(f"http://127.0.0.1:{1 if port != 1 else 2}/hls/cam1/seg001.ts"),
    "other_scheme": lambda port: _media(f"https://127.0.0.1:{port}/hls/cam1/seg001.ts"),
    "scheme_relative": lambda port: _media("//evil.example/hls/cam1/seg001.ts"),
    "userinfo": lambda port: _media(f"http://user:pw@127.0.0.1:{port}/hls/cam1/seg001.ts"),
    "absolute_path": lambda port: _media("/private/secret.txt"),
    "dotdot": lambda port: _media("../../private/secret.txt"),
    "encoded_dotdot": lambda port: _media("%2e%2e/%2e%2e/private/secret.txt"),
    "encoded_slash": lambda port: _media("..%2F..%2Fprivate%2Fsecret.txt"),
    "double_encoded": lambda port: _media("%252e%252e/%252e%252e/private/secret.txt"),
    "backslash": lambda port: _media("..\\..\\private\\secret.txt"),
    "nul": lambda port: _media("seg001.ts%00.jpg"),
    "data_uri": lambda port: _media("data:video/mp2t;base64,R0lGODlhAQABAAAAACw="),
    "file_uri": lambda port: _media("file:///etc/passwd"),
    "javascript_uri": lambda port: _media("javascript:alert(1)"),
    "key_other_host": lambda port: _key("http://evil.example/key.bin"),
    "map_dotdot": lambda port: (HEAD + '#EXT-X-MAP:URI="../../private/secret.txt"\n' + GOOD_SEGMENT).encode(),
    "duplicate_uri_attr": lambda port: (
        HEAD + '#EXT-X-MAP:URI="init.mp4",URI="http://evil.example/init.mp4"\n' + GOOD_SEGMENT
    ).encode(),
    "bare_cr": lambda port: HEAD.replace("\n", "\r").encode() + GOOD_SEGMENT.encode(),
    "control_char": lambda port: _media("seg\x01001.ts"),
    "bom": lambda port: b"\xef\xbb\xbf" + _media("seg001.ts"),
    "not_utf8": lambda port: _media("seg001.ts").replace(b"seg001", b"seg\xff01"),
    "not_playlist": lambda port: b"<html><body>login</body></html>\n",
    "absurd_target_duration": lambda port: _media("seg001.ts").replace(b"TARGETDURATION:1", b"TARGETDURATION:86400"),
    "huge": _huge,
}

HOSTILE_KINDS: tuple[str, ...] = tuple(_BUILDERS)


def hostile_playlist(kind: str, *, port: int) -> bytes:
    """The hostile playlist of ``kind`` (see :data:`HOSTILE_KINDS`); ``port`` is the origin's own port."""
    try:
        return _BUILDERS[kind](port)
    except KeyError:
        raise ValueError(f"unknown hostile kind {kind!r}; known: {', '.join(HOSTILE_KINDS)}") from None
