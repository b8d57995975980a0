"""The HTTP API (FastAPI). ``create_app`` is the factory; routes live in ``broker.api.routes``."""

from broker.api.app import create_app

__all__ = ["create_app"]
