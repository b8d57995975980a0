"""The generic RTSP adapter (``adapter: rtsp``): any camera or encoder that serves H.264 over RTSP."""

from adapters.rtsp.adapter import RtspAdapter

__all__ = ["RtspAdapter"]
