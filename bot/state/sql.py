"""The queries, written once for SQLite and PostgreSQL. A subclass supplies three
primitives: run a statement and fetch its rows, run one and count the rows it changed, and
apply the migrations under the database's own lock."""
from __future__ import annotations

import json
import time
from abc import abstractmethod

from .base import AnswerRecord, InboxItem, Prefs, SchemaTooNew, StateStore, Summary
from .migrations import LATEST, MIGRATIONS

UPDATE_MEMORY = 7 * 24 * 3600.0  # processed update ids are remembered this long


class SqlStore(StateStore):
    _skip_locked = ""  # PostgreSQL: " FOR UPDATE SKIP LOCKED"; SQLite has one writer anyway

    @abstractmethod
    async def _fetch(self, sql: str, params: tuple = ()) -> list[tuple]: ...

    @abstractmethod
    async def _change(self, sql: str, params: tuple = ()) -> int: ...

    async def _apply_migrations(self, run) -> None:
        """``run(sql, params)`` executes inside the caller's transaction and lock."""
        await run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied DOUBLE PRECISION NOT NULL, note TEXT NOT NULL)")
        rows = await run("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        current = int(rows[0][0])
        if current > LATEST:
            raise SchemaTooNew(
                f"tilstandsdatabasen har skjemaversjon {current}, nyere enn denne versjonen av boten kjenner ({LATEST}): "
                "oppgrader boten (eller gjenopprett en sikkerhetskopi fra før oppgraderingen)"
            )
        for version, note, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                await run(statement)
            await run("INSERT INTO schema_version (version, applied, note) VALUES (?, ?, ?)", (version, time.time(), note))

    async def schema_version(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return int(rows[0][0])

    # --- answers ---------------------------------------------------------------------------------

    async def save_answer(self, token: str, a: AnswerRecord) -> None:
        await self._change(
            "INSERT INTO answers (token, created, user_hash, source, question, prefs, build, found, confidence, passages) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (token, a.created, a.user_hash, a.source, a.question[:4000], a.prefs.to_json(), a.build, int(a.found), a.confidence, json.dumps(list(a.passages))),
        )

    async def get_answer(self, token: str, max_age: float | None = None) -> AnswerRecord | None:
        rows = await self._fetch(
            "SELECT question, prefs, build, user_hash, source, found, confidence, passages, created FROM answers WHERE token = ? AND created >= ?",
            (token, time.time() - (self.answer_ttl if max_age is None else max_age)),
        )
        if not rows:
            return None
        q, prefs, build, user, source, found, confidence, passages, created = rows[0]
        return AnswerRecord(q, Prefs.from_json(prefs), build, user, source, bool(found), confidence, tuple(json.loads(passages)), float(created))

    # --- preferences -----------------------------------------------------------------------------

    async def get_prefs(self, user_hash: str) -> Prefs:
        rows = await self._fetch("SELECT prefs FROM prefs WHERE user_hash = ?", (user_hash,))
        return Prefs.from_json(rows[0][0]) if rows else Prefs()

    async def set_prefs(self, user_hash: str, prefs: Prefs) -> None:
        await self._change(
            "INSERT INTO prefs (user_hash, prefs, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (user_hash) DO UPDATE SET prefs = excluded.prefs, updated = excluded.updated",
            (user_hash, prefs.to_json(), time.time()),
        )

    # --- updates and rate limits -----------------------------------------------------------------

    async def claim_update(self, update_id: int) -> bool:
        n = await self._change("INSERT INTO updates (update_id, seen) VALUES (?, ?) ON CONFLICT (update_id) DO NOTHING", (int(update_id), time.time()))
        return n == 1

    async def count_request(self, user_hash: str, window: float = 60.0) -> int:
        bucket = int(time.time() // window)
        rows = await self._fetch(
            "INSERT INTO rate (user_hash, bucket, n) VALUES (?, ?, 1) ON CONFLICT (user_hash, bucket) DO UPDATE SET n = rate.n + 1 RETURNING n",
            (user_hash, bucket),
        )
        return int(rows[0][0])

    # --- the inbox ---------------------------------------------------------------------------------

    async def inbox_receive(self, update_id: int, payload: str, owner: str, lease: float) -> str:
        now = time.time()
        uid = int(update_id)
        if await self._change(
            "INSERT INTO inbox (update_id, payload, state, owner, lease_until, attempts, received) VALUES (?, ?, 'leased', ?, ?, 1, ?) "
            "ON CONFLICT (update_id) DO NOTHING",
            (uid, payload, owner, now + lease, now),
        ):
            return "new"
        if await self._fetch(
            "UPDATE inbox SET state = 'leased', owner = ?, lease_until = ?, attempts = attempts + 1 "
            "WHERE update_id = ? AND state <> 'done' AND lease_until < ? RETURNING update_id",
            (owner, now + lease, uid, now),
        ):
            return "taken"
        rows = await self._fetch("SELECT state FROM inbox WHERE update_id = ?", (uid,))
        return "done" if rows and rows[0][0] == "done" else "held"

    async def inbox_lease(self, owner: str, limit: int, lease: float, in_hand: list[int] | None = None) -> list[InboxItem]:
        now = time.time()
        orphans, params = "", ()
        if in_hand is not None:
            # also this owner's own leases it is not working on: a commit whose answer was
            # lost (a timeout while the database went away) left them behind
            keep = f" AND update_id NOT IN ({','.join('?' * len(in_hand))})" if in_hand else ""
            orphans = f" OR (owner = ? AND state = 'leased'{keep})"
            params = (owner, *map(int, in_hand))
        rows = await self._fetch(
            "UPDATE inbox SET state = 'leased', owner = ?, lease_until = ?, attempts = attempts + 1 "
            f"WHERE update_id IN (SELECT update_id FROM inbox WHERE state <> 'done' AND (lease_until < ?{orphans}) "
            f"ORDER BY update_id LIMIT ?{self._skip_locked}) "
            "RETURNING update_id, payload, attempts, received",
            (owner, now + lease, now, *params, int(limit)),
        )
        return sorted((InboxItem(int(u), p, int(a), float(r)) for u, p, a, r in rows), key=lambda i: i.update_id)

    async def inbox_renew(self, owner: str, update_ids: list[int], lease: float) -> int:
        if not update_ids:
            return 0
        marks = ",".join("?" * len(update_ids))
        return await self._change(
            f"UPDATE inbox SET lease_until = ? WHERE owner = ? AND state = 'leased' AND update_id IN ({marks})",
            (time.time() + lease, owner, *map(int, update_ids)),
        )

    async def inbox_done(self, update_id: int, owner: str) -> bool:
        # Done whoever holds it now: a replica that took over an expired lease must not
        # answer a third time. The payload (a Telegram user id, the text) is not kept.
        rows = await self._fetch(
            "UPDATE inbox SET state = 'done', done_at = ?, payload = '', lease_until = 0 WHERE update_id = ? AND state <> 'done' RETURNING owner",
            (time.time(), int(update_id)),
        )
        return bool(rows) and rows[0][0] == owner

    async def inbox_release(self, owner: str, update_ids: list[int], delay: float = 0.0) -> int:
        if not update_ids:
            return 0
        marks = ",".join("?" * len(update_ids))
        return await self._change(
            f"UPDATE inbox SET state = 'received', owner = NULL, lease_until = ? WHERE owner = ? AND state = 'leased' AND update_id IN ({marks})",
            (time.time() + delay, owner, *map(int, update_ids)),
        )

    async def inbox_counts(self) -> dict[str, int]:
        rows = await self._fetch("SELECT state, COUNT(*) FROM inbox GROUP BY state")
        return {"received": 0, "leased": 0, "done": 0, **{s: int(n) for s, n in rows}}

    # --- blobs and shared settings -------------------------------------------------------------

    async def put_blob(self, name: str, data: bytes) -> bool:
        n = await self._change(
            "INSERT INTO blobs (name, data, size, created) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (name, bytes(data), len(data), time.time()),
        )
        return n == 1

    async def get_blob(self, name: str) -> bytes | None:
        rows = await self._fetch("SELECT data FROM blobs WHERE name = ?", (name,))
        return bytes(rows[0][0]) if rows else None

    async def has_blob(self, name: str) -> bool:
        return bool(await self._fetch("SELECT 1 FROM blobs WHERE name = ?", (name,)))

    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._change("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    async def init_meta(self, key: str, value: str) -> str:
        await self._change("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))
        return (await self.get_meta(key)) or value

    async def delete_meta(self, key: str) -> None:
        await self._change("DELETE FROM meta WHERE key = ?", (key,))

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    # --- votes -----------------------------------------------------------------------------------

    async def vote(self, token: str, user_hash: str, up: bool) -> bool:
        # past the TTL a vote is refused like "Vis flere" is: the answer has expired
        if not await self._fetch("SELECT 1 FROM answers WHERE token = ? AND created >= ?", (token, time.time() - self.answer_ttl)):
            return False
        await self._change(
            "INSERT INTO votes (token, user_hash, ts, vote) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (token, user_hash) DO UPDATE SET ts = excluded.ts, vote = excluded.vote",
            (token, user_hash, time.time(), int(up)),
        )
        return True

    # --- the build every replica serves ----------------------------------------------------------

    async def set_build(self, name: str) -> None:
        await self.set_meta("build", name)

    async def get_build(self) -> str | None:
        return await self.get_meta("build")

    # --- maintenance -------------------------------------------------------------------------------

    async def prune(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        keep_from = now - self.retention
        n = await self._change("DELETE FROM votes WHERE token IN (SELECT token FROM answers WHERE created < ?)", (keep_from,))
        n += await self._change("DELETE FROM votes WHERE ts < ?", (keep_from,))
        n += await self._change("DELETE FROM answers WHERE created < ?", (keep_from,))
        n += await self._change("DELETE FROM updates WHERE seen < ?", (now - UPDATE_MEMORY,))
        n += await self._change("DELETE FROM inbox WHERE state = 'done' AND done_at < ?", (now - UPDATE_MEMORY,))
        n += await self._change("DELETE FROM rate WHERE bucket < ?", (int(now // 60) - 2,))
        n += await self._change("DELETE FROM prefs WHERE updated < ?", (keep_from,))
        return n

    async def summary(self, limit: int = 10) -> Summary:
        total, unanswered = (await self._fetch("SELECT COUNT(*), COALESCE(SUM(1 - found), 0) FROM answers"))[0]
        up, down = (await self._fetch("SELECT COALESCE(SUM(vote), 0), COALESCE(SUM(1 - vote), 0) FROM votes"))[0]
        rows = await self._fetch("SELECT a.passages, v.vote FROM votes v JOIN answers a ON a.token = v.token")
        nothing = await self._fetch(
            "SELECT MIN(question), COUNT(*) AS n, MAX(created) AS last FROM answers WHERE found = 0 "
            "GROUP BY lower(question) ORDER BY n DESC, last DESC LIMIT ?",
            (limit,),
        )
        per_passage: dict[str, list[int]] = {}
        for passages, vote in rows:
            for pid in json.loads(passages)[:1]:  # a vote is about the top passage shown
                per_passage.setdefault(pid, [0, 0])[0 if vote else 1] += 1
        worst = sorted(((pid, d, u) for pid, (u, d) in per_passage.items() if d), key=lambda r: (-r[1], r[2]))[:limit]
        return Summary(int(total), int(unanswered), int(up), int(down), worst, [(q, int(n)) for q, n, _ in nothing])
