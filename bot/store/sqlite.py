"""SQLite through aiosqlite with one trip to the driver's thread per statement.

aiosqlite runs every call on a thread of its own; SQLAlchemy's adapter makes four such
calls per statement (open a cursor, execute, fetch the rows, close it), and each is a
hand-over to that thread and back to the event loop. Under load those hand-overs, not the
SQL, were most of a button press. Here one function on the driver's thread does all four
and hands back what the cursor said (description, row count, last row id) and its rows;
a rollback with no transaction open (the pool's, after every commit) makes no trip.
Everything else (transactions, errors, the pool) stays SQLAlchemy's and aiosqlite's.
"""

from __future__ import annotations

import collections
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT


class _Ran:
    """What a closed sqlite3 cursor said about the statement it ran."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, description: Any = None, rowcount: int = -1,
                 lastrowid: int | None = None, arraysize: int = 1) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.arraysize = arraysize


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any,
         many: bool) -> tuple[_Ran, list[Any]]:
    """On the driver's thread: run one statement, read its rows, close the cursor."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Ran(cursor.description, cursor.rowcount, cursor.lastrowid,
                    cursor.arraysize), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, each statement one call on the driver's thread."""

    __slots__ = ()

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is opened here: each statement opens and closes its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _Ran()  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._run(operation, seq_of_parameters, True)

    async def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            ran, rows = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection, operation, parameters, many)
            self._cursor = ran
            self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        return None  # the statement's cursor is closed already

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def rollback(self) -> None:
        """The pool rolls back every connection it takes back, also after a commit; with
        no transaction open sqlite3 would do nothing, so that takes no trip either."""
        if self._idle():
            return
        super().rollback()

    def commit(self) -> None:
        """A transaction that only read has nothing to commit (sqlite3 would do nothing)."""
        if self._idle():
            return
        super().commit()

    def _idle(self) -> bool:
        """Whether sqlite3 holds no transaction open on this connection (read between
        statements, while the driver's thread does nothing with it)."""
        raw = self._connection._connection  # sqlite3's connection; None once closed
        return raw is not None and not raw.in_transaction


def one_trip(dbapi_connection: Any) -> None:
    """Make a new aiosqlite connection of SQLAlchemy's run each statement in one trip."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneTripConnection
