"""The embedded default: one SQLite file in the data directory (aiosqlite).

Faults: every ``sqlite3`` error becomes a one-line :class:`StoreError` (the engine answers
without its bookkeeping when a write fails, see :mod:`bot.engine`). A write waits at most
``BUSY_MS`` for a lock another process holds; when it fails for lack of a lock or of
space, writes fail at once for ``PAUSE_SECONDS`` instead of each waiting in turn (four
users behind a held lock waited 5, 10, 15 and 20 s before). A failed ``open()`` closes its
connection, so its worker thread never keeps a failed process alive.
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import aiosqlite

from .base import StoreError
from .sql import SqlStore

OPEN_BUSY_MS = 3000  # opening (migrations) may wait for another process a while, then fails in one line
BUSY_MS = 250  # a bookkeeping write may not hold an answer up longer than this
PAUSE_SECONDS = 5.0  # after a write failed for a lock or a full disk, writes fail fast this long


class SqliteStore(SqlStore):
    def __init__(self, path: Path, *, answer_ttl: float, retention: float) -> None:
        super().__init__(answer_ttl=answer_ttl, retention=retention)
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._paused_until = 0.0
        self._pause_reason = ""

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute(f"PRAGMA busy_timeout={OPEN_BUSY_MS}")
            async with self._lock:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    await self._apply_migrations(self._run)
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise
            await self._db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        except (sqlite3.Error, OSError) as e:
            await self.close()  # else aiosqlite's (non-daemon) thread keeps the process alive
            raise StoreError(f"tilstandsdatabasen {self.path} kan ikke brukes: {_first_line(e)}") from None
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            try:
                await db.close()
            except (sqlite3.Error, ValueError):
                pass

    async def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        assert self._db is not None
        async with self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    def _check_open(self, write: bool) -> None:
        if self._db is None:
            raise StoreError("tilstandsdatabasen er ikke åpnet")
        if write and time.monotonic() < self._paused_until:
            raise StoreError(f"tilstandsdatabasen tar ikke imot skriving nå ({self._pause_reason})")

    def _failed(self, e: sqlite3.Error, write: bool) -> StoreError:
        reason = _first_line(e)
        if write and isinstance(e, sqlite3.OperationalError):  # locked, busy, full, I/O
            self._paused_until = time.monotonic() + PAUSE_SECONDS
            self._pause_reason = reason
        return StoreError(f"tilstandsdatabasen {self.path.name}: {reason}")

    async def _fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        write = not sql.lstrip().upper().startswith("SELECT")  # INSERT … RETURNING counts as a write
        self._check_open(write)
        async with self._lock:
            try:
                return await self._run(sql, params)
            except sqlite3.Error as e:
                raise self._failed(e, write) from None

    async def _change(self, sql: str, params: tuple = ()) -> int:
        self._check_open(True)
        async with self._lock:
            try:
                async with self._db.execute(sql, params) as cur:  # type: ignore[union-attr]
                    return cur.rowcount
            except sqlite3.Error as e:
                raise self._failed(e, True) from None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
