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


def named_documents(question: str, docs: list[DocInfo]) -> frozenset[str]:
    """The ids of the documents the question names (empty when it names none, or all)."""
    q = question.lower()
    named = set()
    for d in docs:
        others = [o for o in docs if o.id != d.id]
        if any(re.search(rf"\b(?:{p})\b", q) for p in _patterns(d, others)):
            named.add(d.id)
    return frozenset(named) if len(named) < len(docs) else frozenset()


_PARTY = re.compile(r"\b(ap|aps|arbeiderparti\w*|arbeidarparti\w*|dere|deres|dykk|dykkar|partiet|labour|the party)\b", re.IGNORECASE)


def asks_about_the_party(question: str) -> bool:
    """"Vil Ap …", "hva gjør dere …", "the party's policy": the current programme first."""
    return bool(_PARTY.search(question))


def current_programme(docs: list[DocInfo]) -> DocInfo | None:
    """The newest party programme: what "Ap vil …" questions are about."""
    programmes = [d for d in docs if "program" in d.kind.lower()]
    return max(programmes, key=lambda d: d.year or "") if programmes else None
