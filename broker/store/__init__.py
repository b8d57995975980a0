"""Persistence: SQLAlchemy Core tables on SQLite (embedded default) or PostgreSQL."""

from broker.store.db import Store
from broker.store.emergencies import EmergencyRecord, EmergencyRepository

__all__ = ["EmergencyRecord", "EmergencyRepository", "Store"]
