"""Conversation state behind one small async interface (the shape of aiogram's storage):
answers by token, preferences per pseudonymous user, processed update ids, rate-limit
counters, votes, and the index build every replica should serve.

* :class:`~bot.state.sqlite.SqliteStore`: the embedded default, one file in the data
  directory; survives restarts of a single process.
* :class:`~bot.state.postgres.PostgresStore`: when ``POLICYBOT_DATABASE_URL`` is set; any
  number of replicas share it.

Both apply the versioned migrations in :mod:`bot.state.migrations` when opened, and both
enforce the answers' TTL and the retention of stored questions themselves.
"""
from __future__ import annotations

from .base import AnswerRecord, InboxItem, Prefs, SchemaTooNew, StateStore, StoreError, Summary

__all__ = ["AnswerRecord", "InboxItem", "Prefs", "SchemaTooNew", "StateStore", "StoreError", "Summary", "open_store"]


def open_store(url: str | None, sqlite_path, *, answer_ttl: float, retention: float, timeout: float = 5.0) -> StateStore:
    """The store for these settings (not yet opened: ``await store.open()``). ``timeout``
    bounds connecting and every statement (PostgreSQL)."""
    if url:
        from .postgres import PostgresStore

        return PostgresStore(url, answer_ttl=answer_ttl, retention=retention, timeout=timeout)
    from .sqlite import SqliteStore

    return SqliteStore(sqlite_path, answer_ttl=answer_ttl, retention=retention)
