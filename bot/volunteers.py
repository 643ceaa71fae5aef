"""The volunteers' tools on the engine: /sjekk (a graded verdict on a claim), /sammenlign
(what each document says) and /tema (browsing the documents' chapters), and inline mode's
"@bot sjekk". A mixin of :class:`bot.engine.Engine`, which supplies the retriever, the
store, the search pool and the fixed replies."""
from __future__ import annotations

import asyncio
import secrets

from retrieval.claims import check as check_claim
from retrieval.facts import coverage, key_terms
from retrieval.models import Filters, Hit, SearchResult
from retrieval.sections import chapter_of

from . import buttons as b
from . import wording as w
from .state import AnswerRecord, Prefs
from .views import Button, CheckView, CompareView, InlineItem, Message, NotCovered, Passage, SectionView, View

SECTION_PAGE = 5  # passages per page when browsing a section
COMPARE_CANDIDATES = 10  # /sammenlign: a document's best passages searched for one that uses the topic's words
# inline "@bot sjekk": the first result's mark by verdict; ✅ only on a match
INLINE_MARK = {"match": "✅ ", "weaker": "⚠️ ", "contradicts": "❌ ", "elsewhere": "📄 ", "absent": "🔍 "}


class VolunteerTools:
    # --- checking a claim, comparing documents, browsing topics ---------------------------------

    async def check(self, claim: str, user: str = "", source: str = "chat") -> View:
        """/sjekk: one graded verdict (match, weaker, contradicts, elsewhere, absent;
        :mod:`retrieval.claims`), the promise it rests on verbatim with its hedge marked,
        and a passage of the same section that qualifies it."""
        q = " ".join(claim.split())[: self.max_question_chars]
        if not q:
            return Message(text=w.CHECK_USAGE)
        r = self._retriever
        result = await self._in_pool(check_claim, r, q)
        token = secrets.token_urlsafe(6)
        found = result.verdict == "match"
        await self._bookkeep(
            "saving an answer",
            self.store.save_answer(token, AnswerRecord(q, Prefs(commitments_only=True), r.build, user, source, found, None, tuple(h.chunk.id for h in result.passages))),
        )
        if not result.passages:
            return NotCovered(question=q, topics=[])
        passages = [Passage.of(n, h) for n, h in enumerate(result.passages, 1)]
        hedges = {p.number: word for p in passages if (word := r.hedges.find(p.chunk.text))}
        top = result.passages[0].chunk
        qualifiers: list[Passage] = []
        if result.verdict in ("match", "weaker"):
            general = await self._search(q, Prefs(doc_id=top.doc_id), 10)
            qualifiers = [
                Passage.of(len(passages) + 1, h)
                for h in (general.hits if not general.abstained else [])
                if h.chunk.section == top.section and h.chunk.kind != "commitment" and h.chunk.id not in {p.chunk.id for p in passages}
            ][:1]
        rows = [[Button(w.context_button(p.number), b.Context(digest(p.chunk.id))) for p in passages + qualifiers]]
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False)), Button(w.SHARE, share=f"sjekk {q}"[:200])])
        topic = self._topic_button(top)
        if topic is not None:
            rows.append([topic])
        return CheckView(
            buttons=rows,
            claim=q,
            verdict=result.verdict,
            words=result.words,
            scope=result.scope,
            doc=result.doc.title if result.doc else "",
            programme=result.programme.title if result.programme else "",
            promises=passages,
            hedges=hedges,
            qualifiers=qualifiers,
            token=token,
        )

    async def compare(self, topic: str, user: str = "", source: str = "chat") -> View:
        """/sammenlign: each document's most representative passage on the topic, in the
        manifest's order; the documents without one are named (:func:`representative`)."""
        q = " ".join(topic.split())[: self.max_question_chars]
        if not q:
            return Message(text=w.COMPARE_USAGE)
        r = self._retriever
        terms = key_terms(q)
        docs = list(r.docs.values())
        results = await asyncio.gather(*(self._in_pool(_doc_search, r, q, d.id) for d in docs))
        hits, missing = [], []
        for d, res in zip(docs, results):
            best = representative(terms, res.hits)
            if best is not None:
                hits.append(best)
            else:
                missing.append(d.title)
        token = secrets.token_urlsafe(6)
        await self._bookkeep(
            "saving an answer", self.store.save_answer(token, AnswerRecord(q, Prefs(), r.build, user, source, bool(hits), None, tuple(h.chunk.id for h in hits)))
        )
        if not hits:
            return NotCovered(question=q, topics=[])
        passages = [Passage.of(n, h) for n, h in enumerate(hits, 1)]
        rows = [[Button(f"📖 {p.number}", b.Context(digest(p.chunk.id))) for p in passages]]
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False))])
        return CompareView(buttons=rows, topic=q, passages=passages, missing=missing, token=token)

    def _topic_button(self, chunk) -> Button | None:
        if chunk is None:
            return None
        tree = self._retriever.sections.get(chunk.doc_id)
        node = tree.node_of(chapter_of(chunk.section)) if tree else None  # «Mer fra samme tema»: the passage's chapter
        if node is None:
            return None
        return Button(w.SAME_TOPIC, b.Topic(self.doc_digest(chunk.doc_id), node, 0))

    def topics(self, doc_digest: str = "", node: int = -1, page: int = 0, commitments_only: bool = False, subtree: bool = False) -> View:
        """/tema: the documents; a document's or section's subsections and passages
        (``subtree``: the passages of its subsections too, as a topic answer's "Alle
        løfter" shows them)."""
        r = self._retriever
        if not doc_digest or node < 0:
            rows = [[Button(short(d.title, 50), b.Topic(self.doc_digest(d.id), 0, 0))] for d in self.documents()]
            return Message(text=w.CHOOSE_DOCUMENT, buttons=rows)
        doc = next((d for d in r.docs.values() if self.doc_digest(d.id) == doc_digest), None)
        tree = r.sections.get(doc.id) if doc else None
        here = tree.get(node) if tree else None
        if doc is None or here is None or page < 0:
            return self.expired()
        chunks = tree.under(node) if subtree else here.chunks
        if commitments_only:
            chunks = [i for i in chunks if r.chunks[i].kind == "commitment"]
        pages = max(1, -(-len(chunks) // SECTION_PAGE))
        if page >= pages:
            return self.expired(w.NO_MORE)
        shown = chunks[page * SECTION_PAGE : (page + 1) * SECTION_PAGE]
        passages = [Passage.of(page * SECTION_PAGE + n, r.hit_at(i)) for n, i in enumerate(shown, 1)]
        rows = [[Button(f"📂 {short(tree.nodes[c].title, 45)} ({tree.nodes[c].total})", b.Topic(doc_digest, c, 0))] for c in here.children]
        turn = b.TopicPromises if subtree else b.Topic
        if subtree:
            rows = []  # the promises of the whole section: no subsection buttons
        nav = []
        if page > 0:
            nav.append(Button(w.PREVIOUS, turn(doc_digest, node, page - 1)))
        if page + 1 < pages:
            nav.append(Button(w.NEXT_SECTION_PAGE, turn(doc_digest, node, page + 1)))
        if nav:
            rows.append(nav)
        parent = tree.parent(node)
        rows.append([Button(w.BACK, b.Topic(doc_digest if parent is not None else "", parent if parent is not None else -1, 0))])
        return SectionView(
            buttons=rows, doc_title=doc.title, path=here.path, passages=passages, subsections=len(here.children), page=page, pages=pages, commitments_only=commitments_only
        )

    async def inline_check(self, claim: str, limit: int = 3) -> list[InlineItem]:
        """Inline mode's "@bot sjekk …": the promise the verdict rests on first, marked by
        the verdict (✅ only on a match), then the next closest promises, unmarked but for
        a hedge, each shareable with its citation."""
        q = " ".join(claim.split())[: self.max_question_chars]
        if len(q) < 3:
            return []
        verdict = await self._in_pool(check_claim, self._retriever, q)
        result = await self._search(q, Prefs(commitments_only=True), limit)
        hits = list(verdict.passages)
        hits += [h for h in (result.hits or result.near_misses) if h.chunk.id not in {x.chunk.id for x in hits}]
        items = []
        for n, h in enumerate(hits[:limit], 1):
            hedge = self._retriever.hedges.find(h.chunk.text)
            mark = INLINE_MARK.get(verdict.verdict, "") if n == 1 else ""
            if hedge and mark != "❌ ":
                mark = "⚠️ " + hedge + ": "
            title = mark + short(h.chunk.text, 50)
            items.append(InlineItem(id="s" + digest(h.chunk.id), title=title, description=short(h.doc.title, 120), passage=Passage.of(n, h)))
        return items


def representative(terms: tuple[str, ...], hits: list[Hit]) -> Hit | None:
    """A document's most representative passage on a topic, from its best-ranked ones: it
    must use every key term of the topic as a word or inside a compound («barnehageplass»
    for barnehage, never «barnehus»); of those, one from a section whose title names the
    topic (the document's own chapter on it) comes first, then the search's order."""
    if not terms:
        return hits[0] if hits else None
    using = [h for h in hits if coverage(terms, h.chunk.display) == 1.0]
    titled = [h for h in using if coverage(terms, " ".join(h.chunk.section)) == 1.0]
    return (titled or using or [None])[0]


def _doc_search(r, topic: str, doc_id: str) -> SearchResult:
    """One document's passages on a topic, best first, without the not-covered decision
    (/sammenlign judges them by the topic's words)."""
    return r.search(topic, k=COMPARE_CANDIDATES, filters=Filters(doc_ids=frozenset({doc_id})), abstain=False)


def nearest_topics(near: list[Hit]) -> list[str]:
    """The sections of the nearest passages, for a "not covered" reply."""
    topics: list[str] = []
    for h in near:
        t = h.chunk.section[-1] if h.chunk.section else h.doc.title
        if t not in topics:
            topics.append(t)
    return topics


def digest(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[-1]


def short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"
