"""kabinet's SQLite client: Tortoise's, plus a second connection that only reads.

Tortoise talks to a SQLite database over one connection, and a transaction holds it from
BEGIN to COMMIT - across every turn of the event loop in between, while the task that
opened it waits for the loop, which may be busy with other requests. Every other query
waits meanwhile: a login's transactions (its attempt counted, its session written) held
the dashboards' reads up by 2-3 ms at a time (bench/login_under_load.py).

In WAL mode, SQLite's default here, readers never wait for a writer: each reads the last
committed state. So the plain reads of models/sql.py outside a transaction (`fetch`: the
dashboard's DataLoaders, the session check) go over a second, read-only connection with
its own thread, as PostgreSQL's pool lets them go over another connection; what is
written, and all that runs inside a transaction, keeps the one connection it had.

A read that starts after a write has returned sees that write (the write committed before
its call returned, and each read is a snapshot taken when it starts); a read beside
another task's open transaction sees the state before it, as on PostgreSQL. An in-memory
database has no second connection (another would open another database), nor has one in
another journal mode (its readers wait for writers anyway).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient


class ReadApartSqliteClient(SqliteClient):
    """Tortoise's SQLite client with `reader()`: the read-only connection of models/sql.py."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._reader: aiosqlite.Connection | None = None
        self._reader_opening = asyncio.Lock()  # one opens it, others wait for that one
        # a URI: SQLite refuses any write on this connection, so a statement sent there by
        # mistake fails instead of writing beside a transaction's back
        self._reader_uri = Path(file_path).absolute().as_uri() + "?mode=ro"
        # Whether reads may take a connection of their own: a database in a file named by
        # its path (in memory, another connection would open another database), in WAL mode.
        in_memory = file_path == ":memory:" or file_path.startswith("file:")
        wal = str(self.pragmas.get("journal_mode", "")).upper() == "WAL"
        self.reads_apart = wal and not in_memory

    async def reader(self) -> aiosqlite.Connection:
        """The read-only connection, opened on first use (after the writing one, which
        creates the database and puts it in WAL mode)."""
        if self._reader is not None:
            return self._reader
        async with self._reader_opening:
            if self._reader is None:
                async with self.acquire_connection():  # the file exists and is in WAL mode
                    pass
                reader = await aiosqlite.connect(self._reader_uri, uri=True, isolation_level=None)
                reader._conn.row_factory = sqlite3.Row
                self._reader = reader
        return self._reader

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        await super().close()


client_class = ReadApartSqliteClient
