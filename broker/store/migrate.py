"""Schema upgrades: what a database created by an older camgate lacks, added in place.

``create_all`` creates missing tables; columns that later versions added to existing tables are added here
(``ALTER TABLE ... ADD COLUMN``, nullable, so rows of older versions get NULL: "not bound to the chain yet",
see :mod:`broker.store.binding`). Run inside :meth:`~broker.store.db.Store.create_all`'s transaction (under its
advisory lock on PostgreSQL), idempotent, and cheap when there is nothing to do (one catalog read per table).
The ``schema_version`` row says the newest version applied.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Table, inspect, select, update

from broker.store import tables

#: version -> the columns it added to tables that existed before it.
ADDED: dict[int, tuple[tuple[Table, tuple[str, ...]], ...]] = {
    2: (
        (tables.emergencies, ("audit_seq", "audit_hash")),
        (tables.notices, ("audit_seq", "audit_hash")),
        (tables.counters, ("audit_seq", "audit_hash")),
    ),
}


def _add_column(conn: Connection, table: Table, column: Column[object]) -> None:
    kind = column.type.compile(dialect=conn.dialect)
    preparer = conn.dialect.identifier_preparer
    conn.exec_driver_sql(
        f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.format_column(column)} {kind}"
    )


def upgrade(conn: Connection) -> list[str]:
    """Add every missing column; returns them as ``table.column`` (empty: the schema was current)."""
    inspector = inspect(conn)
    added = []
    for _version, changes in sorted(ADDED.items()):
        for table, names in changes:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for name in names:
                if name not in present:
                    _add_column(conn, table, table.c[name])
                    added.append(f"{table.name}.{name}")
    version = tables.schema_version
    current = conn.execute(select(version.c.version).where(version.c.id == 1)).scalar_one_or_none()
    if current is not None and current < tables.SCHEMA_VERSION:
        conn.execute(update(version).where(version.c.id == 1).values(version=tables.SCHEMA_VERSION))
    return added
