"""Plain-text rendering of search results for the terminal (search and chat commands)."""
from __future__ import annotations

from retrieval.models import SearchResult


def render_plain(result: SearchResult) -> str:
    if result.abstained:
        lines = ["Jeg fant ikke noe om dette i dokumentene."]
        if result.near_misses:
            lines.append("Det nærmeste jeg fant:")
            lines += [f"  – {h.doc.title}: {h.section or '(uten overskrift)'}" for h in result.near_misses]
        return "\n".join(lines)
    out = []
    for n, h in enumerate(result.hits, 1):
        out.append(f"{n}. «{h.chunk.display}»\n   — {h.doc.citation()}" + (f", {h.section}" if h.section else ""))
    return "\n\n".join(out)
