"""The embedded default: one SQLite file in the data directory (aiosqlite)."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from .base import StoreError
from .sql import SqlStore


class SqliteStore(SqlStore):
    def __init__(self, path: Path, *, answer_ttl: float, retention: float) -> None:
        super().__init__(answer_ttl=answer_ttl, retention=retention)
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA busy_timeout=5000")
            async with self._lock:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    await self._apply_migrations(self._run)
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"tilstandsdatabasen {self.path} kan ikke brukes: {e}") from e

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        assert self._db is not None
        async with self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self._db is None:
            raise StoreError("tilstandsdatabasen er ikke åpnet")
        async with self._lock:
            return await self._run(sql, params)

    async def _change(self, sql: str, params: tuple = ()) -> int:
        if self._db is None:
            raise StoreError("tilstandsdatabasen er ikke åpnet")
        async with self._lock:
            async with self._db.execute(sql, params) as cur:
                return cur.rowcount
