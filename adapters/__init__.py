"""Vendor adapters. Each one implements :class:`broker.adapterapi.CameraSystemAdapter` (HLS-serving systems) or
:class:`broker.adapterapi.RtspCameraSystem` (RTSP systems, served through the broker's gateway).

Adapters import only :mod:`broker.adapterapi` from the broker. The registry maps the ``adapter`` name of an
inventory system to an import path ``"module:attribute"``; the broker loads it lazily
(:func:`broker.inventory.adapters.load_adapter`), so an adapter's dependencies are imported only when an
inventory uses it.
"""

from __future__ import annotations

ADAPTERS: dict[str, str] = {
    "hls": "adapters.hls:HlsAdapter",
    "onvif": "adapters.onvif:OnvifAdapter",
    "evidence": "adapters.evidence:EvidenceAdapter",
    "axis": "adapters.axis:AxisAdapter",
    "hikvision": "adapters.hikvision:HikvisionAdapter",
    "rtsp": "adapters.rtsp:RtspAdapter",
}
