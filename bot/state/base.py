"""The state store's interface and the records it keeps."""
from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field

from retrieval.models import Filters


class StoreError(Exception):
    """The state database cannot be reached or used. ``retryable``: waiting may help (the
    server is unreachable), as opposed to a missing driver or a refused schema."""

    retryable = True


class SchemaTooNew(StoreError):
    """The database was migrated by a newer version of the bot."""

    retryable = False


@dataclass(frozen=True)
class InboxItem:
    """An update taken from the inbox: its id, the raw update as Telegram sent it, and
    how many times a replica has taken it (1 the first time)."""

    update_id: int
    payload: str
    attempts: int
    received: float


@dataclass(frozen=True)
class Prefs:
    """What a user chose to search: one document, and/or commitments only."""

    doc_id: str | None = None
    commitments_only: bool = False

    def filters(self) -> Filters:
        return Filters(doc_ids=frozenset({self.doc_id}) if self.doc_id else frozenset(), commitments_only=self.commitments_only)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | None) -> "Prefs":
        if not raw:
            return cls()
        try:
            d = json.loads(raw)
            return cls(doc_id=d.get("doc_id") or None, commitments_only=bool(d.get("commitments_only")))
        except (ValueError, AttributeError):
            return cls()


@dataclass(frozen=True)
class AnswerRecord:
    """An answer as the store keeps it: enough to re-run the search for "Vis flere" and
    "Sammenheng" on any replica, not the hits themselves."""

    question: str
    prefs: Prefs
    build: str  # the index build that answered
    user_hash: str = ""
    source: str = "chat"
    found: bool = True
    confidence: str | None = None
    passages: tuple[str, ...] = ()  # chunk ids shown on the first page
    created: float = field(default_factory=time.time)


@dataclass
class Summary:
    questions: int = 0
    unanswered: int = 0
    up: int = 0
    down: int = 0
    most_downvoted: list[tuple[str, int, int]] = field(default_factory=list)  # (chunk id, down, up)
    nothing_found: list[tuple[str, int]] = field(default_factory=list)  # (question, times)


class StateStore(ABC):
    """Async, safe to share between concurrent handlers (and, for PostgreSQL, replicas)."""

    remote = False  # a server that can be down for a while (PostgreSQL), not a local file

    def __init__(self, *, answer_ttl: float, retention: float) -> None:
        self.answer_ttl = answer_ttl  # seconds a button on an answer keeps working
        self.retention = retention  # seconds questions and votes are kept

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply migrations."""

    @abstractmethod
    async def close(self) -> None: ...

    # answers (and the question log)
    @abstractmethod
    async def save_answer(self, token: str, answer: AnswerRecord) -> None: ...

    @abstractmethod
    async def get_answer(self, token: str, max_age: float | None = None) -> AnswerRecord | None:
        """The answer, or None when unknown or older than ``max_age`` seconds (default: the
        TTL of its buttons; a permalink asks for up to the retention)."""

    # preferences
    @abstractmethod
    async def get_prefs(self, user_hash: str) -> Prefs: ...

    @abstractmethod
    async def set_prefs(self, user_hash: str, prefs: Prefs) -> None: ...

    # updates and rate limits
    @abstractmethod
    async def claim_update(self, update_id: int) -> bool:
        """True the first time an update id is claimed, by any replica; False after."""

    @abstractmethod
    async def count_request(self, user_hash: str, window: float = 60.0) -> int:
        """Count one request in the user's current window; returns the count so far."""

    # the inbox: every update, durable before it is acknowledged
    @abstractmethod
    async def inbox_receive(self, update_id: int, payload: str, owner: str, lease: float) -> str:
        """Record a delivered update. Returns "new" (stored, leased to ``owner``), "taken"
        (known, not done, nobody held it: now leased to ``owner``), "held" (another
        replica holds a live lease on it) or "done" (answered already: drop it)."""

    @abstractmethod
    async def inbox_lease(self, owner: str, limit: int, lease: float, in_hand: list[int] | None = None) -> list[InboxItem]:
        """Take up to ``limit`` updates that nobody holds (released, or whose lease
        expired), oldest first; replicas never take the same one. With ``in_hand``, also
        ``owner``'s own leased updates that are not in that list."""

    @abstractmethod
    async def inbox_renew(self, owner: str, update_ids: list[int], lease: float) -> int: ...

    @abstractmethod
    async def inbox_done(self, update_id: int, owner: str) -> bool:
        """Mark an update answered; False if ``owner`` had lost its lease meanwhile."""

    @abstractmethod
    async def inbox_release(self, owner: str, update_ids: list[int], delay: float = 0.0) -> int:
        """Give updates back, to be taken again after ``delay`` seconds."""

    @abstractmethod
    async def inbox_counts(self) -> dict[str, int]:
        """Updates by state: received, leased, done."""

    # shared blobs (corpus archives, index builds) and settings every replica must agree on
    @abstractmethod
    async def put_blob(self, name: str, data: bytes) -> bool:
        """Store ``data`` under a content name; False when it was there already."""

    @abstractmethod
    async def get_blob(self, name: str) -> bytes | None: ...

    @abstractmethod
    async def has_blob(self, name: str) -> bool: ...

    @abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    async def set_meta(self, key: str, value: str) -> None: ...

    @abstractmethod
    async def init_meta(self, key: str, value: str) -> str:
        """Set ``key`` unless it is set; returns the value now stored (first writer wins)."""

    @abstractmethod
    async def delete_meta(self, key: str) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreError unless the database answers."""

    # votes
    @abstractmethod
    async def vote(self, token: str, user_hash: str, up: bool) -> bool:
        """One vote per user and answer (a new one replaces the old); False for an
        unknown answer or one older than the TTL."""

    # the index every replica should serve
    @abstractmethod
    async def set_build(self, name: str) -> None: ...

    @abstractmethod
    async def get_build(self) -> str | None: ...

    # maintenance and reports
    @abstractmethod
    async def prune(self, now: float | None = None) -> int:
        """Delete what the TTL and retention say is old; returns rows deleted."""

    @abstractmethod
    async def summary(self, limit: int = 10) -> Summary: ...

    @abstractmethod
    async def schema_version(self) -> int: ...
