"""Profile G recordings: which recordings a device keeps (Recording Search) and where to replay one (Replay).

ONVIF Recording Search Service Specification §5.7 FindRecordings starts a search session over a
``tt:SearchScope`` (empty: every recording) and returns a SearchToken; §5.8 GetRecordingSearchResults returns
``ResultList`` (tt:FindRecordingResultList: ``SearchState`` and ``RecordingInformation`` items, results not
repeated across calls) until the state is ``Completed``; §5.19 EndSearch ends a session early (and is an error on
a completed one, so it is sent only when we stop first). §5.3.1/§5.3.2: each RecordingInformation has a
``RecordingToken``, ``Source`` (``SourceId``, ``Name``, ...), ``EarliestRecording``/``LatestRecording`` and
``RecordingStatus``. ``SourceId`` is "opaque to the device" (§5.3.2): a recording is matched to a camera when its
SourceId is the camera's video source token or one of its profile tokens (or ends with ``/<token>``), or its
source name is the camera's name.

ONVIF Replay Control Service Specification §5.1 GetReplayUri returns the RTSP URI of a recording; replay itself
is RTSP with ONVIF's extensions (Streaming Specification, "Playback": ``Range: clock=...``, the RTP header
extension with absolute times), which the broker's gateway does not speak: the adapter lists recordings and
checks their replay URIs, and :meth:`OnvifAdapter.recording` stays :class:`NotSupported` (the gateway's rolling
recording is used).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from adapters.onvif.client import SoapClient
from adapters.onvif.media import stream_setup
from adapters.onvif.soapxml import Node, el, text_el
from broker.adapterapi import AdapterError

MAX_ROUNDS = 20  # GetRecordingSearchResults calls per search
PAGE = 100
MAX_RECORDINGS = 1000


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    token: str
    source_id: str
    source_name: str
    earliest: str
    latest: str
    status: str

    def belongs_to(self, tokens: set[str], name: str) -> bool:
        source = self.source_id
        return source in tokens or any(source.endswith("/" + t) for t in tokens) or self.source_name == name


@dataclass(frozen=True, slots=True)
class Found:
    recordings: tuple[RecordingInfo, ...]
    complete: bool  # the search reached SearchState "Completed"


def _info(node: Node) -> RecordingInfo | None:
    token = node.path_text("RecordingToken")
    if not token:
        return None
    return RecordingInfo(
        token=token[:64],
        source_id=(node.path_text("Source", "SourceId") or "")[:256],
        source_name=(node.path_text("Source", "Name") or "")[:64],
        earliest=(node.path_text("EarliestRecording") or "")[:40],
        latest=(node.path_text("LatestRecording") or "")[:40],
        status=(node.path_text("RecordingStatus") or "")[:20],
    )


async def find_recordings(client: SoapClient, search_url: str) -> Found:
    started = await client.call(
        search_url, "tse:FindRecordings", el("tse:Scope"), text_el("tse:MaxMatches", str(MAX_RECORDINGS)),
        text_el("tse:KeepAliveTime", "PT10S"),
    )  # fmt: skip
    token = started.path_text("SearchToken")
    if not token:
        raise AdapterError(f"{client.where('tse:FindRecordings')}: malformed answer: no SearchToken")
    found: list[RecordingInfo] = []
    for _ in range(MAX_ROUNDS):
        page = await client.call(
            search_url, "tse:GetRecordingSearchResults", text_el("tse:SearchToken", token),
            text_el("tse:MaxResults", str(PAGE)), text_el("tse:WaitTime", "PT1S"),
        )  # fmt: skip
        results = page.child("ResultList")
        if results is None:
            raise AdapterError(f"{client.where('tse:GetRecordingSearchResults')}: malformed answer: no ResultList")
        found.extend(i for i in map(_info, results.iter_children("RecordingInformation")) if i is not None)
        if results.path_text("SearchState") == "Completed":
            return Found(tuple(found[:MAX_RECORDINGS]), complete=True)
        if len(found) >= MAX_RECORDINGS:
            break
    with contextlib.suppress(AdapterError):  # if it fails, the session ends on its own (KeepAliveTime)
        await client.call(search_url, "tse:EndSearch", text_el("tse:SearchToken", token))
    return Found(tuple(found[:MAX_RECORDINGS]), complete=False)


async def replay_uri(client: SoapClient, replay_url: str, recording_token: str) -> str:
    answer = await client.call(
        replay_url, "trp:GetReplayUri", stream_setup("trp"), text_el("trp:RecordingToken", recording_token)
    )
    uri = answer.path_text("Uri")
    if not uri:
        raise AdapterError(f"{client.where('trp:GetReplayUri')}: malformed answer: no Uri")
    return uri
