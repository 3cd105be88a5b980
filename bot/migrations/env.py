"""Alembic environment: always run with a connection handed in by bot.store.db.upgrade.

On PostgreSQL the migration first takes a transaction-level advisory lock on a fixed key,
so processes started together (several `achtje run`, `achtje db upgrade`) migrate one
after the other: the first brings the schema to head, the others then find it there. The
lock is let go when the migration's transaction ends, also when it fails.
"""

from alembic import context
from sqlalchemy import text

from bot.store.tables import Base

# Any fixed 64-bit number works, as long as every achtje process uses the same one.
MIGRATION_LOCK = 0x61636874_6A65  # "achtje"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `achtje db upgrade`")
if connection.dialect.name == "postgresql":
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
