"""Hybrid search over the index: a query plan (language, long-message focus, glossary),
dense scores from two chunk views, BM25, fusion, de-duplication, highlighting, and the
answer / caveat / not-covered decision.

The pipeline, chosen by measurement on the development set (docs/retrieval.md):

1. :func:`retrieval.query.plan`: normalise; detect the language and translate Nynorsk to
   Bokmål; find the question in a long message; add the glossary's document words.
2. Dense: the question as asked (and the question part of a long message) is embedded in
   one model call; a chunk's score for one text is the mean of its two views (with and
   without section path and lead-in), the best over the texts. The Bokmål translation and
   the glossary's words feed only the lexical scores: embedded with the question, the
   glossary's words pulled unseen questions towards the glossary's own passages.
3. Two lexical scores on the expanded Bokmål question, each divided by its best: BM25 on
   Norwegian stems (weight ``bm25_weight``) and BM25 on character n-grams (weight
   ``ngram_weight``), which matches the parts of compounds ("bruktmarkedet" and
   "brukthandel") that stems cannot.
4. Passages with identical text are merged; filters restrict the candidates; passages
   scoring more than ``relative_cutoff`` below the best are dropped.
5. The decision (:mod:`retrieval.decision`): a small fitted model over several signals
   says whether the documents answer, with high or low confidence, or not at all.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunk import Chunk
from index.embed import Embedder
from index.parse import sentence_spans
from index.store import LoadedIndex, load_index
from index.tokenize import grams, tokens

from . import language
from .decision import DecisionModel, Verdict, signals
from .facts import Lexicon, QueryFacts, TopPassage, key_terms
from .models import DocInfo, Filters, Hit, SearchResult
from .hedges import Hedges
from .query import MAX_QUERY_CHARS, Glossary, QueryPlan, plan
from . import scope, topics
from .sections import SectionTree, build_trees
from .vocabulary import Vocabulary, content_words

_WORD = re.compile(r"[^\W\d_]{5,}")
PROGRAMME_MARGIN = 0.02  # "Vil Ap …": programme passages this close to the best go first
QUERY_CACHE_SIZE = 4096


class RetrieverError(Exception):
    pass


class ModelMismatch(RetrieverError):
    def __init__(self, index_model: str, model: str) -> None:
        super().__init__(f"indeksen er bygd med modellen '{index_model}', men søket bruker '{model}'")
        self.index_model, self.model = index_model, model


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 200  # best dense scores considered, besides the lexical ones
    bm25_candidates: int = 200  # best of each lexical score considered
    bm25_weight: float = 0.02
    ngram_weight: float = 0.02
    near_misses: int = 3
    relative_cutoff: float = 0.05  # drop hits scoring this far below the best (tail noise)
    use_glossary: bool = True
    use_apertium: bool = True
    use_english: bool = True  # Bokmål terms for English questions' words (retrieval.english)
    use_spelling: bool = True  # long misspelt words put in the documents' spelling (vocabulary.py)
    max_query_chars: int = MAX_QUERY_CHARS  # longer questions are searched on their first N characters


@dataclass
class Analysis:
    """Everything one search computed: the plan, the ranking and the decision's signals."""

    plan: QueryPlan
    order: list[tuple[int, float]]  # (chunk index, fused score), best first
    dense: dict[int, float]
    lexical: dict[int, float]  # BM25 on stems, divided by its best
    ngram: dict[int, float] = field(default_factory=dict)  # BM25 on character n-grams, divided by its best
    lexical_top: float = 0.0  # the best raw BM25 score on stems
    ngram_top: float = 0.0  # the best raw BM25 score on n-grams, per n-gram of the question
    signals: dict[str, float] = field(default_factory=dict)
    verdict: Verdict | None = None
    facts: QueryFacts | None = None


class Retriever:
    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        glossary: Glossary | None = None,
        config: RetrievalConfig | None = None,
        decision: DecisionModel | None = None,
    ) -> None:
        model = index.manifest["model"]["name"]
        if model != embedder.name:
            raise ModelMismatch(model, embedder.name)
        self.index = index
        self.embedder = embedder
        self.glossary = glossary or Glossary([])
        self.config = config or RetrievalConfig()
        self.decision = decision or DecisionModel.load()
        self.chunks: list[Chunk] = index.chunks
        n = len(self.chunks)
        self._ctx = index.vectors.reconstruct_n(0, n) if n else np.zeros((0, embedder.dim), np.float32)
        self._txt = index.text_vectors.reconstruct_n(0, n) if n else np.zeros((0, embedder.dim), np.float32)
        self.docs: dict[str, DocInfo] = {
            doc_id: DocInfo(
                id=doc_id,
                title=m.get("title", doc_id),
                publisher=m.get("publisher", ""),
                kind=m.get("kind", ""),
                year=m.get("year", ""),
                inferred=tuple(m.get("inferred", ())),
                url=m.get("url", ""),
                chunks=m.get("chunks", 0),
            )
            for doc_id, m in index.manifest["documents"].items()
        }
        self._doc_of = [self.docs[c.doc_id] for c in self.chunks]
        self._index_of = {c.id: i for i, c in enumerate(self.chunks)}
        programme = scope.current_programme(self.docs.values())
        self.current_programme = programme.id if programme else None  # what "Ap vil …" questions are about
        self._doc_names = scope.DocumentNames(list(self.docs.values()))
        self._doc_vocab: dict[str, Vocabulary] = {}
        self._vocab = set(index.bm25.vocab_dict)
        self._gram_vocab = set(index.ngrams.vocab_dict)
        self.vocabulary = Vocabulary((c.embed_text for c in self.chunks), self._vocab)
        self.lexicon = Lexicon(self.vocabulary, self.glossary)
        # chunks whose text repeats an earlier chunk's (merged in results)
        first: dict[str, int] = {}
        self._canonical = np.arange(n)
        for i, c in enumerate(self.chunks):
            key = " ".join(c.text.lower().split())
            self._canonical[i] = first.setdefault(key, i)
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._qlock = threading.Lock()
        self._position = {c.id: i for i, c in enumerate(self.chunks)}
        self._by_digest = {c.id.rsplit("#", 1)[-1]: c.id for c in self.chunks}
        self._by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self._by_doc.setdefault(c.doc_id, []).append(i)
        self._sections: dict[str, SectionTree] | None = None
        self.hedges = Hedges()
        language.warm_up()

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, glossary_path: Path | None = None, config: RetrievalConfig | None = None, build: str | None = None) -> "Retriever":
        index = load_index(index_dir, build)
        if glossary_path is None:
            # a build carries its glossary (older builds: the corpus folder it was built from)
            glossary_path = index.path / "glossary.toml"
            if not glossary_path.is_file():
                glossary_path = Path(index.manifest.get("corpus_dir", "")) / "glossary.toml"
        r = cls(index, embedder, Glossary.load(glossary_path), config)
        r.hedges = Hedges.load(glossary_path.with_name("hedges.toml"))
        return r

    @property
    def build(self) -> str:
        return self.index.path.name

    @property
    def sections(self) -> dict[str, "SectionTree"]:
        """Each document's section tree (built on first use)."""
        if self._sections is None:
            self._sections = build_trees(self.chunks)
        return self._sections

    # --- embedding ---------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        """Query vectors, cached: embedding is most of a search, and during a campaign the
        same questions come in again and again. The texts one question needs are embedded
        in one model call."""
        out: dict[str, np.ndarray] = {}
        with self._qlock:
            for t in texts:
                v = self._qcache.get(t)
                if v is not None:
                    self._qcache.move_to_end(t)
                    out[t] = v
        missing = [t for t in texts if t not in out]
        if missing:
            vecs = self.embedder.queries(missing).astype(np.float32)
            with self._qlock:
                for t, v in zip(missing, vecs):
                    out[t] = v
                    self._qcache[t] = v
                while len(self._qcache) > QUERY_CACHE_SIZE:
                    self._qcache.popitem(last=False)
        return [out[t] for t in texts]

    # --- scoring -------------------------------------------------------------------------

    def _bm25(self, text: str, hidden: frozenset[int] = frozenset()) -> tuple[dict[int, float], float]:
        """BM25 on stems: scores divided by the best, and the best raw score."""
        return self._lexical(self.index.bm25, [t for t in tokens(text) if t in self._vocab], hidden)

    def _ngrams(self, text: str, hidden: frozenset[int] = frozenset()) -> tuple[dict[int, float], float]:
        """BM25 on character n-grams: scores divided by the best, and the best raw score per
        n-gram of the text (a long question has more n-grams to add up)."""
        all_grams = grams(text)
        scores, top = self._lexical(self.index.ngrams, [g for g in all_grams if g in self._gram_vocab], hidden)
        return scores, top / max(1, len(all_grams))

    def _lexical(self, index, toks: list[str], hidden: frozenset[int] = frozenset()) -> tuple[dict[int, float], float]:
        if not toks:
            return {}, 0.0
        scores = index.get_scores(toks)
        if hidden:
            scores[list(hidden)] = 0.0
        top = float(scores.max())
        if top <= 0:
            return {}, 0.0
        k = min(self.config.bm25_candidates, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        return {int(i): float(scores[i]) / top for i in best if scores[i] > 0}, top

    def analyse(self, query: str, filters: Filters | None = None, use_glossary: bool | None = None, hidden: frozenset[int] = frozenset()) -> Analysis:
        """The search and its signals. ``hidden``: chunk indices to search as if they were
        not in the index (the decision learns from questions whose answer is hidden,
        :mod:`retrieval.calibrate`)."""
        c = self.config
        p = plan(
            query,
            self.glossary,
            c.use_glossary if use_glossary is None else use_glossary,
            c.use_apertium,
            c.max_query_chars,
            self.lexicon.known_word,
            c.use_english,
            self.lexicon.spell if c.use_spelling else None,
        )
        texts = p.dense_texts
        if not p.text:
            return Analysis(p, [], {}, {})
        vectors = self._embed(texts)
        # the lexical query: the question in Bokmål, the glossary's words, and the parts of
        # compounds the documents only use as parts ("bruktmarkedet": "brukt", "markedet";
        # not of words the glossary already bridges, "turistskatt": "besøksbidrag")
        # and the compounds that start with a word the documents never use alone
        # ("biomasse": "biomasseressurser")
        bare = [w for w in content_words(p.bokmal) if not self.glossary.expansions(w)]
        parts = [part for w in bare for part in (*self.vocabulary.split(w), *self.vocabulary.completions(w))]
        lex_text = " ".join([p.expanded, *parts])
        lexical, lex_top = self._bm25(lex_text, hidden)
        ngram, ngram_top = self._ngrams(lex_text, hidden)
        # Every chunk's score (a few thousand dot products: well under a millisecond); the
        # candidates are its best, and the lexical scores' best.
        q = np.stack(vectors).T
        every = (self._ctx @ q + self._txt @ q) / 2
        # a long message: a passage counts by the better of the whole and the question part
        full = every.max(axis=1)
        if hidden:
            full[list(hidden)] = -np.inf
        if filters is not None and filters.active:
            cand = [i for i in range(len(self.chunks)) if filters.allows(self.chunks[i], self._doc_of[i]) and i not in hidden]
        else:
            k = min(c.candidates, len(full))
            cand = sorted((set(np.argpartition(-full, k - 1)[:k].tolist()) | set(lexical) | set(ngram)) - hidden)
        if not cand:
            return Analysis(p, [], {}, {}, signals={}, verdict=None)
        idx = np.array(cand, dtype=np.int64)
        dense = full[idx]
        fused = (
            dense
            + c.bm25_weight * np.array([lexical.get(i, 0.0) for i in cand])
            + c.ngram_weight * np.array([ngram.get(i, 0.0) for i in cand])
        )
        order = sorted(zip(cand, fused.tolist()), key=lambda kv: -kv[1])
        dense_map = dict(zip(cand, dense.tolist()))
        a = Analysis(p, order, dense_map, lexical, ngram, lex_top, ngram_top)
        a.facts = self._facts(a)
        a.signals = signals(a.facts)
        a.verdict = self.decision.decide(a.signals)
        return a

    def _facts(self, a: Analysis) -> QueryFacts:
        """What the decision needs to know about this search, as data."""
        p = a.plan
        top = [i for i, _ in a.order[:20]]
        dense_top10 = set(sorted(a.dense, key=lambda i: -a.dense[i])[:10])
        lex_rank = set(sorted(a.lexical, key=lambda i: -a.lexical[i])[:10])
        ngram_rank = set(sorted(a.ngram, key=lambda i: -a.ngram[i])[:10])
        best: list[int] = []
        for i in top:  # the top 5 as shown: duplicates merged
            if all(self.canonical(i) != self.canonical(j) for j in best):
                best.append(i)
            if len(best) == 5:
                break
        terms = tuple(dict.fromkeys(w for t in p.english for w in key_terms(t))) if p.lang == "en" else key_terms(p.core)
        return QueryFacts(
            plan=p,
            dense=tuple(a.dense[i] for i in top),
            lexical_top=a.lexical_top,
            ngram_top=a.ngram_top,
            overlap=len(dense_top10 & lex_rank) / 10,
            overlap_ng=len(dense_top10 & ngram_rank) / 10,
            words=tuple(content_words(p.core)),
            unknown=self.lexicon.unknown(p.core) if p.lang != "en" else (),
            terms=terms,
            missing=self.lexicon.missing(p),
            top=tuple(
                TopPassage(self.chunks[i].text, self.chunks[i].embed_text, self.chunks[i].section, self.chunks[i].kind, self.chunks[i].doc_id)
                for i in best
            ),
        )

    def rank(self, query: str, method: str = "final") -> list[int]:
        """Chunk indices best first, by ``bm25``, ``dense`` (the question as asked, no
        glossary, no BM25), ``hybrid`` (the pipeline without the glossary) or ``final``
        (the whole pipeline; no decision, no filters)."""
        if method == "bm25":
            s = self._bm25(plan(query).bokmal)[0]
            return [i for i, _ in sorted(s.items(), key=lambda kv: -kv[1])]
        if method == "dense":
            v = self._embed([plan(query).text])[0]
            scores = (self._ctx @ v + self._txt @ v) / 2
            return np.argsort(-scores, kind="stable").tolist()
        a = self.analyse(query, use_glossary=method != "hybrid")
        return [i for i, _ in a.order]

    # --- the public search -------------------------------------------------------------

    def search(self, query: str, k: int = 5, filters: Filters | None = None, abstain: bool = True) -> SearchResult:
        if filters is None or not filters.active:
            named = self._doc_names.named(query)
            if named:
                # «Hva sier handlingsplanen om …»: held to the document it names; when that
                # document has nothing on it, the others answer and the reply says so
                held = self._search(query, k, Filters(doc_ids=named), abstain)
                if not held.abstained:
                    return held
                result = self._search(query, k, filters, abstain)
                if not result.abstained:
                    titles = " og ".join(f"«{self.docs[d].title}»" for d in sorted(named))
                    result.scope_note = scope.ScopeNote("named_silent", titles)
                return result
        return self._search(query, k, filters, abstain)

    def _search(self, query: str, k: int, filters: Filters | None, abstain: bool) -> SearchResult:
        a = self.analyse(query, filters)
        q = a.plan.text
        if not q or not tokens(q) and not _WORD.search(q) or not a.order:
            return SearchResult(query=query, abstained=True, language=a.plan.lang)
        order = a.order
        floor = order[0][1] - self.config.relative_cutoff
        order = [kv for kv in order if kv[1] >= floor]
        ranked: list[Hit] = []
        seen: set[int] = set()
        qtok = set(tokens(a.plan.expanded))
        for i, s in order:
            canon = int(self._canonical[i])
            if canon in seen:
                continue
            seen.add(canon)
            ranked.append(self._hit(i, s, qtok))
            if len(ranked) >= max(k, topics.MAX_HITS):
                break
        party = scope.asks_about_the_party(query) and not (filters is not None and filters.doc_ids)
        prog = self.current_programme if party else None
        if prog is not None and ranked:
            # "Vil Ap …": the current programme's passages first, when they score near the best
            top = ranked[0].score
            near = [h for h in ranked if h.chunk.doc_id == prog and h.score >= top - PROGRAMME_MARGIN]
            ranked = near + [h for h in ranked if h not in near]
        ranked = topics.promise_first(ranked)
        hits = ranked[:k]
        verdict = a.verdict
        missing = a.facts.missing if a.facts is not None else ()
        if abstain and verdict is not None and verdict.covered is False:
            return SearchResult(
                query=query,
                abstained=True,
                near_misses=hits[: self.config.near_misses],
                language=a.plan.lang,
                signals=a.signals,
                reason=verdict.reason,
                missing=missing,
            )
        confidence = verdict.confidence if (verdict is not None and abstain) else None
        why = verdict.reason if (verdict is not None and abstain) else None
        topic = self.topic_of(query, a.plan.expanded, ranked, english=a.plan.lang == "en", prefer_doc=prog)
        if topic is not None and topic.found_by == "title" and confidence == "low":
            # a section found cleanly answers a broad question: not a caveat
            confidence = "high"
        note = self._programme_silent(prog, a.plan.bokmal) if prog is not None else None
        return SearchResult(
            query=query, abstained=False, hits=hits, confidence=confidence or "high", language=a.plan.lang, signals=a.signals, reason=why, topic=topic,
            scope_note=note, missing=missing,
        )

    def topic_of(
        self, question: str, lexical_text: str, ranked: list[Hit], english: bool = False, prefer_doc: str | None = None
    ) -> "topics.TopicAnswer | None":
        """The section answering a broad question (retrieval.topics), or None; ``prefer_doc``:
        the current programme, for a question about the party."""
        return topics.find_topic(
            question,
            lexical_text,
            ranked,
            self.sections,
            self.chunks,
            self._index_of,
            split=self.vocabulary.split,
            # (an English question's own words are not the documents': only its Bokmål terms count)
            known=(lambda w: True) if english else (lambda w: self.vocabulary.known(w) or bool(self.glossary.expansions(w))),
            prefer_doc=prefer_doc,
        )

    def doc_vocabulary(self, doc_id: str) -> Vocabulary:
        """The words one document uses (compound-aware, as :attr:`vocabulary`)."""
        if doc_id not in self._doc_vocab:
            texts = [c.embed_text for c in self.chunks if c.doc_id == doc_id]
            self._doc_vocab[doc_id] = Vocabulary(texts, {t for text in texts for t in tokens(text)})
        return self._doc_vocab[doc_id]

    def _programme_silent(self, prog: str, bokmal: str) -> "scope.ScopeNote | None":
        """A party question whose key word the programme ``prog`` never uses while another
        document does: «Programmet … nevner ikke kontantstøtte»."""
        mine = self.doc_vocabulary(prog)
        for w in content_words(bokmal):
            if w in topics.GENERIC_WORDS or self.glossary.expansions(w):
                continue
            if not mine.known(w) and self.vocabulary.known(w):
                return scope.ScopeNote("programme_silent", self.docs[prog].title, w)
        return None


    def canonical(self, i: int) -> int:
        """The first chunk with the same text as chunk ``i`` (duplicates merge in results)."""
        return int(self._canonical[i])

    def unknown_words(self, text: str) -> list[str]:
        """Content words of a (Bokmål) question that the corpus never uses (see
        :meth:`retrieval.facts.Lexicon.unknown`)."""
        return list(self.lexicon.unknown(text))

    def index_of(self, chunk_id: str) -> int:
        """The position of a chunk in :attr:`chunks`."""
        return self._index_of[chunk_id]

    def hit_at(self, i: int, qtok: set[str] | None = None) -> Hit:
        """The chunk at position ``i`` as a hit (for browsing, not a search)."""
        return self._hit(i, 0.0, qtok or set())

    def _hit(self, i: int, score: float, qtok: set[str]) -> Hit:
        c = self.chunks[i]
        return Hit(chunk=c, doc=self._doc_of[i], score=score, highlight=self._highlight(c.text, qtok))

    @staticmethod
    def _highlight(text: str, qtok: set[str]) -> tuple[str, ...]:
        spans = sentence_spans(text)
        if len(spans) <= 1:
            return (text,)
        best, best_score = None, 0.0
        for a, b in spans:
            sent = text[a:b]
            st = set(tokens(sent))
            score = len(st & qtok) / (1 + 0.02 * len(sent))
            if score > best_score:
                best, best_score = sent, score
        return (best,) if best else (text[spans[0][0] : spans[0][1]],)

    # --- context for "Vis sammenheng" ------------------------------------------------------

    def chunk_by_id(self, chunk_id: str) -> tuple[int, Chunk] | None:
        i = self._position.get(chunk_id)
        return None if i is None else (i, self.chunks[i])

    def chunk_id_by_digest(self, digest: str) -> str | None:
        """The chunk id whose part after '#' is ``digest`` (what buttons carry)."""
        return self._by_digest.get(digest)

    def neighbours(self, chunk_id: str, before: int = 1, after: int = 1) -> list[Chunk]:
        """The chunk with its neighbours in the same document, in document order."""
        found = self.chunk_by_id(chunk_id)
        if found is None:
            return []
        i, c = found
        ids = self._by_doc[c.doc_id]
        pos = ids.index(i)
        return [self.chunks[j] for j in ids[max(0, pos - before) : pos + after + 1]]
