"""PostgreSQL, for several replicas: psycopg 3 (async) with a connection pool.

Start-up faults are one line that never holds the password: the URL is parsed first (a
malformed one is named without its secret), then one connection is tried with a short
timeout before the pool starts, so an unreachable server says so in seconds instead of
a pool timeout after 15. The password is scrubbed from psycopg's own log lines too.
"""
from __future__ import annotations

import logging

try:
    from psycopg_pool import PoolTimeout
except ImportError:  # the postgres extra is not installed; open() says so
    class PoolTimeout(Exception):  # type: ignore[no-redef]
        pass

import logging

from .base import StoreError
from .sql import SqlStore

# The pool logs every failed reconnection (dozens a second during an outage); the bot says
# once that the store is unreachable and once that it is back (bot.inbox.StoreWatch).
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

_MIGRATION_LOCK = 0x706F6C6963  # pg_advisory_xact_lock key: one replica migrates at a time
CONNECT_TIMEOUT = 5  # seconds for the first connection at start-up


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresStore(SqlStore):
    """``timeout`` bounds each step against the database: connecting (``connect_timeout``),
    waiting for a pooled connection, and every statement (``statement_timeout``), so a
    database that is down or partitioned makes calls fail in seconds instead of hanging."""

    _skip_locked = " FOR UPDATE SKIP LOCKED"
    remote = True

    def __init__(self, url: str, *, answer_ttl: float, retention: float, min_size: int = 1, max_size: int = 8, timeout: float = 5.0) -> None:
        super().__init__(answer_ttl=answer_ttl, retention=retention)
        self._url = url
        self._sizes = (min_size, max_size)
        self._pool = None
        self.timeout = timeout

    async def open(self) -> None:
        try:
            import psycopg
            from psycopg_pool import AsyncConnectionPool
        except ImportError as e:
            error = StoreError("PostgreSQL trenger psycopg: pip install 'policybot[postgres]'")
            error.retryable = False
            raise error from e
        self._errors = (psycopg.Error, OSError)
        target = await self._probe(psycopg)
        _scrub_logs(self._secrets())
        try:
            kwargs = {
                "autocommit": True,
                "connect_timeout": max(1, int(self.timeout)),
                "options": f"-c statement_timeout={int(self.timeout * 1000)}",
                # a partitioned server is noticed by the kernel, not after two hours
                "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
            }
            self._pool = AsyncConnectionPool(
                self._url, min_size=self._sizes[0], max_size=self._sizes[1], open=False, kwargs=kwargs,
                timeout=self.timeout, check=AsyncConnectionPool.check_connection, reconnect_timeout=0,
            )
            await self._pool.open(wait=True, timeout=self.timeout)
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

                    async def run(sql: str, params: tuple = ()) -> list[tuple]:
                        cur = await conn.execute(_pg(sql), params)
                        return list(await cur.fetchall()) if cur.description else []

                    await self._apply_migrations(run)
        except StoreError:
            await self.close()
            raise
        except Exception as e:  # noqa: BLE001 - psycopg and pool errors: one clear line
            await self.close()
            raise StoreError(f"får ikke brukt PostgreSQL på {target} ({type(e).__name__}: {self._clean(_first_line(e))})") from None

    def _secrets(self) -> list[str]:
        from psycopg.conninfo import conninfo_to_dict

        try:
            password = conninfo_to_dict(self._url).get("password") or ""
        except Exception:  # noqa: BLE001 - unparsable: scrub the whole URL
            password = ""
        return [s for s in (self._url, str(password)) if s]

    def _clean(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    async def _probe(self, psycopg) -> str:
        """Parse the URL and open one connection; returns "host:port/db" for messages."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(self._url)
        except psycopg.Error:
            raise _final(StoreError("POLICYBOT_DATABASE_URL er ikke en gyldig PostgreSQL-adresse (postgresql://bruker:passord@vert:port/database)")) from None
        target = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname') or ''}"
        try:
            conn = await psycopg.AsyncConnection.connect(self._url, connect_timeout=CONNECT_TIMEOUT, autocommit=True)
        except psycopg.OperationalError as e:
            reason = self._clean(_first_line(e))
            detail = reason.removeprefix("connection is bad: ")
            if detail.startswith("invalid "):  # libpq refused a parameter's value
                raise _final(StoreError(f"POLICYBOT_DATABASE_URL har en ugyldig verdi: {detail}")) from None
            if "authentication" in reason or "does not exist" in reason or "no pg_hba.conf" in reason:
                raise _final(StoreError(f"PostgreSQL på {target} avviste tilkoblingen: {reason}")) from None
            raise StoreError(f"får ikke kontakt med PostgreSQL på {target}: {reason}") from None
        except (psycopg.Error, OSError) as e:
            raise StoreError(f"får ikke brukt PostgreSQL på {target}: {self._clean(_first_line(e))}") from None
        await conn.close()
        return target

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
        except self._errors + (PoolTimeout,) as e:
            raise StoreError(f"PostgreSQL: {_first_line(e)}") from e

    async def _change(self, sql: str, params: tuple = ()) -> int:
        if self._pool is None:
            raise StoreError("tilstandsdatabasen er ikke åpnet")
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(_pg(sql), params)
                return cur.rowcount
        except self._errors + (PoolTimeout,) as e:
            raise StoreError(f"PostgreSQL: {_first_line(e)}") from e


def _final(error: StoreError) -> StoreError:
    """A fault waiting will not mend (a bad URL, refused credentials): no retries at start."""
    error.retryable = False
    return error


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class _Scrub(logging.Filter):
    """Replace secrets in psycopg's log records (the pool logs connection errors, and
    libpq quotes a malformed URL whole, password included)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for s in self.secrets:
                message = message.replace(s, "***")
            record.msg, record.args = message, None
        return True


def _scrub_logs(secrets: list[str]) -> None:
    for name in ("psycopg", "psycopg.pool"):
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, _Scrub)]
        logger.addFilter(_Scrub(secrets))
