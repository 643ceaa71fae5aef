"""Which documents a question is about, from its words and the corpus manifest.

* A question that names a document is held to it: «i handlingsplanen», «veilederen»,
  «programmet», «migrasjonsutvalget», «Oslo Ap». Names come from each document's kind
  and publisher and from the words of its title that name a kind of document
  ("migrasjons*utvalg*"), so a new document is named the same way with no code change.
* A question about the party's policy («Vil Ap …», «dere», "the party") reads the current
  programme first; when the programme never uses the question's key word and another
  document does, the reply says so: «Programmet … nevner ikke kontantstøtte».
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .models import DocInfo

# the words for kinds of document, as people write them (definite forms included)
_KIND = {
    "handlingsplan": r"handlingsplan\w*",
    "veileder": r"veileder\w*|rettleiar\w*",
    "program": r"partiprogram\w*|programmet|programme|manifesto",
    "utvalg": r"utvalg\w*|rapporten",
    "uttalelse": r"uttalelse\w*|fråsegn\w*",
    "melding": r"stortingsmelding\w*|meldingen",
    "strategi": r"strategi\w*",
}
_KIND_STEMS = ("utvalg", "plan", "veileder", "program", "uttalelse", "rapport", "melding", "strategi", "utredning")


@dataclass(frozen=True)
class ScopeNote:
    """Why the answer comes from where it does (worded by the renderers)."""

    kind: str  # "named_silent": the named document has nothing on it; "programme_silent": the programme never uses ``term``
    doc_title: str
    term: str = ""


def _patterns(doc: DocInfo, others: list[DocInfo]) -> list[str]:
    pats = [pat for key, pat in _KIND.items() if key in doc.kind.lower()]
    m = re.match(r"^([A-ZÆØÅ][\wæøå]+)\s+Arbei[dt]\w*parti", doc.publisher)
    if m:  # "Oslo Arbeiderparti": «Oslo Ap», «Oslo Arbeiderparti(et)»
        pats.append(rf"{re.escape(m.group(1).lower())}[- ]?(?:ap|arbei[dt]\w*parti\w*)")
    other_titles = " ".join(o.title.lower() for o in others)
    for word in re.findall(r"[\wæøå]{6,}", doc.title.lower()):
        if any(k in word for k in _KIND_STEMS) and word not in other_titles and word != "arbeiderpartiets":
            pats.append(re.escape(word[:-1]) + r"\w*")
    return pats


class DocumentNames:
    """The ways a question can name each document, compiled once per loaded index."""

    def __init__(self, docs: list[DocInfo]) -> None:
        self._all = len(docs)
        self._names = {}
        for d in docs:
            pats = _patterns(d, [o for o in docs if o.id != d.id])
            if pats:
                self._names[d.id] = re.compile(rf"\b(?:{'|'.join(f'(?:{p})' for p in pats)})\b")

    def named(self, question: str) -> frozenset[str]:
        """The ids of the documents the question names (empty when it names none, or all)."""
        q = question.lower()
        named = frozenset(doc for doc, names in self._names.items() if names.search(q))
        return named if len(named) < self._all else frozenset()


_PARTY = re.compile(r"\b(ap|aps|arbeiderparti\w*|arbeidarparti\w*|dere|deres|dykk|dykkar|partiet|labour|the party)\b", re.IGNORECASE)


def asks_about_the_party(question: str) -> bool:
    """"Vil Ap …", "hva gjør dere …", "the party's policy": the current programme first."""
    return bool(_PARTY.search(question))


def current_programme(docs: Iterable[DocInfo]) -> DocInfo | None:
    """The newest party programme: what "Ap vil …" questions and claims are about."""
    programmes = [d for d in docs if "program" in d.kind.lower()]
    return max(programmes, key=lambda d: (d.year or "0", d.id), default=None)
