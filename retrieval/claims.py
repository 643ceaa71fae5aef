"""The promise check (/sjekk, `policybot check`): one graded verdict on a claim such as
«Ap vil legge ned kontantstøtten», with the passages it rests on.

* ``match``: a passage of the current programme says what the claim says;
* ``weaker``: the closest promise says less, by scope ("øke antall" where the claim says
  "alle") or by a hedge ("ha som mål", "trinnvis", "vurdere", corpus/hedges.toml);
* ``contradicts``: the closest promise goes the other way ("ikke utvide" for "utvide",
  "trappe opp" for "redusere");
* ``elsewhere``: the current programme does not say it, another document does (named);
* ``absent``: no document says it; the nearest promise of the programme is shown.

"Says it" is decided on the claim's key terms, not on a similarity score: a passage
counts when it uses (stem- and compound-aware, :func:`retrieval.facts.covers`) at least
``COVER`` of them. Direction, scope and hedge words are not key terms; they grade the
verdict once a passage is found. The rules and the one threshold were tuned on half of
tests/data/claims.jsonl and are reported on the other half (docs/retrieval.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from index.tokenize import STOPWORDS, tokens

from .facts import META, covers
from .models import DocInfo, Filters, Hit
from .scope import current_programme

if TYPE_CHECKING:  # pragma: no cover
    from .search import Retriever

VERDICTS = ("match", "weaker", "elsewhere", "absent", "contradicts")
COVER = 2 / 3  # share of the claim's key terms a passage must use to say the same thing
CANDIDATES = 10  # passages of each side searched for one

_W = r"(?<![\wæøå])"
# Which way a claim or a promise goes: up (introduce, increase, keep) or down (remove,
# cut, weaken). A negation just before the word turns it ("ikke utvide" is down).
_UP = (
    "innføre", "innfør", "øke", "økt", "økning", "styrke", "utvide", "bygge", "bygg", "beholde", "bevare", "videreføre",
    "trappe opp", "opptrapping", "satse", "opprette", "etablere", "sikre", "garantere", "støtte", "legge til rette",
    "tillate", "åpne", "flere", "mer", "høyere", "forsterke", "gjeninnføre", "utvid",
)
_DOWN = (
    "fjerne", "fjern", "avvikle", "avskaffe", "legge ned", "nedlegge", "kutte", "kutt", "redusere", "reduksjon", "senke",
    "svekke", "begrense", "stanse", "stoppe", "forby", "færre", "mindre", "lavere", "avslutte", "skrote", "trappe ned",
)
_NEGATION = re.compile(_W + r"(?:ikke|ingen|aldri)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_DIRECTION = re.compile(
    _W + "(" + "|".join(re.escape(w) for w in sorted(_UP + _DOWN, key=len, reverse=True)) + r")\w*", re.IGNORECASE
)
# Words that widen a claim: a promise without them says less.
_SCOPE = ("alle", "samtlige", "hver", "hvert", "ethvert", "gratis", "universell", "fullt", "full", "alltid", "hele")
_SCOPE_RE = re.compile(_W + "(" + "|".join(_SCOPE) + r")(?![\wæøå])", re.IGNORECASE)
# What a narrower promise says instead, named in the reason when present.
_PARTIAL = re.compile(
    _W + r"(øke antall(?:et)?|flere|færre|mer|rimelige?|redusere|styrke|utvide|bidra til|legge til rette for|for unge|"
    r"med gode nok inntekter|på sikt)(?![\wæøå])",
    re.IGNORECASE,
)
# Hedges besides corpus/hedges.toml's that weaken a promise's wording.
_EXTRA_HEDGES = ("ha som mål", "trinnvis", "på sikt", "gradvis", "fastsette et mål", "over tid")
_NOT_TERMS = frozenset(
    # the party and "vil"; the parts of multi-word direction words; verbs that say nothing
    # of the topic ("endre", "gjøre", "gi")
    "ap aps arbeiderpartiet arbeidarpartiet oslo vil skal ønsker går inn ikke legge ned opp rette trappe "
    "endre gjøre gi sørge bruke ta få la jobbe arbeide ha hindre hindrer".split()
    + [w for w in _SCOPE]
)


# A promise to keep something where it is: it goes neither up nor down, so it contradicts
# a claim that it does either ("holde de samlede skattene … på samme nivå som i dag").
_STEADY = re.compile(_W + r"(?:på samme nivå|uendret|uendra|på dagens nivå)(?![\wæøå])", re.IGNORECASE)


def direction(text: str) -> int:
    """+1 up, -1 down, 0 neither: the first direction word, turned by a negation just
    before it."""
    m = _DIRECTION.search(text)
    if m is None:
        return 0
    word = m.group(1).lower()
    sign = 1 if word in _UP else -1
    if _NEGATION.search(text[: m.start()]):
        sign = -sign
    return sign


def claim_terms(claim: str) -> tuple[str, ...]:
    """What the claim is about: its words of three letters or more, without the party,
    "vil", direction, scope and question words."""
    directional = {w for w in _UP + _DOWN if " " not in w}
    out: list[str] = []
    seen: set[str] = set()
    for w in re.findall(r"[^\W_]+", claim.lower()):
        if len(w) < 3 or w in STOPWORDS or w in META or w in _NOT_TERMS:
            continue
        stem = tokens(w)
        if any(w.startswith(d) for d in directional) or not stem or stem[0] in seen:
            continue
        seen.add(stem[0])
        out.append(w)
    return tuple(out)


def _uses(term: str, text: str, stems: frozenset[str]) -> bool:
    """:func:`retrieval.facts.covers`, and for a claim also a compound either way: the
    term's stem at the start of a word of the passage ("ferje" in "ferjepriser"), or a
    word of the passage that makes most of the term ("kjernekraft" for "kjernekraftverk")."""
    if covers(term, text, stems):
        return True
    st = tokens(term)
    if not st or len(st[0]) < 4:
        return False
    s = st[0]
    if re.search(_W + re.escape(s), text) or (len(s) >= 5 and s in text):
        return True
    return any(len(x) >= 5 and s.startswith(x) and len(x) >= 0.6 * len(s) for x in stems)


def cover(terms: tuple[str, ...], hit: Hit) -> float:
    """Share of ``terms`` the passage (its lead-in, text and section titles) uses."""
    if not terms:
        return 0.0
    text = " ".join((hit.chunk.lead_in, hit.chunk.text, " ".join(hit.chunk.section))).lower()
    stems = frozenset(tokens(text))
    return sum(_uses(t, text, stems) for t in terms) / len(terms)


@dataclass(frozen=True)
class ClaimCheck:
    claim: str
    verdict: str  # one of VERDICTS
    passages: list[Hit] = field(default_factory=list)  # what the verdict rests on; for absent, the nearest promise
    words: tuple[str, ...] = ()  # weaker: the hedge or the narrower words; contradicts: the promise's direction word
    scope: tuple[str, ...] = ()  # weaker by scope: the claim's words the promise lacks ("alle")
    doc: DocInfo | None = None  # the document the passages come from
    programme: DocInfo | None = None  # the current programme

    def to_json(self) -> dict:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "words": list(self.words),
            "scope": list(self.scope),
            "document": self.doc.title if self.doc else None,
            "programme": self.programme.title if self.programme else None,
            "passages": [h.to_json() for h in self.passages],
        }


def _best(terms: tuple[str, ...], hits: list[Hit]) -> tuple[Hit | None, float]:
    """The passage that uses most of the claim's terms; commitments first on a tie, then
    the search's order."""
    best, best_key = None, None
    for n, h in enumerate(hits):
        key = (cover(terms, h), h.chunk.kind == "commitment", -n)
        if best_key is None or key > best_key:
            best, best_key = h, key
    return best, (best_key[0] if best_key else 0.0)


def _hedges(retriever: "Retriever", text: str, claim: str) -> tuple[str, ...]:
    """The hedges in ``text`` that the claim does not use itself, in the order they
    appear, at most two («ha som mål», «trinnvis»)."""
    low = text.lower()
    found: list[tuple[int, str]] = []
    for word, pattern in retriever.hedges.patterns:
        if m := pattern.search(text):
            found.append((m.start(), word))
    for h in _EXTRA_HEDGES:
        if m := re.search(_W + re.escape(h) + r"(?![\wæøå])", low):
            found.append((m.start(), h))
    claim_low = claim.lower()
    out: list[str] = []
    for start, h in sorted(found):
        if h not in claim_low and not any(h in o or o in h for o in out):
            out.append(h)
    return tuple(out[:2])


def check(retriever: "Retriever", claim: str, cover_min: float = COVER) -> ClaimCheck:
    """The verdict on one claim."""
    claim = " ".join(claim.split())
    terms = claim_terms(claim)
    programme = current_programme(retriever.docs.values())
    prog_filter = Filters(doc_ids=frozenset({programme.id})) if programme else Filters()
    others = frozenset(d for d in retriever.docs if programme is None or d != programme.id)
    prog_hits = retriever.search(claim, k=CANDIDATES, filters=prog_filter, abstain=False).hits
    # a promise says it: a commitment of the programme, not a paragraph describing the situation
    promise, prog_cover = _best(terms, [h for h in prog_hits if h.chunk.kind == "commitment"])
    other_hits: list[Hit] | None = None
    if promise is not None and cover_min - 1e-9 <= prog_cover < 1.0 and others:
        # the programme says part of it; another document that says all of it wins
        other_hits = retriever.search(claim, k=CANDIDATES, filters=Filters(doc_ids=others), abstain=False).hits
        said, other_cover = _best(terms, other_hits)
        if said is not None and other_cover >= 1.0:
            return ClaimCheck(claim, "elsewhere", [said], doc=said.doc, programme=programme)
    if promise is not None and prog_cover >= cover_min - 1e-9:
        claim_dir, promise_dir = direction(_strip_party(claim)), direction(promise.chunk.text)
        steady = _STEADY.search(promise.chunk.text)
        if claim_dir and ((promise_dir and claim_dir != promise_dir) or (steady and not _STEADY.search(claim))):
            m = steady or _DIRECTION.search(promise.chunk.text)
            return ClaimCheck(claim, "contradicts", [promise], (m.group(0),) if m else (), doc=promise.doc, programme=programme)
        hedges = _hedges(retriever, promise.chunk.text, claim)
        lacking = tuple(
            dict.fromkeys(w.lower() for w in _SCOPE_RE.findall(claim) if not re.search(_W + re.escape(w) + r"(?![\wæøå])", promise.chunk.text, re.IGNORECASE))
        )
        if hedges or lacking:
            narrower = () if hedges else tuple(dict.fromkeys(m.lower() for m in _PARTIAL.findall(promise.chunk.text)))[:1]
            return ClaimCheck(claim, "weaker", [promise], hedges or narrower, lacking if not hedges else (), promise.doc, programme)
        return ClaimCheck(claim, "match", [promise], doc=promise.doc, programme=programme)
    if others:
        if other_hits is None:
            other_hits = retriever.search(claim, k=CANDIDATES, filters=Filters(doc_ids=others), abstain=False).hits
        said, other_cover = _best(terms, other_hits)
        if said is not None and other_cover >= cover_min - 1e-9:
            return ClaimCheck(claim, "elsewhere", [said], doc=said.doc, programme=programme)
    nearest = [h for h in prog_hits if h.chunk.kind == "commitment"][:1] or prog_hits[:1]
    return ClaimCheck(claim, "absent", nearest, doc=nearest[0].doc if nearest else None, programme=programme)


_PARTY = re.compile(r"^\s*(?:oslo\s+)?(?:ap|arbeiderpartiet|arbeidarpartiet|partiet)\s+(?:vil|skal|ønsker|går inn for|lover)\s+", re.IGNORECASE)


def _strip_party(claim: str) -> str:
    return _PARTY.sub("", claim)
