"""The conversation engine: question (plus the user's filters and page) in, a reply out
(HTML and plain text, the passages shown, buttons as data). No Telegram imports: the
terminal chat and the Telegram bot both drive it.

Callback data (at most 64 bytes, Telegram's limit):

    p:<token>:<page>     "Vis flere": the next page of an earlier answer
    x:<chunk digest>     "Vis sammenheng": the passage with its neighbours
    v:<token>:<1|0>      👍 / 👎 on an answer
    f:d:<doc digest>     filter on one document
    f:a                  search all documents again
    f:c                  commitments-only on/off

Answers are remembered (for paging and votes) in memory for ``ANSWER_TTL`` seconds; a
button on an older answer, or pressed after a restart, gets a polite "ask again".
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from html import escape

from retrieval.models import DocInfo, Filters, Hit
from retrieval.search import Retriever

from .feedback import FeedbackStore
from .formatting import TELEGRAM_LIMIT, citation_html, citation_plain, fit, hit_html, hit_plain, quote_html

ANSWER_TTL = 24 * 3600
MAX_ANSWERS = 20_000
PAGES = 5  # how many pages of results an answer keeps for "Vis flere"

EXAMPLES = (
    "Vil Ap fjerne kontantstøtten?",
    "Hva vil dere gjøre med boligprisene?",
    "Hvor mange nye politistillinger kommer?",
    "Har vi lovet gratis skolemat?",
)

WELCOME = (
    "Hei! Jeg svarer på spørsmål om politiske dokumenter ved å vise deg avsnittene som "
    "svarer, ordrett og med kilde. Jeg finner ikke på noe selv.\n\n"
    "Skriv et spørsmål med egne ord, for eksempel:\n{examples}\n\n"
    "/dokumenter viser hva jeg kan svare fra, /filter lar deg velge ett dokument, "
    "/lofter viser bare løfter («… vil:»), /hjelp forklarer resten."
)
HELP = (
    "<b>Slik bruker du meg</b>\n"
    "• Skriv et spørsmål med egne ord. Jeg viser de avsnittene i dokumentene som passer best, "
    "med dokument, kapittel og utgiver.\n"
    "• <b>Vis flere</b> gir neste treff, <b>Sammenheng</b> viser teksten rundt et avsnitt, "
    "👍/👎 forteller oss om svaret var nyttig.\n"
    "• /filter: søk bare i ett dokument. /lofter: bare løfter («Arbeiderpartiet vil: …»). "
    "/nullstill: søk i alt igjen.\n"
    "• /dokumenter: dokumentene jeg kjenner.\n"
    "• I grupper svarer jeg når du nevner meg (@{bot}) eller svarer på en melding fra meg.\n"
    "• Del et avsnitt i en annen chat: skriv @{bot} og spørsmålet ditt i meldingsfeltet.\n\n"
    "Finner jeg ikke noe, sier jeg det. Sitatene er alltid ordrett fra dokumentene."
)


@dataclass(frozen=True)
class Prefs:
    doc_id: str | None = None
    commitments_only: bool = False

    def filters(self) -> Filters:
        return Filters(doc_ids=frozenset({self.doc_id}) if self.doc_id else frozenset(), commitments_only=self.commitments_only)


@dataclass(frozen=True)
class Button:
    label: str
    data: str = ""  # callback data
    switch_inline: str | None = None  # text for "share in another chat"


@dataclass
class Reply:
    html: str
    plain: str
    buttons: list[list[Button]] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)
    found: bool = True
    token: str | None = None
    prefs: Prefs | None = None  # new preferences to store, when the reply changed them
    notice: str = ""  # a short toast for button presses


@dataclass(frozen=True)
class InlineItem:
    id: str
    title: str
    description: str
    html: str


CAVEAT = "Dette er det nærmeste jeg fant – det svarer kanskje ikke direkte på spørsmålet."


@dataclass
class _Answer:
    question: str
    prefs: Prefs
    hits: list[Hit]
    user_hash: str
    created: float
    confidence: str = "high"


class Engine:
    def __init__(
        self,
        retriever: Retriever,
        feedback: FeedbackStore | None = None,
        per_page: int = 3,
        max_question_chars: int = 1000,
    ) -> None:
        self._retriever = retriever
        self.feedback = feedback
        self.per_page = per_page
        self.max_question_chars = max_question_chars
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._lock = threading.Lock()

    # --- the index, swappable without a restart -------------------------------------------

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    def swap_retriever(self, new: Retriever) -> None:
        """Searches already running keep the retriever they started with; new ones use
        ``new``. Reference assignment is atomic, so no request fails during the swap."""
        self._retriever = new

    # --- documents and filters -------------------------------------------------------------

    def documents(self) -> list[DocInfo]:
        return sorted(self._retriever.docs.values(), key=lambda d: d.title)

    @staticmethod
    def doc_digest(doc_id: str) -> str:
        return hashlib.sha1(doc_id.encode()).hexdigest()[:10]

    def _doc_by_digest(self, digest: str) -> DocInfo | None:
        return next((d for d in self._retriever.docs.values() if self.doc_digest(d.id) == digest), None)

    def prefs_label(self, prefs: Prefs) -> str:
        parts = []
        if prefs.doc_id and prefs.doc_id in self._retriever.docs:
            parts.append(f"bare «{self._retriever.docs[prefs.doc_id].title}»")
        if prefs.commitments_only:
            parts.append("bare løfter")
        return ", ".join(parts)

    # --- static replies --------------------------------------------------------------------

    def welcome(self) -> Reply:
        text = WELCOME.format(examples="\n".join(f"• {e}" for e in EXAMPLES))
        return Reply(html=escape(text), plain=text)

    def help(self, bot_name: str = "boten") -> Reply:
        html = HELP.format(bot=escape(bot_name))
        plain = html.replace("<b>", "").replace("</b>", "")
        return Reply(html=html, plain=plain)

    def documents_reply(self) -> Reply:
        lines_html, lines_plain = ["<b>Dokumentene jeg svarer fra</b>"], ["Dokumentene jeg svarer fra:"]
        for d in self.documents():
            meta = ", ".join(p for p in (d.publisher, d.year + (" (antatt)" if d.year and "year" in d.inferred else "")) if p)
            lines_html.append(f"• <i>{escape(d.title)}</i> — {escape(meta)} · {d.chunks} avsnitt")
            lines_plain.append(f"• {d.title} — {meta} · {d.chunks} avsnitt")
        return Reply(html="\n".join(lines_html), plain="\n".join(lines_plain))

    def filter_menu(self, prefs: Prefs) -> Reply:
        rows = [[Button(("✅ " if prefs.doc_id == d.id else "") + _short(d.title, 40), f"f:d:{self.doc_digest(d.id)}")] for d in self.documents()]
        rows.append([Button(("✅ " if not prefs.doc_id else "") + "Alle dokumenter", "f:a")])
        rows.append([Button(("✅ " if prefs.commitments_only else "☐ ") + "Bare løfter («… vil:»)", "f:c")])
        now = self.prefs_label(prefs) or "alle dokumenter"
        text = f"Hvor skal jeg søke? Nå: {now}."
        return Reply(html=escape(text), plain=text, buttons=rows)

    def apply_filter(self, data: str, prefs: Prefs) -> Reply:
        if data == "f:a":
            new = replace(prefs, doc_id=None)
        elif data == "f:c":
            new = replace(prefs, commitments_only=not prefs.commitments_only)
        elif data.startswith("f:d:"):
            doc = self._doc_by_digest(data[4:])
            if doc is None:
                return self._expired()
            new = replace(prefs, doc_id=doc.id)
        else:
            return self._expired()
        reply = self.filter_menu(new)
        reply.prefs = new
        reply.notice = "Søker nå i " + (self.prefs_label(new) or "alle dokumenter")
        return reply

    def set_commitments(self, prefs: Prefs, on: bool | None = None) -> Reply:
        new = replace(prefs, commitments_only=(not prefs.commitments_only) if on is None else on)
        text = (
            "Viser nå bare løfter («… vil:»-punkter). Skriv /lofter igjen for å se alt."
            if new.commitments_only
            else "Viser nå alle typer avsnitt, ikke bare løfter."
        )
        return Reply(html=escape(text), plain=text, prefs=new)

    def reset_filters(self) -> Reply:
        text = "Søker nå i alle dokumenter, alle typer avsnitt."
        return Reply(html=escape(text), plain=text, prefs=Prefs())

    def unknown_command(self, command: str) -> Reply:
        text = f"Kommandoen {command[:40]} kjenner jeg ikke. Skriv /hjelp for å se hva jeg kan, eller still et spørsmål."
        return Reply(html=escape(text), plain=text)

    def not_text(self) -> Reply:
        text = "Jeg forstår bare tekst. Skriv spørsmålet ditt med ord, så leter jeg i dokumentene."
        return Reply(html=escape(text), plain=text)

    # --- answering -------------------------------------------------------------------------

    def ask(self, question: str, prefs: Prefs | None = None, user_hash: str = "", source: str = "chat") -> Reply:
        prefs = prefs or Prefs()
        q = " ".join(question.split())
        if not q:
            text = "Skriv et spørsmål, for eksempel: «" + EXAMPLES[0] + "»"
            return Reply(html=escape(text), plain=text, found=False)
        notice = ""
        if len(q) > self.max_question_chars:
            notice = f"Spørsmålet var langt ({len(q)} tegn), så jeg søkte på de første {self.max_question_chars}."
            q = q[: self.max_question_chars]
        if prefs.doc_id and prefs.doc_id not in self._retriever.docs:
            prefs = replace(prefs, doc_id=None)
        result = self._retriever.search(q, k=self.per_page * PAGES, filters=prefs.filters())
        token = secrets.token_urlsafe(6)
        hits = [] if result.abstained else result.hits
        self._remember(token, _Answer(q, prefs, hits, user_hash, time.time(), result.confidence or "high"))
        if self.feedback is not None:
            self.feedback.log_question(token, user_hash, source, q, [h.chunk.id for h in hits[: self.per_page]], bool(hits))
        if result.abstained or not hits:
            return self._nothing_found(q, prefs, result.near_misses, notice)
        reply = self._page(token, 0)
        if notice:
            reply.html = escape(notice) + "\n\n" + reply.html
            reply.plain = notice + "\n\n" + reply.plain
        return reply

    def page(self, token: str, page: int) -> Reply:
        with self._lock:
            answer = self._answers.get(token)
        if answer is None or time.time() - answer.created > ANSWER_TTL:
            return self._expired()
        if page * self.per_page >= len(answer.hits):
            return self._expired("Det var alle treffene jeg har på dette spørsmålet.")
        return self._page(token, page)

    def _page(self, token: str, page: int) -> Reply:
        answer = self._answers[token]
        start = page * self.per_page
        shown = answer.hits[start : start + self.per_page]
        label = self.prefs_label(answer.prefs)
        header_html = f"<i>Søkte i: {escape(label)}</i>" if label else ""
        header_plain = f"(Søkte i: {label})" if label else ""
        if answer.confidence == "low" and page == 0:
            header_html = "\n".join(p for p in (f"<i>{escape(CAVEAT)}</i>", header_html) if p)
            header_plain = "\n".join(p for p in (CAVEAT, header_plain) if p)
        parts = [hit_html(start + n, h) for n, h in enumerate(shown, 1)]
        html, used = fit(parts, header_html, limit=TELEGRAM_LIMIT - 50)
        shown = shown[:used]
        plain = "\n\n".join(([header_plain] if header_plain else []) + [hit_plain(start + n, h) for n, h in enumerate(shown, 1)])
        rows: list[list[Button]] = []
        rows.append([Button(f"📖 Sammenheng {start + n}", f"x:{_digest(h.chunk.id)}") for n, h in enumerate(shown, 1)])
        nav = []
        if page > 0:
            nav.append(Button("◀ Forrige", f"p:{token}:{page - 1}"))
        if start + len(shown) < len(answer.hits):
            nav.append(Button("Vis flere ▶", f"p:{token}:{page + 1}"))
        if nav:
            rows.append(nav)
        rows.append([Button("👍", f"v:{token}:1"), Button("👎", f"v:{token}:0"), Button("↗ Del", switch_inline=answer.question[:200])])
        return Reply(html=html, plain=plain, buttons=rows, chunk_ids=[h.chunk.id for h in shown], found=True, token=token)

    def _nothing_found(self, q: str, prefs: Prefs, near: list[Hit], notice: str) -> Reply:
        label = self.prefs_label(prefs)
        where = f" (søkte i: {label})" if label else ""
        html = [f"Jeg fant ikke noe om dette i dokumentene{escape(where)}."]
        plain = [f"Jeg fant ikke noe om dette i dokumentene{where}."]
        topics = []
        for h in near:
            t = " › ".join(h.chunk.section[-1:]) or h.doc.title
            if t not in topics:
                topics.append(t)
        if topics:
            html.append("Det nærmeste jeg har, handler om: " + "; ".join(f"<i>{escape(t)}</i>" for t in topics) + ".")
            plain.append("Det nærmeste jeg har, handler om: " + "; ".join(topics) + ".")
        tip = "Prøv å spørre med andre ord, eller se /dokumenter for hva jeg kan svare fra."
        if label:
            tip = "Prøv /nullstill for å søke i alle dokumenter, eller spør med andre ord."
        html.append(escape(tip))
        plain.append(tip)
        if notice:
            html.insert(0, escape(notice))
            plain.insert(0, notice)
        return Reply(html="\n\n".join(html), plain="\n\n".join(plain), found=False)

    def context(self, digest: str) -> Reply:
        retriever = self._retriever
        chunk_id = retriever.chunk_id_by_digest(digest)
        if chunk_id is None:
            return self._expired()
        around = retriever.neighbours(chunk_id, before=1, after=1)
        doc = retriever.docs[around[0].doc_id]
        target = next(c for c in around if c.id == chunk_id)
        parts_html, parts_plain = [], []
        for c in around:
            q = quote_html(c, (c.text,) if c.id == chunk_id else (), limit=1000)
            parts_html.append(q)
            parts_plain.append(("» " if c.id == chunk_id else "  ") + c.display)
        header = f"<b>Sammenheng</b> ({escape(' › '.join(target.section[-2:]) or doc.title)})"
        html, _ = fit(parts_html, header, citation_html(doc, target))
        plain = "\n\n".join(["Sammenheng:"] + parts_plain + ["— " + citation_plain(doc, target)])
        return Reply(html=html, plain=plain, chunk_ids=[c.id for c in around])

    def vote(self, token: str, up: bool, user_hash: str) -> Reply:
        ok = self.feedback.vote(token, user_hash, up) if self.feedback is not None else False
        if not ok:
            return self._expired()
        text = "Takk! Det hjelper oss å gjøre svarene bedre."
        return Reply(html=escape(text), plain=text, notice=text)

    def inline(self, query: str, limit: int = 5) -> list[InlineItem]:
        q = " ".join(query.split())[: self.max_question_chars]
        if len(q) < 3:
            return []
        result = self._retriever.search(q, k=limit)
        items = []
        for h in [] if result.abstained else result.hits:
            html = f"{quote_html(h.chunk, h.highlight)}\n{citation_html(h.doc, h.chunk)}"
            items.append(
                InlineItem(
                    id=_digest(h.chunk.id),
                    title=_short(h.doc.title + (" · " + h.chunk.section[-1] if h.chunk.section else ""), 60),
                    description=_short(h.chunk.display, 120),
                    html=html,
                )
            )
        return items

    # --- callback routing --------------------------------------------------------------------

    def callback(self, data: str, prefs: Prefs, user_hash: str) -> Reply:
        """Route a button press. Unknown or stale data gets the polite "ask again"."""
        try:
            kind, _, rest = data.partition(":")
            if kind == "p":
                token, page = rest.rsplit(":", 1)
                return self.page(token, int(page))
            if kind == "x":
                return self.context(rest)
            if kind == "v":
                token, up = rest.rsplit(":", 1)
                return self.vote(token, up == "1", user_hash)
            if kind == "f":
                return self.apply_filter(data, prefs)
        except ValueError:
            pass
        return self._expired()

    def _expired(self, text: str = "") -> Reply:
        text = text or "Denne knappen er utløpt. Still spørsmålet på nytt, så får du ferske svar."
        return Reply(html=escape(text), plain=text, found=False, notice=text)

    def _remember(self, token: str, answer: _Answer) -> None:
        with self._lock:
            self._answers[token] = answer
            while len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)


def _digest(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[-1]


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"

