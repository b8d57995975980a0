"""Fake upstream servers speaking real HTTP on 127.0.0.1 (see :mod:`tests.fakes.hls_origin`)."""
