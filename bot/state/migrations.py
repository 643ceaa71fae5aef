"""Versioned schema migrations, applied in order when a store opens. Never edit a
released step: add a new one. The SQL is written once for both databases (types both
understand, ``?`` placeholders that the PostgreSQL store translates)."""
from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "answers, preferences, updates, rate limits, votes, meta",
        [
            """CREATE TABLE answers (
                token TEXT PRIMARY KEY,
                created DOUBLE PRECISION NOT NULL,
                user_hash TEXT NOT NULL,
                source TEXT NOT NULL,
                question TEXT NOT NULL,
                prefs TEXT NOT NULL,
                build TEXT NOT NULL,
                found INTEGER NOT NULL,
                confidence TEXT,
                passages TEXT NOT NULL
            )""",
            "CREATE INDEX answers_created ON answers (created)",
            """CREATE TABLE prefs (
                user_hash TEXT PRIMARY KEY,
                prefs TEXT NOT NULL,
                updated DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE updates (
                update_id BIGINT PRIMARY KEY,
                seen DOUBLE PRECISION NOT NULL
            )""",
            """CREATE TABLE rate (
                user_hash TEXT NOT NULL,
                bucket BIGINT NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (user_hash, bucket)
            )""",
            """CREATE TABLE votes (
                token TEXT NOT NULL,
                user_hash TEXT NOT NULL,
                ts DOUBLE PRECISION NOT NULL,
                vote INTEGER NOT NULL,
                PRIMARY KEY (token, user_hash)
            )""",
            """CREATE TABLE meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
        ],
    ),
    (
        2,
        "inbox with leases; published corpus and index builds",
        [
            # Every update Telegram delivers, committed before the webhook answers 200.
            # state: received (nobody holds it), leased (owner until lease_until), done.
            """CREATE TABLE inbox (
                update_id BIGINT PRIMARY KEY,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                owner TEXT,
                lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
                attempts INTEGER NOT NULL DEFAULT 0,
                received DOUBLE PRECISION NOT NULL,
                done_at DOUBLE PRECISION
            )""",
            "CREATE INDEX inbox_open ON inbox (state, lease_until)",
            # Content-named blobs: corpus archives and index builds every host can fetch.
            """CREATE TABLE blobs (
                name TEXT PRIMARY KEY,
                data BYTEA NOT NULL,
                size BIGINT NOT NULL,
                created DOUBLE PRECISION NOT NULL
            )""",
        ],
    ),
]

LATEST = MIGRATIONS[-1][0]
