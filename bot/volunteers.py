"""The volunteers' tools on the engine: /sjekk (the promise a claim is about), /sammenlign
(what each document says) and /tema (browsing the documents' chapters), and inline mode's
"@bot sjekk". A mixin of :class:`bot.engine.Engine`, which supplies the retriever, the
store, the search pool and the fixed replies."""
from __future__ import annotations

import asyncio
import secrets

from retrieval.models import Hit

from . import buttons as b
from . import wording as w
from .state import AnswerRecord, Prefs
from .views import Button, CheckView, CompareView, InlineItem, Message, NotCovered, Passage, SectionView, View

SECTION_PAGE = 5  # passages per page when browsing a section
COMPARE_MARGIN = 0.035  # /sammenlign: how far below the best document's passage another may score


class VolunteerTools:
    # --- checking a claim, comparing documents, browsing topics ---------------------------------

    async def check(self, claim: str, user: str = "", source: str = "chat") -> View:
        """/sjekk: commitments first; the closest promises verbatim, marked when they hedge,
        with any passage of the same section that qualifies them. Never says yes or no."""
        q = " ".join(claim.split())[: self.max_question_chars]
        if not q:
            return Message(text=w.CHECK_USAGE)
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
        hedges = {p.number: word for p in passages if (word := r.hedges.find(p.chunk.text))}
        top = promises[0].chunk
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
        doc = r.docs[top.doc_id]
        where = w.THE_PROGRAMME if "program" in doc.kind.lower() else f"«{doc.title}»"
        return CheckView(buttons=rows, claim=q, found=found, where=where, promises=passages, hedges=hedges, qualifiers=qualifiers, token=token)

    async def compare(self, topic: str, user: str = "", source: str = "chat") -> View:
        """/sammenlign: the best passage from each document that covers the topic, in the
        manifest's order; the others are named."""
        q = " ".join(topic.split())[: self.max_question_chars]
        if not q:
            return Message(text=w.COMPARE_USAGE)
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
        rows = [[Button(f"📖 {p.number}", b.Context(digest(p.chunk.id))) for p in passages]]
        rows.append([Button("👍", b.Vote(token, True)), Button("👎", b.Vote(token, False))])
        return CompareView(buttons=rows, topic=q, passages=passages, missing=missing, token=token)

    def _topic_button(self, chunk) -> Button | None:
        if chunk is None:
            return None
        tree = self._retriever.sections.get(chunk.doc_id)
        node = tree.node_of(chunk.section) if tree else None
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
        chunks = _under(tree, node) if subtree else here.chunks
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
        """Inline mode's "@bot sjekk …": the closest promises, each shareable with its
        citation (and hedge note)."""
        q = " ".join(claim.split())[: self.max_question_chars]
        if len(q) < 3:
            return []
        result = await self._search(q, Prefs(commitments_only=True), limit)
        items = []
        for n, h in enumerate(result.hits or result.near_misses, 1):
            hedge = self._retriever.hedges.find(h.chunk.text)
            title = ("⚠️ " + hedge + ": " if hedge else "✅ ") + short(h.chunk.text, 50)
            items.append(InlineItem(id="s" + digest(h.chunk.id), title=title, description=short(h.doc.title, 120), passage=Passage.of(n, h)))
        return items


def _under(tree, node: int) -> list[int]:
    """The chunk positions in a section and its subsections, in document order."""
    out, stack = [], [node]
    while stack:
        n = tree.nodes[stack.pop()]
        out.extend(n.chunks)
        stack.extend(n.children)
    return sorted(out)


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
