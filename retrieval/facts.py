"""What one search found out about a question, as plain data: the searcher computes it
(:meth:`retrieval.search.Retriever.analyse`) and hands it to the decision
(:func:`retrieval.decision.signals`), which never calls back into the searcher.

Besides the ranking's scores, it holds the *vocabulary facts* of the question: its key
terms (the words that say what it is about), which of them the documents never use, and
how well the best passages cover them. Those transfer to questions nobody tuned for: a
question about «formuesskatt» whose key term occurs nowhere in the documents is not
answered by a general tax passage, however close its score.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.tokenize import STOPWORDS, tokens

from .query import QueryPlan

if TYPE_CHECKING:  # pragma: no cover
    from .query import Glossary
    from .vocabulary import Vocabulary

_WORD = re.compile(r"[^\W\d_]+")
KEY_MIN = 4  # shorter words say too little to be a question's key term ("ulv" is the exception we accept to lose)
# Words that say how a question is asked, not what it is about ("Har Ap lovet å …",
# "Hva sier programmet om …"): never key terms.
META = frozenset(
    """
    lovet lover love lovt løfte løftet løfter lovnad mener meiner synes tenker tror politikk politikken politikkene
    politiske politisk partiet partiets programmet programmene program dokumentene dokumentet dokument sier seier
    standpunkt syn planer planene plan ønsker ønske gjøre gjort gjøres hvordan korleis hvorfor kvifor hvilke hvilken
    kva kven hvem noen nokon noe noko også bare mye mange veldig egentlig arbeiderpartiet arbeidarpartiet sosialdemokratene
    regjeringen regjeringa stortinget norge norsk norske landet folk helst tenkt tenke gjerne skulle skulla kunne burde
    dere dykk deres dykkar tenkjer meina meine finnes fins altså akkurat sånn slik slike eksempel
    about think does what which policy policies party labour norway norwegian plan plans promise promised their there
    would could should want wants going """.split()
)


def key_terms(text: str) -> tuple[str, ...]:
    """The words that say what ``text`` is about: lower-cased, four letters or more, not
    stop words or question words, each once, in order."""
    out: list[str] = []
    for w in _WORD.findall(text.lower()):
        if len(w) >= KEY_MIN and w not in STOPWORDS and w not in META and w not in out:
            out.append(w)
    return tuple(out)


_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-ZÆØÅ][a-zæøåéü]{3,})\b")


def names(text: str) -> tuple[str, ...]:
    """Capitalised words that do not start a sentence, neighbours joined ("Donald
    Trump", "Eurovision"): proper names, in any language."""
    out: list[str] = []
    last_end = -2
    for m in _NAME.finditer(text.strip()):
        w = m.group(1)
        if w.lower() in META or w.lower() in STOPWORDS:
            continue
        if out and m.start() == last_end + 1:
            out[-1] = out[-1] + " " + w
        elif w not in out:
            out.append(w)
        last_end = m.end()
    return tuple(out)


def display(word: str) -> str:
    """A missing term as the reply names it: the word without a definite ending
    ("formuesskatten" → "formuesskatt"), else as written."""
    stems = tokens(word)
    stem = stems[0] if stems else word
    if word.startswith(stem) and word[len(stem) :] in ("en", "et", "ene", "a", "ane", "er", "erne", "ens", "ets"):
        return stem
    return word


def covers(term: str, text: str, stems: frozenset[str]) -> bool:
    """``text`` (lower case; ``stems`` its stems) uses ``term``: the same stem, or the
    term's stem inside a word ("lokalsykehus" in "lokalsykehusene", "barnehage" in
    "kommunebarnehage"; not "barnehage" in "barnehus")."""
    st = tokens(term)
    if not st:
        return False
    s = st[0]
    return s in stems or (len(s) >= 5 and s in text)


def coverage(terms: tuple[str, ...], text: str) -> float:
    """Share of ``terms`` that ``text`` uses (1.0 when there are none)."""
    if not terms:
        return 1.0
    low = text.lower()
    stems = frozenset(tokens(low))
    return sum(covers(t, low, stems) for t in terms) / len(terms)


@dataclass(frozen=True)
class TopPassage:
    """One of the best passages, as the decision needs it."""

    text: str  # what is quoted
    embed_text: str  # with section path and lead-in
    section: tuple[str, ...]
    kind: str  # commitment, bullet, paragraph
    doc_id: str


@dataclass(frozen=True)
class QueryFacts:
    """One search, as data: scores of the ranking and the question's vocabulary facts."""

    plan: QueryPlan
    dense: tuple[float, ...]  # dense scores of the fused top 20, in fused order
    lexical_top: float  # best raw BM25 score on stems
    ngram_top: float  # best raw BM25 score on n-grams, per n-gram of the question
    overlap: float  # share of the dense top 10 that BM25 on stems ranks top 10
    overlap_ng: float  # the same for BM25 on n-grams
    words: tuple[str, ...]  # content words of the question (five letters or more)
    unknown: tuple[str, ...]  # those the documents never use, even in compounds, and the glossary does not know
    terms: tuple[str, ...]  # key terms (retrieval.facts.key_terms; for English the Bokmål terms found for it)
    missing: tuple[str, ...]  # key terms and names that occur nowhere in the documents, not even inside a word
    top: tuple[TopPassage, ...]  # the fused top 5


@dataclass(frozen=True)
class Lexicon:
    """The documents' words and the glossary: what the query planner and the searcher ask
    about words, handed to them as data (no searcher to call back into)."""

    vocabulary: "Vocabulary"
    glossary: "Glossary"

    def known_word(self, word: str) -> bool:
        """A stop word, or a word whose stems the documents use (decides whether a Nynorsk
        question needs Apertium)."""
        return word in STOPWORDS or self.vocabulary.uses(word)

    def spell(self, text: str) -> str:
        """Misspelt long words in the documents' spelling; a word the glossary knows is the
        user's own ("ballonger" is not a misspelt "balkonger")."""
        return self.vocabulary.correct(text, keep=lambda w: bool(self.glossary.expansions(w)))

    def unknown(self, text: str) -> tuple[str, ...]:
        """Content words of a (Bokmål) question that the corpus never uses, not even inside
        a compound, and the glossary does not know: a sign that the question is about
        something else."""
        return tuple(w for w in self.vocabulary.unknown(text) if not self.glossary.expansions(w))

    def missing(self, plan: QueryPlan) -> tuple[str, ...]:
        """The question's names and key terms that the documents never write, not even
        inside a longer word (a glossary entry does not change what they write): what the
        reply names («Dokumentene nevner ikke formuesskatt»). Names as written («Donald
        Trump»: missing when any of its words is), key terms without a definite ending.
        English questions: names only (their other words are English)."""
        found = names(plan.text if plan.lang == "en" else plan.bokmal)
        terms = () if plan.lang == "en" else key_terms(plan.core)
        out: list[str] = []
        seen: set[str] = set()
        for w, is_name in [(n, True) for n in found] + [(t, False) for t in terms]:
            parts = [x for x in w.lower().split() if len(x) >= 4]
            if len(w) < 5 or not parts or any(x in seen for x in parts):
                continue
            seen.update(parts)
            if not all(self.vocabulary.occurs(x) for x in parts):
                out.append(w if is_name else display(w.lower()))
        return tuple(out)
