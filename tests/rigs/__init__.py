"""Fail-closed rigs (issue 12): a real ``camgate serve`` with real video and ffmpeg viewers, made to lose its audit
store (a full disk, a lock, PostgreSQL down, a read-only filesystem, kill -9), with every answer the viewers
received counted by a reverse proxy and compared with the durable ``session.served`` records afterwards."""
