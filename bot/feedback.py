"""Usage and feedback in SQLite under the data directory.

Stored per question: time, a salted hash of the user id (never the raw id), the question,
the passage ids shown, whether anything was found; per vote: the answer it belongs to and
up (1) or down (0). ``summary_text`` is what ``policybot feedback`` prints.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    token TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    user_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    question TEXT NOT NULL,
    passages TEXT NOT NULL,
    found INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    token TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    ts REAL NOT NULL,
    vote INTEGER NOT NULL,
    PRIMARY KEY (token, user_hash)
);
"""


class FeedbackStore:
    def __init__(self, path: Path, salt: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._salt = salt.encode()
        self._lock = threading.Lock()

    def user_hash(self, user_id: int | str) -> str:
        return hashlib.sha256(self._salt + b":" + str(user_id).encode()).hexdigest()[:24]

    def log_question(self, token: str, user_hash: str, source: str, question: str, passages: list[str], found: bool) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token, time.time(), user_hash, source, question[:2000], json.dumps(passages), int(found)),
            )

    def vote(self, token: str, user_hash: str, up: bool) -> bool:
        """Record a vote (one per user and answer; a new vote replaces the old one).
        Returns False when the answer is unknown."""
        with self._lock:
            known = self._db.execute("SELECT 1 FROM questions WHERE token = ?", (token,)).fetchone()
            if not known:
                return False
            self._db.execute("INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?)", (token, user_hash, time.time(), int(up)))
            return True

    def votes(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return self._db.execute("SELECT token, user_hash, vote FROM votes ORDER BY ts").fetchall()

    def summary(self, limit: int = 10) -> dict:
        with self._lock:
            total, unanswered = self._db.execute("SELECT COUNT(*), COALESCE(SUM(1 - found), 0) FROM questions").fetchone()
            up, down = self._db.execute("SELECT COALESCE(SUM(vote), 0), COALESCE(SUM(1 - vote), 0) FROM votes").fetchone()
            rows = self._db.execute(
                "SELECT q.passages, v.vote FROM votes v JOIN questions q ON q.token = v.token"
            ).fetchall()
            nothing = self._db.execute(
                "SELECT question, COUNT(*) AS n FROM questions WHERE found = 0 GROUP BY lower(question) ORDER BY n DESC, MAX(ts) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        per_passage: dict[str, list[int]] = {}
        for passages, vote in rows:
            for pid in json.loads(passages)[:1]:  # a vote is about the top passage shown
                per_passage.setdefault(pid, [0, 0])[0 if vote else 1] += 1
        worst = sorted(((pid, d, u) for pid, (u, d) in per_passage.items() if d), key=lambda r: (-r[1], r[2]))[:limit]
        return {"questions": total, "unanswered": unanswered, "up": up, "down": down, "most_downvoted": worst, "nothing_found": nothing}

    def summary_text(self, limit: int = 10) -> str:
        s = self.summary(limit)
        lines = [
            f"Spørsmål: {s['questions']} (uten treff: {s['unanswered']})",
            f"Stemmer: {s['up']} 👍, {s['down']} 👎",
        ]
        if s["most_downvoted"]:
            lines.append("\nMest nedstemte passasjer (øverste treff):")
            lines += [f"  {pid}: {down} 👎, {up} 👍" for pid, down, up in s["most_downvoted"]]
        if s["nothing_found"]:
            lines.append("\nSpørsmål uten treff:")
            lines += [f"  {n} × {q}" for q, n in s["nothing_found"]]
        return "\n".join(lines)

    def close(self) -> None:
        self._db.close()
