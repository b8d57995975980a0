"""The RTSP to HLS gateway: RTSP-only cameras offered to viewers as HLS, through the unchanged proxy.

One ffmpeg per camera, started on first demand, repackaging (``-c copy``) into a private work directory and
shared by every viewer of the camera (:mod:`.stream`, :mod:`.ffmpeg`); stopped when nobody asked for
``idle_seconds``, restarted with backoff when the camera drops; its segments kept ``retention_seconds`` as the
rolling recording for pre-event playback (:mod:`.index`). :class:`~.adapter.GatewayAdapter` offers an
:class:`~broker.adapterapi.RtspCameraSystem` as a :class:`~broker.adapterapi.CameraSystemAdapter`; the app
factory's pool loader wraps every RTSP system (:func:`~.adapter.gateway_loader`). Layer: beside inventory;
imports only the adapter interface, settings, clock and errors.
"""

from broker.gateway.adapter import GatewayAdapter, gateway_loader, load_system
from broker.gateway.gateway import Gateway

__all__ = ["Gateway", "GatewayAdapter", "gateway_loader", "load_system"]
