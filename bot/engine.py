"""The conversation engine: a question, a button or a command in; a view model out
(:mod:`bot.views`). No Telegram and no markup here: the Telegram bot and the terminal chat
both drive it, and render its views with their own renderer.

State lives in the store (:mod:`bot.state`), never in this object: an answer is kept as
its question and the user's preferences, and "Vis flere" or "Sammenheng" re-run the
search from them (about 35 ms), so a button works after a restart and on any replica.
Searches run in worker threads; the event loop never waits for the model.

Answering never depends on a bookkeeping write: when the store cannot count a request,
save an answer or read a preference (a full disk, a lock another process holds), the
engine logs one line (at most one a minute per kind of write) and answers anyway; the
user hears about it only where their own action is lost (a filter or a vote not saved).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from retrieval.models import DocInfo, Hit, SearchResult
from retrieval.search import Retriever

from . import buttons as b
from . import intents
from .privacy import user_hash
from .state import AnswerRecord, Prefs, StateStore, StoreError
from . import commands
from . import wording as w
from .views import AnswerPage, Button, Citation, ContextView, DocumentList, InlineItem, Message, NotCovered, Passage, TopicSummary, View
from .volunteers import VolunteerTools, nearest_topics
from .volunteers import digest as _digest
from .volunteers import short as _short

log = logging.getLogger("policybot.engine")

PAGES = 5  # how many pages of results "Vis flere" reaches
ADMIT, TELL, SILENT = "admit", "tell", "silent"  # Engine.admit()
STORE_LOG_EVERY = 60.0  # seconds between log lines about the same failing bookkeeping write
NOT_SAVED = "Jeg fikk ikke lagret dette akkurat nå. Prøv igjen om litt."


class Engine(VolunteerTools):
    def __init__(
        self,
        retriever: Retriever,
        store: StateStore,
        salt: bytes,
        per_page: int = 3,
        rate_limit_per_minute: int = 20,
        search_threads: int = 32,
    ) -> None:
        self._retriever = retriever
        self.store = store
        self._salt = salt
        self.per_page = per_page
        self.rate_limit_per_minute = rate_limit_per_minute
        # Searches wait on the model most of the time, and the questions waiting together
        # share one model call (index.embed.BatchingEmbedder): a pool of their own, wider
        # than asyncio's default (cores + 4), lets a burst fill the batches.
        self._searches = ThreadPoolExecutor(max_workers=search_threads, thread_name_prefix="search")
        self._store_logged: dict[str, float] = {}

    async def _bookkeep(self, what: str, call, default=None):
        """Await a store call; on StoreError log one line (at most one a minute for each
        ``what``) and return ``default``: an answer never waits on its bookkeeping."""
        try:
            return await call
        except StoreError as e:
            now = time.monotonic()
            if now - self._store_logged.get(what, -STORE_LOG_EVERY) >= STORE_LOG_EVERY:
                self._store_logged[what] = now
                log.warning("state store: %s failed, answering without it: %s", what, e)
            return default

    def close(self) -> None:
        self._searches.shutdown(wait=False, cancel_futures=True)

    async def _in_pool(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._searches, fn, *args)

    # --- the index, swappable without a restart ------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    def swap_retriever(self, new: Retriever) -> None:
        """Searches already running keep the retriever they started with."""
        self._retriever = new

    @property
    def max_question_chars(self) -> int:
        return self._retriever.config.max_query_chars

    # --- users -----------------------------------------------------------------------------------

    def user(self, raw_id: int | str) -> str:
        """The pseudonymous id everything is stored under."""
        return user_hash(self._salt, raw_id)

    async def prefs(self, user: str) -> Prefs:
        prefs = await self._bookkeep("reading preferences", self.store.get_prefs(user), Prefs())
        if prefs.doc_id and prefs.doc_id not in self._retriever.docs:
            prefs = replace(prefs, doc_id=None)
        return prefs

    async def allow(self, user: str) -> bool:
        """The per-user rate limit, counted in the store (shared by replicas)."""
        return await self.admit(user) == ADMIT

    async def admit(self, user: str) -> str:
        """Count one update that causes a search (a question, /sjekk, /sammenlign, an
        inline query, "Vis flere") against the user's per-minute limit. ``ADMIT``: go on;
        ``TELL``: the first update over the limit in this window, answer it with
        :meth:`rate_limited`; ``SILENT``: over the limit and already told, send nothing
        (a refusal costs the same share of the bot's ~30 messages/s as an answer)."""
        n = await self._bookkeep("counting a request", self.store.count_request(user), 0)
        if n <= self.rate_limit_per_minute:
            return ADMIT
        return TELL if n == self.rate_limit_per_minute + 1 else SILENT

    # --- documents and filters -------------------------------------------------------------------

    def documents(self) -> list[DocInfo]:
        return sorted(self._retriever.docs.values(), key=lambda d: d.title)

    @staticmethod
    def doc_digest(doc_id: str) -> str:
        return hashlib.sha1(doc_id.encode()).hexdigest()[:10]

    def scope(self, prefs: Prefs) -> str:
        parts = []
        if prefs.doc_id and prefs.doc_id in self._retriever.docs:
            parts.append(w.only_document(_short(self._retriever.docs[prefs.doc_id].title, 80)))
        if prefs.commitments_only:
            parts.append(w.ONLY_COMMITMENTS)
        return ", ".join(parts)

    def documents_view(self) -> DocumentList:
        return DocumentList(docs=self.documents())

    def filter_menu(self, prefs: Prefs) -> Message:
        rows = [
            [Button(("✅ " if prefs.doc_id == d.id else "") + _short(d.title, 40), b.FilterDoc(self.doc_digest(d.id)))]
            for d in self.documents()
        ]
        rows.append([Button(("✅ " if not prefs.doc_id else "") + w.ALL_DOCUMENTS_BUTTON, b.FilterAll())])
        rows.append([Button(("✅ " if prefs.commitments_only else "☐ ") + w.ONLY_COMMITMENTS_BUTTON, b.FilterCommitments())])
        return Message(text=w.where_to_search(self.scope(prefs)), buttons=rows)

    async def apply_filter(self, data: b.CallbackData, user: str) -> View:
        prefs = await self.prefs(user)
        if isinstance(data, b.FilterAll):
            new = replace(prefs, doc_id=None)
        elif isinstance(data, b.FilterCommitments):
            new = replace(prefs, commitments_only=not prefs.commitments_only)
        elif isinstance(data, b.FilterDoc):
            doc = next((d for d in self._retriever.docs.values() if self.doc_digest(d.id) == data.doc), None)
            if doc is None:
                return self.expired()
            new = replace(prefs, doc_id=doc.id)
        else:
            return self.expired()
        if await self._bookkeep("saving preferences", self.store.set_prefs(user, new), False) is False:
            return Message(text=NOT_SAVED, notice=NOT_SAVED)
        view = self.filter_menu(new)
        view.notice = _short(w.SEARCHING_NOW + (self.scope(new) or w.ALL_DOCUMENTS), 200)  # Telegram's toast limit
        return view

    async def set_document(self, user: str, doc_id: str) -> Message:
        if doc_id not in self._retriever.docs:
            return Message(text=w.UNKNOWN_DOCUMENT)
        prefs = await self.prefs(user)
        if await self._bookkeep("saving preferences", self.store.set_prefs(user, replace(prefs, doc_id=doc_id)), False) is False:
            return Message(text=NOT_SAVED)
        return Message(text=w.searching_only(self._retriever.docs[doc_id].title))

    async def set_commitments(self, user: str, on: bool | None = None) -> Message:
        prefs = await self.prefs(user)
        new = replace(prefs, commitments_only=(not prefs.commitments_only) if on is None else on)
        if await self._bookkeep("saving preferences", self.store.set_prefs(user, new), False) is False:
            return Message(text=NOT_SAVED)
        if new.commitments_only:
            return Message(text=w.COMMITMENTS_ON)
        return Message(text=w.COMMITMENTS_OFF)

    async def reset(self, user: str) -> Message:
        if await self._bookkeep("saving preferences", self.store.set_prefs(user, Prefs()), False) is False:
            return Message(text=NOT_SAVED)
        return Message(text=w.RESET)

    # --- fixed replies ---------------------------------------------------------------------------

    def welcome(self, telegram: bool = True) -> Message:
        text = w.WELCOME.format(examples="\n".join(f"• {e}" for e in w.EXAMPLES))
        return Message(text=text + (w.WELCOME_TELEGRAM if telegram else ""))

    @staticmethod
    def help(bot_name: str = "boten", channel: str = commands.TELEGRAM) -> Message:
        """/hjelp: how to ask, then the channel's commands from the one command table."""
        extra = w.HELP_TELEGRAM if channel == commands.TELEGRAM else ()
        lines = [*w.HELP_INTRO, *commands.help_lines(channel), *extra]
        return Message(title=w.HELP_TITLE, lines=[line.format(bot=bot_name) for line in lines])

    def unknown_command(self, command: str) -> Message:
        return Message(text=w.unknown_command(command))

    def not_text(self) -> Message:
        return Message(text=w.NOT_TEXT)

    def rate_limited(self) -> Message:
        return Message(text=w.RATE_LIMITED)

    def expired(self, text: str = w.EXPIRED) -> Message:
        return Message(text=text, notice=text, expired=True)

    # --- answering -------------------------------------------------------------------------------

    async def _search(self, question: str, prefs: Prefs, k: int) -> SearchResult:
        r = self._retriever
        return await self._in_pool(r.search, question, k, prefs.filters())

    def small_talk(self, kind: str) -> Message:
        """A greeting, thanks, "hjelp" or a lone emoji: a short friendly reply with example
        questions; nothing is searched or stored."""
        return Message(text=w.SMALL_TALK[kind], lines=list(w.EXAMPLES))

    async def ask(self, question: str, user: str = "", source: str = "chat") -> View:
        """A free-text message: small talk and commands typed without their slash are
        routed first (:mod:`bot.intents`, the same for every channel), anything else is
        searched."""
        q = " ".join(question.split())
        if not q:
            return Message(text=w.EMPTY_QUESTION)
        intent = intents.classify(q)
        if intent.kind == intents.CHECK:
            return await self.check(intent.arg, user, source)
        if intent.kind == intents.COMPARE:
            return await self.compare(intent.arg, user, source)
        if intent.kind == intents.TOPICS:
            return self.topics()
        if intent.kind in w.SMALL_TALK:
            return self.small_talk(intent.kind)
        note = ""
        if len(q) > self.max_question_chars:
            note = w.long_question(len(q), self.max_question_chars)
            q = q[: self.max_question_chars]
        prefs = await self.prefs(user)
        result = await self._search(q, prefs, self.per_page * PAGES)
        token = secrets.token_urlsafe(6)
        hits = [] if result.abstained else result.hits
        topic = result.topic if hits and not prefs.commitments_only else None
        shown_ids = tuple(c.id for c in topic.shown[: self.per_page]) if topic is not None else tuple(h.chunk.id for h in hits[: self.per_page])
        await self._bookkeep(
            "saving an answer",
            self.store.save_answer(
                token,
                AnswerRecord(q, prefs, self._retriever.build, user, source, bool(hits), result.confidence, shown_ids),
            ),
        )
        if not hits:
            view = self._not_covered(q, prefs, result.near_misses, note)
        elif result.topic is not None and not prefs.commitments_only:
            view = self._topic_page(token, q, prefs, result, note)
        else:
            view = self._page(token, q, prefs, hits, 0, result.confidence or "high", note)
            if result.scope_note is not None:
                view.scope_line = w.scope_line(result.scope_note.kind, result.scope_note.doc_title, result.scope_note.term)
        view.reason = result.reason or ""
        view.missing = result.missing
        return view

    def _topic_page(self, token: str, question: str, prefs: Prefs, result: SearchResult, note: str) -> AnswerPage:
        """A broad question: the section that covers it, its opening, its promises (the
        most relevant first), a button to all of them, the other sections named."""
        r = self._retriever
        t = result.topic
        shown = t.shown[: self.per_page] or ([t.opening_chunk] if t.opening_chunk is not None else [])
        passages = [Passage.of(n, r.hit_at(r.index_of(c.id))) for n, c in enumerate(shown, 1)]
        doc_digest = self.doc_digest(t.section.doc.id)
        rows: list[list[Button]] = [[Button(w.context_button(p.number), b.Context(_digest(p.chunk.id))) for p in passages]]
        more = [Button(w.all_promises_button(len(t.promises)), b.TopicPromises(doc_digest, t.section.node, 0))] if len(t.promises) > len(passages) else []
        rows.append(more + ([Button(w.MORE, b.More(token, 1))] if len(result.hits) > len(passages) else []))
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False)), Button(w.SHARE, share=question[:200])])
        rows.append([Button(w.SAME_TOPIC, b.Topic(doc_digest, t.section.node, 0)), Button(w.CHECK_A_PROMISE, b.CheckPrompt())])
        related = tuple(f"{' › '.join(s.path[-2:])} ({s.doc.title})" for s in t.related)
        summary = TopicSummary(t.section.doc.title, t.section.path, t.opening, len(t.promises), related)
        return AnswerPage(
            buttons=rows, question=question, passages=passages, confidence="high", scope=self.scope(prefs), note=note, token=token, page=0, topic=summary
        )

    def _page(self, token: str, question: str, prefs: Prefs, hits: list[Hit], page: int, confidence: str, note: str = "") -> AnswerPage:
        start = page * self.per_page
        shown = hits[start : start + self.per_page]
        rows: list[list[Button]] = [[Button(w.context_button(start + n), b.Context(_digest(h.chunk.id))) for n, h in enumerate(shown, 1)]]
        nav = []
        if page > 0:
            nav.append(Button(w.PREVIOUS, b.More(token, page - 1)))
        if start + len(shown) < len(hits):
            nav.append(Button(w.MORE, b.More(token, page + 1)))
        if nav:
            rows.append(nav)
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False)), Button(w.SHARE, share=question[:200])])
        topic = self._topic_button(shown[0].chunk if shown else None)
        if topic is not None:
            rows.append([topic, Button(w.CHECK_A_PROMISE, b.CheckPrompt())])
        return AnswerPage(
            buttons=rows,
            question=question,
            passages=[Passage.of(start + n, h) for n, h in enumerate(shown, 1)],
            confidence=confidence,
            scope=self.scope(prefs),
            note=note,
            token=token,
            page=page,
        )

    def _not_covered(self, q: str, prefs: Prefs, near: list[Hit], note: str) -> NotCovered:
        return NotCovered(question=q, topics=nearest_topics(near), scope=self.scope(prefs), note=note)

    async def page(self, token: str, page: int) -> View:
        answer = await self._bookkeep("reading an answer", self.store.get_answer(token))
        if answer is None or page < 0 or page >= PAGES:
            return self.expired()
        result = await self._search(answer.question, answer.prefs, self.per_page * PAGES)
        hits = [] if result.abstained else result.hits
        if page * self.per_page >= len(hits):
            return self.expired(w.NO_MORE)
        return self._page(token, answer.question, answer.prefs, hits, page, answer.confidence or "high")

    async def shared(self, token: str) -> AnswerPage | NotCovered | None:
        """A permalink's answer: the question and the passages it showed first, as long as
        the store keeps the answer (the retention, not the buttons' TTL), on any replica
        and after a restart. Passages are looked up by id; if the index no longer has
        them all (a changed document), the search is run again. No buttons: the page is
        for reading and sharing."""
        answer = await self.store.get_answer(token, max_age=self.store.retention)
        if answer is None:
            return None
        r = self._retriever
        found = [f for cid in answer.passages if (f := r.chunk_by_id(cid)) is not None]
        hits = [r.hit_at(i) for i, _ in found] if len(found) == len(answer.passages) else []
        if not hits and answer.found:
            result = await self._search(answer.question, answer.prefs, self.per_page)
            hits = [] if result.abstained else result.hits[: self.per_page]
        if not hits:
            return NotCovered(question=answer.question, topics=[], scope=self.scope(answer.prefs))
        passages = [Passage.of(n, h) for n, h in enumerate(hits, 1)]
        return AnswerPage(question=answer.question, passages=passages, confidence=answer.confidence or "high", scope=self.scope(answer.prefs), token=token)

    async def context(self, digest: str) -> View:
        r = self._retriever
        chunk_id = r.chunk_id_by_digest(digest)
        if chunk_id is None:
            return self.expired()
        around = r.neighbours(chunk_id, before=1, after=1)
        target = next(c for c in around if c.id == chunk_id)
        return ContextView(target=chunk_id, chunks=around, citation=Citation.of(r.docs[target.doc_id], target))

    async def vote(self, token: str, up: bool, user: str) -> View:
        saved = await self._bookkeep("saving a vote", self.store.vote(token, user, up))
        if saved is None:
            return Message(text=NOT_SAVED, notice=NOT_SAVED)
        if not saved:
            return self.expired()
        text = w.THANKS
        return Message(text=text, notice=text)

    async def inline(self, query: str, limit: int = 5) -> list[InlineItem]:
        q = " ".join(query.split())[: self.max_question_chars]
        if len(q) < 3:
            return []
        result = await self._in_pool(self._retriever.search, q, limit)
        items = []
        for n, h in enumerate([] if result.abstained else result.hits, 1):
            title = h.doc.title + (" · " + h.chunk.section[-1] if h.chunk.section else "")
            items.append(InlineItem(id=_digest(h.chunk.id), title=_short(title, 60), description=_short(h.chunk.display, 120), passage=Passage.of(n, h)))
        return items

    async def press(self, button: b.CallbackData | None, user: str) -> View:
        """Answer a button press, routed by its typed data. The channel parses the data once
        (:func:`bot.buttons.unpack`); None (data we did not make, or from an older version)
        gets the polite "ask again"."""
        match button:
            case b.More(token=token, page=page):
                return await self.page(token, page)
            case b.Context(chunk=chunk):
                return await self.context(chunk)
            case b.Vote(token=token, up=up):
                return await self.vote(token, up, user)
            case b.FilterDoc() | b.FilterAll() | b.FilterCommitments():
                return await self.apply_filter(button, user)
            case b.Topic(doc=doc, node=node, page=page):
                return self.topics(doc, node, page)
            case b.TopicPromises(doc=doc, node=node, page=page):
                return self.topics(doc, node, page, commitments_only=True, subtree=True)
            case b.CheckPrompt():
                return Message(text=w.CHECK_USAGE)
        return self.expired()

    async def press_data(self, data: str | None, user: str) -> View:
        """A press given as its packed string (what a channel receives): parsed once, then
        routed by :meth:`press`."""
        return await self.press(b.unpack(data), user)


def result_view(result: SearchResult) -> View:
    """A search result as a view without buttons or state (the CLI's `search`)."""
    reason = result.reason or ""
    if result.abstained or not result.hits:
        return NotCovered(question=result.query, topics=nearest_topics(result.near_misses), reason=reason, missing=result.missing, tip=w.NOT_COVERED_TIP_CLI)
    return AnswerPage(
        question=result.query,
        passages=[Passage.of(n, h) for n, h in enumerate(result.hits, 1)],
        confidence=result.confidence or "high",
        reason=reason,
        missing=result.missing,
    )
