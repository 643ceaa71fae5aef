"""Do the documents answer the question? Three outcomes: an answer (high confidence), an
answer shown with a caveat (low confidence), and "not covered".

No single score separates the two: a question about another party's policy or about
today's news can be as close to some passage as a real question is. So the verdict comes
from a small logistic model over several signals of one search (:func:`signals`), fitted
on the development set with cross-validation (:mod:`retrieval.calibrate`). Its weights
and its two thresholds live in ``decision.json`` beside this file:

* p < ``t_none``: not covered. Fitted so that answerable questions almost never land here:
  telling a volunteer "not covered" when the party has a policy is the worst error.
* ``t_none`` ≤ p < ``t_high``: answered, with the caveat.
* p ≥ ``t_high``: answered.
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .facts import QueryFacts, coverage

log = logging.getLogger("policybot.decision")

MODEL_PATH = Path(__file__).with_name("decision.json")

# The signals one search yields. The fitted model (decision.json) names the ones it uses;
# `long` is reported for evaluation groups, the two "unmatched"/rule signals feed decide().
FEATURES = (
    "dense1",  # best dense score
    "peak",  # best minus the mean of the top 20
    "bm25",  # log(1 + best raw BM25 score on stems)
    "ngram",  # best raw BM25 score on character n-grams, per n-gram of the question
    "overlap",  # share of the dense top 10 that BM25 on stems also ranks top 10
    "overlap_ng",  # share of the dense top 10 that BM25 on n-grams also ranks top 10
    "unknown",  # share of content words the corpus never uses, even in compounds (0 for English)
    "lang_en",
    "other_party",  # the question asks about another party (names one before any mention of Ap)
    "long",  # a long message whose question part was searched too
    "year_missing",  # the question names a year that none of the top 3 passages mentions
    "now_ref",  # the question asks about today, last year, this campaign: current events
    "person",  # asks who won, leads or became something: the documents are policy, not people
    "other_party_unmatched",  # names another party that none of the top 3 passages mentions
    "number_missing",  # asks for a quantity, and none of the top 3 passages has a number
    "quantity",  # asks for a quantity ("hvor mange", "how much")
    "missing",  # a key term or name of the question occurs nowhere in the documents (retrieval.facts)
    "same_section",  # largest share of the top 5 passages in one section
    "same_part",  # largest share of the top 5 in one top-level part of one document
    "cover1",  # share of the question's key terms the best passage uses
    "cover3",  # the same, best of the top 3
    "cover_commit",  # the same, best commitment among the top 5 (0 when none)
    "no_terms",  # the question has no key term at all ("hva med det?")
)
_QUANTITY = re.compile(r"\b(hvor mange|hvor mye|kor mange|kor mykje|how many|how much|antall)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NOW = re.compile(
    r"\b(i dag|i går|i morgen|i år|i fjor|nå for tiden|akkurat nå|denne valgkampen|denne uka|denne uken|forrige uke|"
    r"i høst|i vår|today|yesterday|tomorrow|this year|last year|last week|right now|currently|this campaign|"
    # election results and polls: events, not policy
    r"valgresultat\w*|oppslutning\w*|meningsmåling\w*|stemmer fikk|fikk \w+ stemmer|prosent av stemmene|"
    r"how many votes|election results?|opinion polls?)\b",
    re.IGNORECASE,
)

# "Who won / who is the leader / who became director": the documents are policy, not people.
_PERSON = re.compile(
    r"\b(?:hvem|kven|who)\s+(?:\w+\s+){0,2}?(?:(?:vant|vann|won)\b|(?:er|ble|blir|vart|vert|var|is|was|became|will)\b.*"
    r"(?:leder|leiar|sjef|direktør|ordfører|ordførar|kandidat|minister|president|valgt|leader|elected|candidate|mayor))",
    re.IGNORECASE,
)
_PERSON_EVENT = re.compile(r"\b(?:hvem|kven|who)\s+(?:\w+\s+){0,2}?(?:vant|vann|won|ble|vart|was|became)\b", re.IGNORECASE)
_NAME_OR_YEAR = re.compile(r"\b[A-ZÆØÅ][\wæøåÆØÅ'-]*|\b(?:19|20)\d\d\b")


def _asks_for_person(text: str) -> bool:
    """Who won, who became, or who holds a post somewhere named: «Hvem vant valget?»,
    «Hvem ble ny politidirektør i 2024?», «Kven er leiar i Oslo Arbeidarparti?». Not a
    role the documents describe: «Hvem er leder for politirådet?» names no one and no
    place, and the guide says who leads it."""
    m = _PERSON.search(text)
    if m is None:
        return False
    return bool(_PERSON_EVENT.search(text) or _NAME_OR_YEAR.search(text, m.start() + 1))


# The party's name, also in the genitive ("Senterpartiets politikk", "Høyres syn", "FrPs").
_OTHER_PARTY = re.compile(
    r"\b(høyre|frp|fremskrittspartiet|sv|sosialistisk venstreparti|krf|kristelig folkeparti|venstre|mdg|"
    r"miljøpartiet de grønne|rødt|senterpartiet|sp|pasientfokus|inp|the conservatives|conservative party|"
    r"progress party|socialist left|christian democrats|centre party|liberal party|green party|red party)(?:'s|'|-s|s)?\b",
    re.IGNORECASE,
)


# Ap, or the party the user talks to ("dere"), named as such.
_AP = re.compile(r"\b(?:ap|aps|arbeiderpartiet|arbeiderpartiets|arbeidarpartiet|arbeidarpartiets|labour|labour's|dere|dykk)\b", re.IGNORECASE)


def _about_other_party(text: str) -> bool:
    """The question asks about another party's position: it names one, before any mention
    of Ap. «Hva synes KrF om Arbeiderpartiets abortpolitikk?» does; «Vil Ap reversere
    Høyre-regjeringens skattekutt?» and «Er Ap enig med SV om oljeleting?» ask about Ap."""
    other = _OTHER_PARTY.search(text)
    if other is None:
        return False
    ap = _AP.search(text)
    return ap is None or other.start() < ap.start()


def signals(f: QueryFacts) -> dict[str, float]:
    """The decision's inputs, from the facts one search gathered (no searcher needed)."""
    p = f.plan
    d = list(f.dense) or [0.0]
    d_sorted = sorted(d, reverse=True)
    unknown = 0.0
    if p.lang != "en" and f.words:
        unknown = len(f.unknown) / len(f.words)
    years = set(_YEAR.findall(p.bokmal))
    top3 = f.top[:3]
    top_text = " ".join(t.embed_text for t in top3)
    parties = {m.lower() for m in _OTHER_PARTY.findall(p.bokmal)} if _about_other_party(p.bokmal) else set()
    top_lower = top_text.lower()
    quantity = bool(_QUANTITY.search(p.bokmal))
    # how the best passages cluster: the largest share of the top 5 in one section, and in
    # one top-level part of one document
    sections = [t.section for t in f.top]
    parts = [(t.doc_id,) + t.section[:1] for t in f.top]
    same_section = max((sections.count(x) for x in sections), default=0) / max(1, len(sections))
    same_part = max((parts.count(x) for x in parts), default=0) / max(1, len(parts))
    # how much of what the question is about the best passages say
    cover = [coverage(f.terms, t.embed_text) for t in f.top]
    commit = [c for c, t in zip(cover, f.top) if t.kind == "commitment"]
    return {
        "quantity": float(quantity),
        "number_missing": float(quantity and not any(re.search(r"\d", t.text) for t in top3)),
        "other_party_unmatched": float(bool(parties) and not any(re.search(rf"\b{re.escape(x)}\b", top_lower) for x in parties)),
        "year_missing": float(bool(years) and not any(y in top_text for y in years)),
        "now_ref": float(bool(_NOW.search(p.bokmal))),
        "person": float(_asks_for_person(p.text) or _asks_for_person(p.bokmal)),
        "dense1": d_sorted[0],
        "peak": d_sorted[0] - sum(d) / len(d),
        "bm25": math.log1p(f.lexical_top),
        "ngram": f.ngram_top,
        "overlap": f.overlap,
        "overlap_ng": f.overlap_ng,
        "unknown": unknown,
        "lang_en": float(p.lang == "en"),
        "other_party": float(bool(parties)),
        "long": float(p.focus is not None),
        "missing": float(bool(f.missing)),
        "same_section": same_section,
        "same_part": same_part,
        "cover1": cover[0] if cover else 0.0,
        "cover3": max(cover[:3], default=0.0),
        "cover_commit": max(commit, default=0.0),
        "no_terms": float(not f.terms),
    }


# Why the documents do not (fully) answer, when a signal says so plainly; the bot tells the
# user, so "not covered" is not read as "the party has no policy on this".
REASONS = (
    "other_party",  # asks what another party thinks; the best passages never mention it
    "person",  # asks who won, leads or became something
    "current",  # asks about today's figures or news, or a year the passages never mention
    "no_figure",  # asks for a number, and none of the best passages has one
)


def _current(s: dict[str, float]) -> bool:
    """The question points at today's news or a year the best passages never mention."""
    return s.get("now_ref", 0.0) > 0 or s.get("year_missing", 0.0) > 0


def _outside(s: dict[str, float]) -> bool:
    """The question points outside what policy documents hold, whatever its words match."""
    return _current(s) or any(s.get(k, 0.0) > 0 for k in ("other_party", "person", "number_missing"))


def reason(s: dict[str, float], covered: bool) -> str | None:
    """The plain reason behind a verdict, or None. The first three explain a "not
    covered". Two are worth saying with an answer too: a figure for today or a year the
    passages never mention ("Hvor mange asylsøkere kom i fjor?": the documents are
    programmes and guides, not this year's statistics), and a figure the best passages do
    not hold (the policy may be there, the amount is not)."""
    current = _current(s)
    if not covered:
        if s.get("other_party_unmatched", 0.0) > 0:
            return "other_party"
        if s.get("person", 0.0) > 0:
            return "person"
        if current:
            return "current"
    elif current and s.get("quantity", 0.0) > 0 and not s.get("long", 0.0):
        return "current"
    if s.get("number_missing", 0.0) > 0:
        return "no_figure"
    return None


@dataclass(frozen=True)
class Verdict:
    p: float  # the model's probability that the documents answer
    covered: bool
    confidence: str | None  # "high" or "low" when covered, None when not
    reason: str | None = None  # one of REASONS, or None


@dataclass
class DecisionModel:
    features: tuple[str, ...]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    t_none: float
    t_high: float
    note: str = ""
    fitted_on: str = ""  # evaluate.items_digest of the set it was fitted on
    word_rules: bool = True  # the key-term rules of decide(); off for the always-caveat fallback

    def probability(self, s: dict[str, float]) -> float:
        z = self.intercept
        for f, m, sc, w in zip(self.features, self.mean, self.scale, self.coef):
            z += w * (s.get(f, 0.0) - m) / (sc or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def decide(self, s: dict[str, float]) -> Verdict:
        """The model's verdict, with rules no 180-item fit can learn reliably:

        * a question that names another party, and whose best passages never mention that
          party, asks about that party's policy: not covered (the documents are Ap's and
          the government's);
        * English questions have no lexical evidence at all (the corpus is Norwegian), so
          a low score is not evidence that the topic is missing: they get the caveat, not
          "not covered", unless the question points outside the documents by itself;
        * confidence from the question's own words, which does not depend on how scores
          fall on a new kind of question: an answer one of whose three best passages uses
          every key term of the question is shown without the caveat, unless the question
          points outside the documents (today's figures, a year they do not mention,
          another party, a person, a figure the passages lack): "Hva sier programmet om
          lokalsykehus?" is, "Hvor mange lærere mangler det i dag?" is not; one whose key
          term the documents never
          write, and whose best passages use none of its key terms, is shown with it
          ("Har Ap lovet å senke formuesskatten?": the reply names the missing word).
        """
        p = self.probability(s)
        if s.get("other_party_unmatched", 0.0) > 0:
            return Verdict(p, False, None, reason(s, False))
        if p < self.t_none and not (s.get("lang_en", 0.0) > 0 and not _current(s)):
            return Verdict(p, False, None, reason(s, False))
        high = p >= self.t_high
        if self.word_rules:
            if s.get("cover3", 0.0) >= 1.0 and not s.get("missing", 0.0) and not s.get("no_terms", 0.0) and not _outside(s):
                high = True
            if s.get("missing", 0.0) > 0 and s.get("cover3", 0.0) <= 0.0:
                high = False
        return Verdict(p, True, "high" if high else "low", reason(s, True))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
            "t_none": self.t_none,
            "t_high": self.t_high,
            "note": self.note,
            "fitted_on": self.fitted_on,
            "word_rules": self.word_rules,
        }

    @classmethod
    def from_json(cls, d: dict) -> "DecisionModel":
        return cls(
            features=tuple(d["features"]),
            mean=list(d["mean"]),
            scale=list(d["scale"]),
            coef=list(d["coef"]),
            intercept=float(d["intercept"]),
            t_none=float(d["t_none"]),
            t_high=float(d["t_high"]),
            note=d.get("note", ""),
            fitted_on=d.get("fitted_on", ""),
            word_rules=bool(d.get("word_rules", True)),
        )

    @classmethod
    def always_answer(cls) -> "DecisionModel":
        """Used when no fitted model can be read: never says "not covered", always adds
        the caveat. Wrong in the safe direction."""
        return cls(FEATURES, [0.0] * len(FEATURES), [1.0] * len(FEATURES), [0.0] * len(FEATURES), 0.0, 0.0, 1.0, "fallback", word_rules=False)

    @classmethod
    def load(cls, path: Path | None = None) -> "DecisionModel":
        path = path or MODEL_PATH
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("decision model %s unreadable (%s): answering everything with the caveat", path, type(e).__name__)
            return cls.always_answer()

    def save(self, path: Path | None = None) -> None:
        Path(path or MODEL_PATH).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
