"""Playlist parsing and rewriting (RFC 8216), pure."""

from __future__ import annotations

import re

import pytest

from adapters.hls.paths import UriPolicy
from broker.enforcement.playlist import RewrittenPlaylist, rewrite_playlist, safe_filename
from broker.errors import HostilePlaylist, InvalidRequest

POLICY = UriPolicy("http://origin.test/hls/")
BASE_REF = "cam1/index.m3u8"


def sign(ref: str) -> str:
    return f"/stream/TOKEN/{ref}"


def rewrite(text: str | bytes, **kw: int) -> RewrittenPlaylist:
    body = text.encode() if isinstance(text, str) else text
    return rewrite_playlist(body, base_ref=BASE_REF, resolve=POLICY.resolve, sign=sign, **kw)


def refused(text: str | bytes, **kw: int) -> HostilePlaylist:
    with pytest.raises(HostilePlaylist) as info:
        rewrite(text, **kw)
    return info.value


MEDIA = """#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MEDIA-SEQUENCE:7
# a comment naming http://internal.example/ is dropped
#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.key",IV=0x0123456789ABCDEF0123456789ABCDEF
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"

#EXT-X-PROGRAM-DATE-TIME:2026-09-14T13:00:00.000Z
#EXTINF:3.966,
seg7.m4s
#EXT-X-DATERANGE:ID="ad",START-DATE="2026-09-14T13:00:04Z",X-ASSET-URI="../ads/ad.m3u8"
#EXTINF:4.000,title
http://origin.test/hls/cam1/seg8.m4s?sig=abc
#EXT-X-PART:DURATION=0.5,URI="seg9.part0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg9.part1.m4s"
#EXT-X-RENDITION-REPORT:URI="../cam1-low/index.m3u8",LAST-MSN=8
"""

MASTER = """#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="meta/title.json"
#EXT-X-SESSION-DATA:DATA-ID="com.example.lang",VALUE="en"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="keys/session.key"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/index.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc1",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,AUDIO="aud"
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1280x720
/hls/cam1/high/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="low/iframes.m3u8"
"""


def uris_of(body: bytes) -> list[str]:
    text = body.decode()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return lines + re.findall(r'[A-Z-]*URI="([^"]*)"', text)


def test_media_playlist_every_uri_rewritten() -> None:
    out = rewrite(MEDIA)
    assert not out.is_master and out.target_duration == 4.0
    assert out.refs == (
        "cam1/keys/k1.key", "cam1/init.mp4", "cam1/seg7.m4s", "ads/ad.m3u8", "cam1/seg8.m4s?sig=abc",
        "cam1/seg9.part0.m4s", "cam1/seg9.part1.m4s", "cam1-low/index.m3u8",
    )  # fmt: skip
    uris = uris_of(out.body)
    assert len(uris) == 8 and all(u.startswith("/stream/TOKEN/") for u in uris)
    text = out.body.decode()
    assert "comment" not in text and "internal.example" not in text
    assert (
        '#EXT-X-KEY:METHOD=AES-128,URI="/stream/TOKEN/cam1/keys/k1.key",IV=0x0123456789ABCDEF0123456789ABCDEF' in text
    )
    assert '#EXT-X-MAP:URI="/stream/TOKEN/cam1/init.mp4",BYTERANGE="720@0"' in text
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-09-14T13:00:00.000Z\n#EXTINF:3.966,\n/stream/TOKEN/cam1/seg7.m4s\n" in text
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:9\n") and text.endswith("LAST-MSN=8\n")


def test_master_playlist_every_uri_rewritten() -> None:
    out = rewrite(MASTER)
    assert out.is_master and out.target_duration is None
    assert out.refs == (
        "cam1/meta/title.json", "cam1/keys/session.key", "cam1/audio/index.m3u8", "cam1/low/index.m3u8",
        "cam1/high/index.m3u8", "cam1/low/iframes.m3u8",
    )  # fmt: skip
    assert len(uris_of(out.body)) == 6 and all(u.startswith("/stream/TOKEN/") for u in uris_of(out.body))
    assert '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc1",INSTREAM-ID="CC1"' in out.body.decode()


def test_key_method_none_untouched_and_crlf_accepted() -> None:
    text = "#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-KEY:METHOD=NONE\r\n#EXTINF:2.0,\r\nseg.ts\r\n"
    out = rewrite(text)
    assert (
        out.body
        == b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:2.0,\n/stream/TOKEN/cam1/seg.ts\n"
    )
    assert out.refs == ("cam1/seg.ts",)


def test_extinf_title_is_not_an_attribute_list() -> None:
    assert rewrite(HEAD + '#EXTINF:2,see URI="x"\nseg.ts\n').refs == ("cam1/seg.ts",)


def test_ffmpeg_playlist_and_duplicate_refs() -> None:
    text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n" + "#EXTINF:1.0,\nseg000.ts\n" * 3 + "#EXT-X-ENDLIST\n"
    assert rewrite(text).refs == ("cam1/seg000.ts",)


def test_sign_must_return_a_safe_uri() -> None:
    with pytest.raises(ValueError, match="unsafe"):
        rewrite_playlist(MEDIA.encode(), base_ref=BASE_REF, resolve=POLICY.resolve, sign=lambda r: 'x" y')


HEAD = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (b"", 1, "first line must be #EXTM3U"),
        (b"<html>login</html>", 1, "first line must be #EXTM3U"),
        (b"#EXTM3U \n", 1, "first line must be #EXTM3U"),
        (b"\xef\xbb\xbf#EXTM3U\n", 1, "byte order mark"),
        (b"#EXTM3U\n#EXTINF:1,\nseg\xff.ts\n", 3, "not UTF-8"),
        (b"#EXTM3U\r#EXT-X-TARGETDURATION:2\r#EXTINF:2,\rseg.ts\r", 1, "bare CR"),
        (HEAD + "#EXTINF:2,\nseg.ts\r\r\nother.ts\n", 4, "bare CR"),
        (HEAD + "#EXTINF:2,\nseg\x01.ts\n", 4, "control character U+0001"),
        (HEAD + "#EXTINF:2,\tx\nseg.ts\n", 3, "control character U+0009"),
        (HEAD + "#EXTINF:2,\nseg.ts\u2028http://evil.example/x.ts\n", 4, "control character U+2028"),
        (HEAD + "#EXTINF:2,\nseg.ts\x85x\n", 4, "control character U+0085"),
        (
            HEAD + "#EXTINF:2,\nhttp://evil.example/hls/seg.ts\n",
            4,
            "URI outside the camera system: URI 'http://evil.example/hls/seg.ts' refused: another host",
        ),
        (HEAD + "#EXTINF:2,\nhttp://origin.test:81/hls/seg.ts\n", 4, "another port"),
        (HEAD + "#EXTINF:2,\nhttps://origin.test/hls/seg.ts\n", 4, "scheme 'https' is not the system's 'http'"),
        (HEAD + "#EXTINF:2,\n../../private/secret.txt\n", 4, "escapes the system's base path"),
        (HEAD + "#EXTINF:2,\n%2e%2e/%2e%2e/private/secret.txt\n", 4, "dot segment in decoded path"),
        (HEAD + "#EXTINF:2,\n..%2F..%2Fsecret\n", 4, "encoded slash"),
        (HEAD + "#EXTINF:2,\n..\\..\\secret\n", 4, "character '\\\\'"),
        (HEAD + "#EXTINF:2,\ndata:video/mp2t;base64,AAAA\n", 4, "URI scheme 'data' refused"),
        (HEAD + "#EXTINF:2,\nfile:///etc/passwd\n", 4, "URI scheme 'file' refused"),
        (HEAD + "#EXTINF:2,\nJavaScript:alert(1)\n", 4, "URI scheme 'javascript' refused"),
        (HEAD + "#EXTINF:2,\nskd://key\n", 4, "URI scheme 'skd' refused"),
        (HEAD + "#EXTINF:2,\n{$host}/seg.ts\n", 4, "variable substitution"),
        (HEAD + "#EXTINF:2,\n seg.ts\n", 4, "whitespace around a URI line"),
        (HEAD + "seg.ts\n", 3, "URI line without a preceding #EXTINF"),
        (HEAD + '#EXT-X-KEY:METHOD=AES-128,URI="http://evil.example/k"\n', 3, "another host"),
        (HEAD + '#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain,k"\n', 3, "URI scheme 'data' refused"),
        (HEAD + "#EXT-X-KEY:METHOD=AES-128\n", 3, "#EXT-X-KEY without the REQUIRED URI attribute"),
        (HEAD + '#EXT-X-KEY:METHOD=NONE,URI="k.key"\n', 3, "METHOD=NONE with a URI"),
        (HEAD + '#EXT-X-MAP:URI="../../x.mp4"\n', 3, "escapes"),
        (HEAD + '#EXT-X-MAP:URI="a.mp4",URI="http://evil.example/a.mp4"\n', 3, "attribute URI appears twice"),
        (HEAD + "#EXT-X-MAP:URI=init.mp4\n", 3, "URI must be a quoted-string"),
        (HEAD + '#EXT-X-MAP:URI="a.mp4", BYTERANGE="1@0"\n', 3, "malformed attribute list at column 24"),
        (HEAD + '#EXT-X-PART:DURATION=1,URI="http://evil.example/p.m4s"\n', 3, "another host"),
        (HEAD + '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="//evil.example/p.m4s"\n', 3, "another host"),
        (HEAD + '#EXT-X-RENDITION-REPORT:URI="file:///r.m3u8"\n', 3, "URI scheme 'file' refused"),
        (HEAD + '#EXT-X-DATERANGE:ID="a",X-ASSET-URI="http://evil.example/ad.m3u8"\n', 3, "another host"),
        (HEAD + '#EXT-X-DATERANGE:ID="a",X-ASSET-LIST="list.json"\n', 3, "X-ASSET-LIST"),
        (
            HEAD + '#EXT-X-VENDOR-THING:URI="http://evil.example/"\n',
            3,
            "URI attribute in unknown tag #EXT-X-VENDOR-THING",
        ),
        ('#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI="s.json"\n', 2, "content steering"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:86400\n", 2, "#EXT-X-TARGETDURATION 86400 outside (0, 60]"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:0\n", 2, "outside (0, 60]"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:-1\n", 2, "is not a number"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:1e9\n", 2, "is not a number"),
        (HEAD + "#EXT-X-TARGETDURATION:2\n", 3, "second #EXT-X-TARGETDURATION"),
        (HEAD + "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", 3, "#EXT-X-STREAM-INF in a media playlist"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXTINF:2,\ns.ts\n", 4, "#EXTINF in a master playlist"),
        ('#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="http://evil.example/i.m3u8"\n', 2, "another host"),
        ('#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="a",URI="../../x.m3u8"\n', 2, "escapes"),
        ('#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI="javascript:x"\n', 2, "scheme 'javascript'"),
        ('#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="d",URI="http://evil.example/d.json"\n', 2, "another host"),
        ("#EXTM3U\n#EXT-X-VERSION:3\n", 0, "media playlist without #EXT-X-TARGETDURATION"),
    ],
)
def test_hostile_playlists_refused_with_line_and_reason(body: str | bytes, line: int, message: str) -> None:
    error = refused(body)
    assert message in error.message
    assert error.details.get("line") == (line or None)
    if line:
        assert error.message.startswith(f"line {line}: ")
    assert error.code == "hostile_playlist" and error.status == 502


def test_size_and_line_limits() -> None:
    body = HEAD + "#EXTINF:2,\nseg.ts\n" * 10
    assert "playlist is 212 bytes, over the 100-byte limit" in refused(body, max_bytes=100).message
    assert "playlist has 23 lines, over the 20-line limit" in refused(body, max_lines=20).message
    assert rewrite(body, max_bytes=212, max_lines=23).refs == ("cam1/seg.ts",)


@pytest.mark.parametrize(
    ("ref", "name"),
    [("cam1/seg000.ts", "seg000.ts"), ("a/b/index.m3u8?x=1/y.exe", "index.m3u8"), ("init.mp4", "init.mp4"),
     ("k/key-1_2.KEY", "key-1_2.KEY"), ("p/s.part0.m4s", "s.part0.m4s")],
)  # fmt: skip
def test_safe_filename(ref: str, name: str) -> None:
    assert safe_filename(ref) == name


@pytest.mark.parametrize(
    "ref",
    ["cam1/", "", "a/b c.ts", "seg.exe", "seg", "..", ".ts", "a/%2e%2e.ts", "x" * 126 + ".ts", "seg.ts.php",
     "seg.json", "a/se\u00e9.ts", "seg.ts/"],
)  # fmt: skip
def test_safe_filename_refuses(ref: str) -> None:
    with pytest.raises(HostilePlaylist):
        safe_filename(ref)
    with pytest.raises(InvalidRequest):
        safe_filename(ref, error=InvalidRequest)


def test_parse_once_then_sign_after_knowing_the_target_duration() -> None:
    from broker.enforcement.playlist import parse_playlist

    parsed = parse_playlist(MEDIA.encode(), base_ref=BASE_REF, resolve=POLICY.resolve)
    assert parsed.target_duration is not None and parsed.slots and "\x00" in parsed.template
    assert parsed.render(sign) == rewrite(MEDIA).body
    signed: list[str] = []
    parsed.render(lambda ref: signed.append(ref) or f"/s/{len(signed)}")
    assert signed == list(parsed.slots)  # one signature per URI, in playlist order
    with pytest.raises(HostilePlaylist):  # a hostile playlist is refused before anything is signed
        parse_playlist(MEDIA.replace("#EXTINF", "#EXTINF:x\n#EXT-X-TARGETDURATION:4\n#EXTINF", 1).encode(),
                       base_ref=BASE_REF, resolve=POLICY.resolve)  # fmt: skip
