"""PostgreSQL, for several replicas: psycopg 3 (async) with a connection pool."""
from __future__ import annotations

from .base import StoreError
from .sql import SqlStore

_MIGRATION_LOCK = 0x706F6C6963  # pg_advisory_xact_lock key: one replica migrates at a time


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresStore(SqlStore):
    def __init__(self, url: str, *, answer_ttl: float, retention: float, min_size: int = 1, max_size: int = 8) -> None:
        super().__init__(answer_ttl=answer_ttl, retention=retention)
        self._url = url
        self._sizes = (min_size, max_size)
        self._pool = None

    async def open(self) -> None:
        try:
            import psycopg
            from psycopg_pool import AsyncConnectionPool
        except ImportError as e:
            raise StoreError("PostgreSQL trenger psycopg: pip install 'policybot[postgres]'") from e
        self._errors = (psycopg.Error, OSError)
        try:
            self._pool = AsyncConnectionPool(self._url, min_size=self._sizes[0], max_size=self._sizes[1], open=False, kwargs={"autocommit": True})
            await self._pool.open(wait=True, timeout=15)
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

                    async def run(sql: str, params: tuple = ()) -> list[tuple]:
                        cur = await conn.execute(_pg(sql), params)
                        return list(await cur.fetchall()) if cur.description else []

                    await self._apply_migrations(run)
        except StoreError:
            raise
        except Exception as e:  # noqa: BLE001 - psycopg and pool errors: one clear line
            await self.close()
            raise StoreError(f"får ikke brukt PostgreSQL ({type(e).__name__}: {_first_line(e)})") from e

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self._pool is None:
            raise StoreError("tilstandsdatabasen er ikke åpnet")
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(_pg(sql), params)
                return list(await cur.fetchall()) if cur.description else []
        except self._errors as e:
            raise StoreError(f"PostgreSQL: {_first_line(e)}") from e

    async def _change(self, sql: str, params: tuple = ()) -> int:
        if self._pool is None:
            raise StoreError("tilstandsdatabasen er ikke åpnet")
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(_pg(sql), params)
                return cur.rowcount
        except self._errors as e:
            raise StoreError(f"PostgreSQL: {_first_line(e)}") from e


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
