"""The conversation engine: a question, a button or a command in; a view model out
(:mod:`bot.views`). No Telegram and no markup here: the Telegram bot and the terminal chat
both drive it, and render its views with their own renderer.

State lives in the store (:mod:`bot.state`), never in this object: an answer is kept as
its question and the user's preferences, and "Vis flere" or "Sammenheng" re-run the
search from them (about 35 ms), so a button works after a restart and on any replica.
Searches run in worker threads; the event loop never waits for the model.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from retrieval.models import DocInfo, Hit, SearchResult
from retrieval.search import Retriever

from . import buttons as b
from .privacy import user_hash
from .state import AnswerRecord, Prefs, StateStore
from .views import (
    AnswerPage,
    Button,
    CheckView,
    Citation,
    CompareView,
    ContextView,
    DocumentList,
    InlineItem,
    Message,
    NotCovered,
    Passage,
    SectionView,
    View,
)
from .wording import CHECK_USAGE, COMPARE_USAGE, EXPIRED, NO_MORE

PAGES = 5  # how many pages of results "Vis flere" reaches
SECTION_PAGE = 5  # passages per page when browsing a section
COMPARE_MARGIN = 0.035  # /sammenlign: how far below the best document's passage another may score

EXAMPLES = (
    "Vil Ap fjerne kontantstøtten?",
    "Hva vil dere gjøre med boligprisene?",
    "Hvor mange nye politistillinger kommer?",
    "Kva meiner Ap om skatt?",
)

WELCOME = (
    "Hei! Jeg svarer på spørsmål om politiske dokumenter ved å vise deg avsnittene som "
    "svarer, ordrett og med kilde. Jeg finner ikke på noe selv.\n\n"
    "Skriv et spørsmål med egne ord (bokmål, nynorsk eller engelsk), for eksempel:\n{examples}"
)
WELCOME_TELEGRAM = (
    "\n\n/dokumenter viser hva jeg kan svare fra, /filter lar deg velge ett dokument, "
    "/lofter viser bare løfter («… vil:»), /hjelp forklarer resten."
)
HELP_LINES = (
    "Skriv et spørsmål med egne ord. Jeg viser de avsnittene i dokumentene som passer best, med dokument, kapittel og utgiver.",
    "Vis flere gir neste treff, Sammenheng viser teksten rundt et avsnitt, 👍/👎 forteller oss om svaret var nyttig.",
    "Finner jeg bare noe i nærheten, sier jeg det. Finner jeg ingenting, sier jeg det også.",
    "/filter: søk bare i ett dokument. /lofter: bare løfter («Arbeiderpartiet vil: …»). /nullstill: søk i alt igjen.",
    "/dokumenter: dokumentene jeg kjenner.",
    "/sjekk <påstand>: finn løftet en påstand gjelder, ordrett. Eksempel: /sjekk Ap vil legge ned kontantstøtten",
    "/sammenlign <tema>: hva hvert dokument sier om et tema. Eksempel: /sammenlign politikontakt",
    "/tema: bla i dokumentenes kapitler og se løftene der.",
    "I grupper svarer jeg når du nevner meg (@{bot}) eller svarer på en melding fra meg.",
    "Del et avsnitt i en annen chat: skriv @{bot} og spørsmålet ditt i meldingsfeltet, eller @{bot} sjekk og en påstand.",
)


class Engine:
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
        prefs = await self.store.get_prefs(user)
        if prefs.doc_id and prefs.doc_id not in self._retriever.docs:
            prefs = replace(prefs, doc_id=None)
        return prefs

    async def allow(self, user: str) -> bool:
        """The per-user rate limit, counted in the store (shared by replicas)."""
        return await self.store.count_request(user) <= self.rate_limit_per_minute

    # --- documents and filters -------------------------------------------------------------------

    def documents(self) -> list[DocInfo]:
        return sorted(self._retriever.docs.values(), key=lambda d: d.title)

    @staticmethod
    def doc_digest(doc_id: str) -> str:
        return hashlib.sha1(doc_id.encode()).hexdigest()[:10]

    def scope(self, prefs: Prefs) -> str:
        parts = []
        if prefs.doc_id and prefs.doc_id in self._retriever.docs:
            parts.append(f"bare «{self._retriever.docs[prefs.doc_id].title}»")
        if prefs.commitments_only:
            parts.append("bare løfter")
        return ", ".join(parts)

    def documents_view(self) -> DocumentList:
        return DocumentList(docs=self.documents())

    def filter_menu(self, prefs: Prefs) -> Message:
        rows = [
            [Button(("✅ " if prefs.doc_id == d.id else "") + _short(d.title, 40), b.FilterDoc(self.doc_digest(d.id)))]
            for d in self.documents()
        ]
        rows.append([Button(("✅ " if not prefs.doc_id else "") + "Alle dokumenter", b.FilterAll())])
        rows.append([Button(("✅ " if prefs.commitments_only else "☐ ") + "Bare løfter («… vil:»)", b.FilterCommitments())])
        return Message(text=f"Hvor skal jeg søke? Nå: {self.scope(prefs) or 'alle dokumenter'}.", buttons=rows)

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
        await self.store.set_prefs(user, new)
        view = self.filter_menu(new)
        view.notice = "Søker nå i " + (self.scope(new) or "alle dokumenter")
        return view

    async def set_document(self, user: str, doc_id: str) -> Message:
        if doc_id not in self._retriever.docs:
            return Message(text="Ukjent dokument. Bruk en id fra /dokumenter.")
        prefs = await self.prefs(user)
        await self.store.set_prefs(user, replace(prefs, doc_id=doc_id))
        return Message(text=f"Søker nå bare i «{self._retriever.docs[doc_id].title}».")

    async def set_commitments(self, user: str, on: bool | None = None) -> Message:
        prefs = await self.prefs(user)
        new = replace(prefs, commitments_only=(not prefs.commitments_only) if on is None else on)
        await self.store.set_prefs(user, new)
        if new.commitments_only:
            return Message(text="Viser nå bare løfter («… vil:»-punkter). Skriv /lofter igjen for å se alt.")
        return Message(text="Viser nå alle typer avsnitt, ikke bare løfter.")

    async def reset(self, user: str) -> Message:
        await self.store.set_prefs(user, Prefs())
        return Message(text="Søker nå i alle dokumenter, alle typer avsnitt.")

    # --- fixed replies ---------------------------------------------------------------------------

    def welcome(self, telegram: bool = True) -> Message:
        text = WELCOME.format(examples="\n".join(f"• {e}" for e in EXAMPLES))
        return Message(text=text + (WELCOME_TELEGRAM if telegram else ""))

    def help(self, bot_name: str = "boten") -> Message:
        return Message(title="Slik bruker du meg", lines=[line.format(bot=bot_name) for line in HELP_LINES])

    def unknown_command(self, command: str) -> Message:
        return Message(text=f"Kommandoen {command[:40]} kjenner jeg ikke. Skriv /hjelp for å se hva jeg kan, eller still et spørsmål.")

    def not_text(self) -> Message:
        return Message(text="Jeg forstår bare tekst. Skriv spørsmålet ditt med ord, så leter jeg i dokumentene.")

    def rate_limited(self) -> Message:
        return Message(text="Du sender spørsmål veldig raskt. Vent et øyeblikk og prøv igjen.")

    def expired(self, text: str = EXPIRED) -> Message:
        return Message(text=text, notice=text, expired=True)

    # --- answering -------------------------------------------------------------------------------

    async def _search(self, question: str, prefs: Prefs, k: int) -> SearchResult:
        r = self._retriever
        return await self._in_pool(r.search, question, k, prefs.filters())

    async def ask(self, question: str, user: str = "", source: str = "chat") -> View:
        q = " ".join(question.split())
        if not q:
            return Message(text="Skriv et spørsmål, for eksempel: «" + EXAMPLES[0] + "»")
        note = ""
        if len(q) > self.max_question_chars:
            note = f"Spørsmålet var langt ({len(q)} tegn), så jeg søkte på de første {self.max_question_chars}."
            q = q[: self.max_question_chars]
        prefs = await self.prefs(user)
        result = await self._search(q, prefs, self.per_page * PAGES)
        token = secrets.token_urlsafe(6)
        hits = [] if result.abstained else result.hits
        shown = hits[: self.per_page]
        await self.store.save_answer(
            token,
            AnswerRecord(q, prefs, self._retriever.build, user, source, bool(hits), result.confidence, tuple(h.chunk.id for h in shown)),
        )
        if not hits:
            view = self._not_covered(q, prefs, result.near_misses, note)
        else:
            view = self._page(token, q, prefs, hits, 0, result.confidence or "high", note)
        view.reason = result.reason or ""
        return view

    def _page(self, token: str, question: str, prefs: Prefs, hits: list[Hit], page: int, confidence: str, note: str = "") -> AnswerPage:
        start = page * self.per_page
        shown = hits[start : start + self.per_page]
        rows: list[list[Button]] = [[Button(f"📖 Sammenheng {start + n}", b.Context(_digest(h.chunk.id))) for n, h in enumerate(shown, 1)]]
        nav = []
        if page > 0:
            nav.append(Button("◀ Forrige", b.More(token, page - 1)))
        if start + len(shown) < len(hits):
            nav.append(Button("Vis flere ▶", b.More(token, page + 1)))
        if nav:
            rows.append(nav)
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False)), Button("↗ Del", share=question[:200])])
        topic = self._topic_button(shown[0].chunk if shown else None)
        if topic is not None:
            rows.append([topic, Button("✅ Sjekk et løfte", b.CheckPrompt())])
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
        answer = await self.store.get_answer(token)
        if answer is None or page < 0 or page >= PAGES:
            return self.expired()
        result = await self._search(answer.question, answer.prefs, self.per_page * PAGES)
        hits = [] if result.abstained else result.hits
        if page * self.per_page >= len(hits):
            return self.expired(NO_MORE)
        return self._page(token, answer.question, answer.prefs, hits, page, answer.confidence or "high")

    async def context(self, digest: str) -> View:
        r = self._retriever
        chunk_id = r.chunk_id_by_digest(digest)
        if chunk_id is None:
            return self.expired()
        around = r.neighbours(chunk_id, before=1, after=1)
        target = next(c for c in around if c.id == chunk_id)
        return ContextView(target=chunk_id, chunks=around, citation=Citation.of(r.docs[target.doc_id], target))

    async def vote(self, token: str, up: bool, user: str) -> View:
        if not await self.store.vote(token, user, up):
            return self.expired()
        text = "Takk! Det hjelper oss å gjøre svarene bedre."
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

    # --- checking a claim, comparing documents, browsing topics ---------------------------------

    async def check(self, claim: str, user: str = "", source: str = "chat") -> View:
        """/sjekk: commitments first; the closest promises verbatim, marked when they hedge,
        with any passage of the same section that qualifies them. Never says yes or no."""
        q = " ".join(claim.split())[: self.max_question_chars]
        if not q:
            return Message(text=CHECK_USAGE)
        r = self._retriever
        promises_only = Prefs(commitments_only=True)
        result = await self._search(q, promises_only, 3)
        general = await self._search(q, Prefs(), 10)
        found = not result.abstained and result.confidence == "high" and not general.abstained
        promises = result.hits if not result.abstained else result.near_misses
        promises = promises[:2] if found else promises[:1]
        token = secrets.token_urlsafe(6)
        await self.store.save_answer(
            token, AnswerRecord(q, promises_only, r.build, user, source, found, result.confidence, tuple(h.chunk.id for h in promises))
        )
        if not promises:
            return NotCovered(question=q, topics=nearest_topics(general.near_misses or general.hits))
        passages = [Passage.of(n, h) for n, h in enumerate(promises, 1)]
        hedges = {p.number: w for p in passages if (w := r.hedges.find(p.chunk.text))}
        top = promises[0].chunk
        qualifiers = [
            Passage.of(len(passages) + 1, h)
            for h in (general.hits if not general.abstained else [])
            if h.chunk.section == top.section and h.chunk.kind != "commitment" and h.chunk.id not in {p.chunk.id for p in passages}
        ][:1]
        rows = [[Button(f"📖 Sammenheng {p.number}", b.Context(_digest(p.chunk.id))) for p in passages + qualifiers]]
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False)), Button("↗ Del", share=f"sjekk {q}"[:200])])
        topic = self._topic_button(top)
        if topic is not None:
            rows.append([topic])
        doc = r.docs[top.doc_id]
        where = "programmet" if "program" in doc.kind.lower() else f"«{doc.title}»"
        return CheckView(buttons=rows, claim=q, found=found, where=where, promises=passages, hedges=hedges, qualifiers=qualifiers, token=token)

    async def compare(self, topic: str, user: str = "", source: str = "chat") -> View:
        """/sammenlign: the best passage from each document that covers the topic, in the
        manifest's order; the others are named."""
        q = " ".join(topic.split())[: self.max_question_chars]
        if not q:
            return Message(text=COMPARE_USAGE)
        r = self._retriever
        docs = list(r.docs.values())
        results = await asyncio.gather(*(self._search(q, Prefs(doc_id=d.id), 1) for d in docs))
        # The bar: the decision's high confidence, or a covered passage scoring within
        # COMPARE_MARGIN of the best document's (a document is judged next to the others).
        best = max((res.hits[0].score for res in results if not res.abstained and res.hits), default=0.0)
        hits, missing = [], []
        for d, res in zip(docs, results):
            ok = not res.abstained and res.hits and (res.confidence == "high" or res.hits[0].score >= best - COMPARE_MARGIN)
            if ok:
                hits.append(res.hits[0])
            else:
                missing.append(d.title)
        token = secrets.token_urlsafe(6)
        await self.store.save_answer(token, AnswerRecord(q, Prefs(), r.build, user, source, bool(hits), None, tuple(h.chunk.id for h in hits)))
        if not hits:
            return NotCovered(question=q, topics=[])
        passages = [Passage.of(n, h) for n, h in enumerate(hits, 1)]
        rows = [[Button(f"📖 {p.number}", b.Context(_digest(p.chunk.id))) for p in passages]]
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False))])
        return CompareView(buttons=rows, topic=q, passages=passages, missing=missing, token=token)

    def _topic_button(self, chunk) -> Button | None:
        if chunk is None:
            return None
        tree = self._retriever.sections.get(chunk.doc_id)
        node = tree.node_of(chunk.section) if tree else None
        if node is None:
            return None
        return Button("🗂 Mer fra samme tema", b.Topic(self.doc_digest(chunk.doc_id), node, 0))

    def topics(self, doc_digest: str = "", node: int = -1, page: int = 0, commitments_only: bool = False) -> View:
        """/tema: the documents; a document's or section's subsections and passages."""
        r = self._retriever
        if not doc_digest or node < 0:
            rows = [[Button(_short(d.title, 50), b.Topic(self.doc_digest(d.id), 0, 0))] for d in self.documents()]
            return Message(text="Velg et dokument for å se hva det handler om:", buttons=rows)
        doc = next((d for d in r.docs.values() if self.doc_digest(d.id) == doc_digest), None)
        tree = r.sections.get(doc.id) if doc else None
        here = tree.get(node) if tree else None
        if doc is None or here is None or page < 0:
            return self.expired()
        chunks = here.chunks
        if commitments_only:
            chunks = [i for i in chunks if r.chunks[i].kind == "commitment"]
        pages = max(1, -(-len(chunks) // SECTION_PAGE))
        if page >= pages:
            return self.expired(NO_MORE)
        shown = chunks[page * SECTION_PAGE : (page + 1) * SECTION_PAGE]
        passages = [Passage.of(page * SECTION_PAGE + n, r.hit_at(i)) for n, i in enumerate(shown, 1)]
        rows = [[Button(f"📂 {_short(tree.nodes[c].title, 45)} ({tree.nodes[c].total})", b.Topic(doc_digest, c, 0))] for c in here.children]
        nav = []
        if page > 0:
            nav.append(Button("◀ Forrige", b.Topic(doc_digest, node, page - 1)))
        if page + 1 < pages:
            nav.append(Button("Flere ▶", b.Topic(doc_digest, node, page + 1)))
        if nav:
            rows.append(nav)
        parent = tree.parent(node)
        rows.append([Button("⬅ Tilbake", b.Topic(doc_digest if parent is not None else "", parent if parent is not None else -1, 0))])
        return SectionView(
            buttons=rows, doc_title=doc.title, path=here.path, passages=passages, subsections=len(here.children), page=page, pages=pages, commitments_only=commitments_only
        )

    async def inline_check(self, claim: str, limit: int = 3) -> list[InlineItem]:
        """Inline mode's "@bot sjekk …": the closest promises, each shareable with its
        citation (and hedge note)."""
        q = " ".join(claim.split())[: self.max_question_chars]
        if len(q) < 3:
            return []
        result = await self._search(q, Prefs(commitments_only=True), limit)
        items = []
        for n, h in enumerate(result.hits or result.near_misses, 1):
            hedge = self._retriever.hedges.find(h.chunk.text)
            title = ("⚠️ " + hedge + ": " if hedge else "✅ ") + _short(h.chunk.text, 50)
            items.append(InlineItem(id="s" + _digest(h.chunk.id), title=title, description=_short(h.doc.title, 120), passage=Passage.of(n, h)))
        return items

    async def press(self, data: str, user: str) -> View:
        """Route a button press. Unknown, stale or forged data gets the polite "ask again"."""
        button = b.unpack(data)
        if isinstance(button, b.More):
            return await self.page(button.token, button.page)
        if isinstance(button, b.Context):
            return await self.context(button.chunk)
        if isinstance(button, b.Vote):
            return await self.vote(button.token, button.up, user)
        if isinstance(button, (b.FilterDoc, b.FilterAll, b.FilterCommitments)):
            return await self.apply_filter(button, user)
        if isinstance(button, b.Topic):
            return self.topics(button.doc, button.node, button.page)
        if isinstance(button, b.CheckPrompt):
            return Message(text=CHECK_USAGE)
        return self.expired()


def nearest_topics(near: list[Hit]) -> list[str]:
    """The sections of the nearest passages, for a "not covered" reply."""
    topics: list[str] = []
    for h in near:
        t = h.chunk.section[-1] if h.chunk.section else h.doc.title
        if t not in topics:
            topics.append(t)
    return topics


def result_view(result: SearchResult) -> View:
    """A search result as a view without buttons or state (the CLI's `search`)."""
    reason = result.reason or ""
    if result.abstained or not result.hits:
        return NotCovered(question=result.query, topics=nearest_topics(result.near_misses), reason=reason)
    return AnswerPage(
        question=result.query, passages=[Passage.of(n, h) for n, h in enumerate(result.hits, 1)], confidence=result.confidence or "high", reason=reason
    )


def _digest(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[-1]


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"
