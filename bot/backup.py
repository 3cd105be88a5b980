"""`achtje backup FILE` and `achtje restore FILE`: every table of the database in one
portable file, from SQLite or PostgreSQL, into an empty database of either kind.

The file is JSON lines (gzip when its name ends in `.gz`): a header with the schema's
migration revision, then per table a line naming its columns followed by one line per row,
and an end line with the row counts, so a cut-off file is noticed. Rows are read in one
transaction that sees a single moment (SQLite: one read transaction; PostgreSQL: repeatable
read), so a backup is consistent while achtje runs. Values are copied as stored: Slack
tokens stay encrypted with ACHTJE_SECRET_KEY, which is why the key belongs with a backup.

A restore builds the schema at the backup's revision, loads every row, moves PostgreSQL's id
counters past them and then upgrades to this version's schema: a backup of an older
version restores into a newer one; a backup from a newer version is refused.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Annotated, Any, cast

import typer
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    MetaData,
    Table,
    delete,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import alembic_config, revisions

logger = logging.getLogger(__name__)

FORMAT = "achtje-backup"
VERSION = 1
BATCH = 500


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why, for an operator."""


def _open(path: Path, mode: str, compressed: bool | None = None) -> IO[str]:
    if path.suffix == ".gz" if compressed is None else compressed:
        return cast(IO[str], gzip.open(path, mode + "t", encoding="utf-8"))
    return path.open(mode, encoding="utf-8", newline="\n")


def _tables(connection: Connection) -> list[Table]:
    """The database's own tables as they are (not as this version models them), parents
    before children."""
    metadata = MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name != "alembic_version"]


def _plain(value: Any) -> Any:
    """A stored value as JSON: moments in UTC, days as ISO dates."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _line(out: IO[str], value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def dump(connection: Connection, out: IO[str]) -> dict[str, int]:
    """Write every table's rows to `out`; the row count per table."""
    found = revisions(connection)
    if not found:
        raise BackupError("the database has no achtje schema: nothing to back up")
    _line(out, {"format": FORMAT, "version": VERSION, "schema": found,
                "dialect": connection.dialect.name,
                "created": datetime.now(UTC).isoformat(timespec="seconds")})
    counts: dict[str, int] = {}
    for table in _tables(connection):
        columns = [column.name for column in table.columns]
        _line(out, {"table": table.name, "columns": columns})
        order = list(table.primary_key.columns) or list(table.columns)
        rows = connection.execution_options(yield_per=BATCH).execute(
            select(table).order_by(*order))
        counts[table.name] = 0
        for row in rows:
            _line(out, [_plain(value) for value in row])
            counts[table.name] += 1
    _line(out, {"end": True, "counts": counts})
    return counts


def _stored(table: Table) -> dict[str, Any]:
    """Per column, how a value read from the file becomes the value to store."""
    converters: dict[str, Any] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, DateTime):
            aware = bool(kind.timezone)
            converters[column.name] = lambda v, aware=aware: (
                None if v is None else datetime.fromisoformat(v).replace(
                    tzinfo=UTC if aware else None))
        elif isinstance(kind, Date):
            converters[column.name] = lambda v: None if v is None else date.fromisoformat(v)
        elif isinstance(kind, JSON):
            # An empty optional value is SQL NULL, a required one JSON null, as written.
            column.type = type(kind)(none_as_null=bool(column.nullable))
    return converters


def _records(source: IO[str]) -> Iterator[Any]:
    for number, line in enumerate(source, start=1):
        try:
            yield json.loads(line)
        except ValueError as exc:
            raise BackupError(f"line {number} of the backup is not valid: {exc}") from exc


def _known(found: list[str]) -> None:
    """Refuse a backup whose schema this version of achtje does not know (a newer one)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config())
    for revision in found:
        try:
            script.get_revision(revision)
        except CommandError as exc:
            raise BackupError(
                f"the backup's schema ({revision}) is newer than this version of achtje "
                "knows: restore it with that version or a later one") from exc


def _migrate(connection: Connection, targets: list[str]) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    for target in targets:
        command.upgrade(config, target)


def is_empty(connection: Connection) -> bool:
    return all(connection.scalar(select(1).select_from(table).limit(1)) is None
               for table in _tables(connection))


def _prepare(connection: Connection, wanted: list[str], force: bool) -> None:
    """Make the target an empty database at the backup's schema revision."""
    if not force and not is_empty(connection):
        raise BackupError("the target database is not empty: restore into an empty "
                          "database, or add --force to replace everything in it")
    if revisions(connection) == wanted:
        for table in reversed(_tables(connection)):
            connection.execute(delete(table))
        return
    existing = MetaData()
    existing.reflect(connection)
    existing.drop_all(connection)
    _migrate(connection, wanted)


def _counters(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: each serial id counter continues after the highest restored id."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].type.python_type is not int:
            continue
        name = keys[0].name
        connection.execute(text(
            f'SELECT setval(pg_get_serial_sequence(:table, :column), '
            f'COALESCE(MAX("{name}"), 0) + 1, false) FROM "{table.name}"'),
            {"table": table.name, "column": name})


def load(connection: Connection, source: IO[str], force: bool = False) -> dict[str, int]:
    """Restore a backup into the database on `connection`, then upgrade it to head."""
    records = _records(source)
    header = next(records, None)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("this file is not an achtje backup")
    if header.get("version") != VERSION:
        raise BackupError(f"backup format {header.get('version')} is not known to this "
                          "version of achtje")
    wanted = sorted(header["schema"])
    _known(wanted)
    _prepare(connection, wanted, force)
    tables = {table.name: table for table in _tables(connection)}
    counts: dict[str, int] = {}
    table: Table | None = None
    columns: list[str] = []
    converters: dict[str, Any] = {}
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if table is not None and batch:
            connection.execute(table.insert(), batch)
            batch.clear()

    for record in records:
        if isinstance(record, list):
            if table is None or len(record) != len(columns):
                raise BackupError(f"a row of table {table.name if table is not None else '?'}"
                                  " does not match its columns")
            row = dict(zip(columns, record, strict=True))
            for name, convert in converters.items():
                row[name] = convert(row[name])
            batch.append(row)
            counts[table.name] += 1
            if len(batch) >= BATCH:
                flush()
        elif "table" in record:
            flush()
            table = tables.get(record["table"])
            columns = record["columns"]
            if table is None or set(columns) != {column.name for column in table.columns}:
                raise BackupError(f"table {record['table']} of the backup does not match "
                                  f"schema {', '.join(wanted)}")
            converters = _stored(table)
            counts[table.name] = 0
        elif record.get("end"):
            flush()
            if record["counts"] != counts:
                raise BackupError("the backup's rows do not add up to its own counts")
            _counters(connection, list(tables.values()))
            _migrate(connection, ["heads"])
            return counts
    raise BackupError("the backup file is cut off: its end is missing")


async def backup_to(engine: AsyncEngine, path: Path) -> dict[str, int]:
    """Write a consistent backup of the database to `path` (replaced only when complete)."""
    partial = path.with_name(path.name + ".partial")
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                if connection.dialect.name == "sqlite":
                    await connection.exec_driver_sql("BEGIN")  # one snapshot for all reads
                with _open(partial, "w", compressed=path.suffix == ".gz") as out:
                    counts = await connection.run_sync(dump, out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return counts


async def restore_from(engine: AsyncEngine, path: Path, force: bool = False) -> dict[str, int]:
    """Restore the backup at `path` in one transaction: all of it, or nothing."""
    with _open(path, "r") as source:
        async with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                await connection.exec_driver_sql("BEGIN")  # the schema too, or nothing
            return await connection.run_sync(load, source, force)


def _run(work: Any) -> dict[str, int]:
    """Run a backup or restore on ACHTJE_DATABASE_URL; every failure is one line."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from bot.commandline import fail, setup_logging
    from bot.settings import Settings
    from bot.store import db

    settings = Settings()
    setup_logging(settings, "WARNING")

    async def go() -> dict[str, int]:
        engine = db.create_engine(settings.database_url)
        try:
            try:
                async with engine.connect():
                    pass
            except (OSError, DBAPIError) as exc:
                raise db.unavailable(settings.database_url, exc) from exc
            result: dict[str, int] = await work(engine)
            return result
        except DBAPIError as exc:
            raise BackupError(f"the database refused it ({db.reason(exc)}); nothing was "
                              "changed") from exc
        except OSError as exc:
            raise BackupError(f"cannot use the file: {exc}") from exc
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except BackupError as exc:
        raise fail(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise fail("this file is not an achtje backup") from exc


def register(holder: typer.Typer) -> None:
    @holder.command()
    def backup(file: Annotated[Path, typer.Argument(
            help="Where to write the backup; a name ending in .gz is compressed.")]) -> None:
        """Write every table of the database to FILE, consistently, while achtje runs.

        Keep ACHTJE_SECRET_KEY with it: stored Slack tokens stay encrypted with it.
        """
        counts = _run(lambda engine: backup_to(engine, file))
        typer.echo(f"backed up {sum(counts.values())} rows from {len(counts)} tables "
                   f"to {file}")

    @holder.command()
    def restore(
        file: Annotated[Path, typer.Argument(help="A file made by `achtje backup`.")],
        force: Annotated[bool, typer.Option(
            "--force", help="Replace everything in a database that is not empty.")] = False,
    ) -> None:
        """Load a backup into an empty database (SQLite or PostgreSQL), then upgrade it.

        Stop every achtje process first; use the same ACHTJE_SECRET_KEY as the backup's.
        """
        counts = _run(lambda engine: restore_from(engine, file, force))
        typer.echo(f"restored {sum(counts.values())} rows into {len(counts)} tables "
                   f"from {file}")
