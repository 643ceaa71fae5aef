"""Hybrid search over the index: dense (two views) + BM25, glossary expansion, fusion,
de-duplication, highlighting and abstention.

The pipeline, chosen by measurement on the development set (docs/retrieval.md):

1. The question is normalised; the corpus glossary adds the documents' words for everyday
   ones ("turistskatt" → "besøksbidrag").
2. Dense: the question (and, when the glossary fired, the expanded question) is embedded;
   a chunk's dense score is the mean of its two views (with and without its section path
   and lead-in), the better of the two questions counting.
3. BM25 (Norwegian stems) on the expanded question, divided by its best score, is added
   with weight ``bm25_weight``.
4. Passages with identical text are merged; filters restrict the candidates; passages
   scoring more than ``relative_cutoff`` below the best are dropped (tail noise: on the
   dev set this removes ~8 % of shown passages and no answer).
5. Abstention: the documents are judged not to answer when the best dense score is very
   low, or when the question has a content word the corpus never uses (and the glossary
   does not know) and the best dense score is only middling. Thresholds are calibrated on
   the ``none`` items (docs/retrieval.md).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunk import Chunk
from index.embed import Embedder
from index.parse import sentence_spans
from index.store import LoadedIndex, load_index
from index.tokenize import STOPWORDS, tokens

from .models import DocInfo, Filters, Hit, SearchResult
from .query import Glossary, normalise

_WORD = re.compile(r"[^\W\d_]{5,}")
QUERY_CACHE_SIZE = 4096


class RetrieverError(Exception):
    pass


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 200  # per dense view and query, from FAISS
    bm25_candidates: int = 200
    bm25_weight: float = 0.03
    abstain_floor: float = 0.84  # below this best dense score: always abstain
    abstain_oov: float = 0.88  # unknown content word and best dense below this: abstain
    near_misses: int = 3
    relative_cutoff: float = 0.05  # drop hits scoring this far below the best (tail noise)


class Retriever:
    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        glossary: Glossary | None = None,
        config: RetrievalConfig | None = None,
    ) -> None:
        model = index.manifest["model"]["name"]
        if model != embedder.name:
            raise RetrieverError(
                f"Indeksen er bygd med modellen '{model}', men søket bruker '{embedder.name}'. "
                "Bygg indeksen på nytt med `policybot index build`, eller velg samme modell."
            )
        self.index = index
        self.embedder = embedder
        self.glossary = glossary or Glossary([])
        self.config = config or RetrievalConfig()
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
        self._vocab = set(index.bm25.vocab_dict)
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

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, glossary_path: Path | None = None) -> "Retriever":
        index = load_index(index_dir)
        if glossary_path is None:
            corpus_dir = Path(index.manifest.get("corpus_dir", ""))
            glossary_path = corpus_dir / "glossary.toml"
        return cls(index, embedder, Glossary.load(glossary_path))

    @property
    def abstain_threshold(self) -> float:
        return self.config.abstain_oov

    # --- scoring ---------------------------------------------------------------------

    def _embed_query(self, text: str) -> np.ndarray:
        """Query vectors are cached: embedding is 90 % of a search, and during a campaign
        the same questions come in again and again."""
        with self._qlock:
            v = self._qcache.get(text)
            if v is not None:
                self._qcache.move_to_end(text)
                return v
        v = self.embedder.query(text).astype(np.float32)
        with self._qlock:
            self._qcache[text] = v
            while len(self._qcache) > QUERY_CACHE_SIZE:
                self._qcache.popitem(last=False)
        return v

    def _query_vectors(self, query: str, expanded: str) -> list[np.ndarray]:
        v = self._embed_query(query)
        if expanded == query:
            return [v]
        return [v, self._embed_query(expanded)]

    def _dense_candidates(self, vectors: list[np.ndarray]) -> set[int]:
        k = min(self.config.candidates, len(self.chunks))
        ids: set[int] = set()
        for v in vectors:
            for store in (self.index.vectors, self.index.text_vectors):
                _, found = store.search(v[None, :], k)
                ids.update(int(i) for i in found[0] if i >= 0)
        return ids

    def _dense_exact(self, idx: np.ndarray, vectors: list[np.ndarray]) -> np.ndarray:
        """Mean of the two views, the better of the plain and the expanded question."""
        return np.max([(self._ctx[idx] @ v + self._txt[idx] @ v) / 2 for v in vectors], axis=0)

    def _bm25(self, text: str) -> dict[int, float]:
        toks = [t for t in tokens(text) if t in self._vocab]
        if not toks:
            return {}
        scores = self.index.bm25.get_scores(toks)
        top = float(scores.max())
        if top <= 0:
            return {}
        k = min(self.config.bm25_candidates, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        return {int(i): float(scores[i]) / top for i in best if scores[i] > 0}

    def _scores(
        self, query: str, only: list[int] | None = None, use_glossary: bool = True
    ) -> tuple[dict[int, float], dict[int, float], str]:
        """Fused and dense scores of the candidates (or of exactly the chunks ``only``)."""
        expanded = self.glossary.expand(query) if use_glossary else query
        vectors = self._query_vectors(query, expanded)
        lexical = self._bm25(expanded)
        cand = sorted(only if only is not None else self._dense_candidates(vectors) | set(lexical))
        if not cand:
            return {}, {}, expanded
        idx = np.array(cand, dtype=np.int64)
        dense = self._dense_exact(idx, vectors)
        w = self.config.bm25_weight
        fused = {i: float(d) + w * lexical.get(i, 0.0) for i, d in zip(cand, dense.tolist())}
        return fused, dict(zip(cand, dense.tolist())), expanded

    def rank(self, query: str, method: str = "final") -> list[int]:
        """Chunk indices best first, by ``bm25``, ``dense`` (the plain question, no
        glossary, no BM25), ``hybrid`` (the pipeline without the glossary) or ``final``
        (the whole pipeline; no abstention, no filters)."""
        q = normalise(query)
        if method == "bm25":
            s = self._bm25(q)
        elif method == "dense":
            v = [self._embed_query(q)]
            cand = np.array(sorted(self._dense_candidates(v)), dtype=np.int64)
            s = dict(zip(cand.tolist(), self._dense_exact(cand, v).tolist()))
        elif method == "hybrid":
            s = self._scores(q, use_glossary=False)[0]
        else:
            s = self._scores(q)[0]
        return [i for i, _ in sorted(s.items(), key=lambda kv: -kv[1])]

    # --- the public search -------------------------------------------------------------

    def search(self, query: str, k: int = 5, filters: Filters | None = None, abstain: bool = True) -> SearchResult:
        q = normalise(query)
        if not q or not tokens(q) and not _WORD.search(q):
            return SearchResult(query=query, abstained=True)
        filters = filters or Filters()
        only = None
        if filters.active:
            only = [i for i in range(len(self.chunks)) if filters.allows(self.chunks[i], self._doc_of[i])]
        fused, dense, expanded = self._scores(q, only)
        order = sorted(fused.items(), key=lambda kv: -kv[1])
        if order:
            floor = order[0][1] - self.config.relative_cutoff
            order = [kv for kv in order if kv[1] >= floor]
        hits: list[Hit] = []
        seen: set[int] = set()
        qtok = set(tokens(expanded))
        for i, s in order:
            canon = int(self._canonical[i])
            if canon in seen:
                continue
            seen.add(canon)
            hits.append(self._hit(i, s, qtok))
            if len(hits) >= k:
                break
        best_dense = max(dense.values(), default=0.0)
        if abstain and self._should_abstain(q, best_dense):
            return SearchResult(query=query, abstained=True, near_misses=hits[: self.config.near_misses])
        return SearchResult(query=query, abstained=False, hits=hits)

    def unknown_words(self, query: str) -> list[str]:
        """Content words of the question that the corpus never uses and the glossary does
        not know: a sign that the question is about something else."""
        if self.glossary.expansions(query):
            return []
        out = []
        for w in _WORD.findall(query.lower()):
            if w in STOPWORDS:
                continue
            stems = tokens(w)
            if stems and all(s not in self._vocab for s in stems):
                out.append(w)
        return out

    def _should_abstain(self, query: str, best_dense: float) -> bool:
        c = self.config
        if best_dense < c.abstain_floor:
            return True
        return best_dense < c.abstain_oov and bool(self.unknown_words(query))

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
