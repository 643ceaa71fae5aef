"""The documents' structure as a tree of sections, from the chunks' section paths (in
document order), for browsing (/tema). A node is a section path; its id is its position
in the document's list of paths, stable for one index build."""
from __future__ import annotations

from dataclasses import dataclass, field

from index.chunk import Chunk
from index.layout import is_part_title


@dataclass
class SectionNode:
    id: int
    path: tuple[str, ...]
    children: list[int] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)  # indices into the retriever's chunks, directly here
    total: int = 0  # chunks here and below

    @property
    def title(self) -> str:
        return self.path[-1] if self.path else ""


class SectionTree:
    """One document's sections. Node 0 is the document itself (the empty path)."""

    def __init__(self, doc_id: str, chunks: list[Chunk], positions: list[int]) -> None:
        self.doc_id = doc_id
        self.nodes: list[SectionNode] = [SectionNode(0, ())]
        self._by_path: dict[tuple[str, ...], int] = {(): 0}
        for pos in positions:
            path = tuple(chunks[pos].section)
            node = self._node(path)
            self.nodes[node].chunks.append(pos)
            for depth in range(len(path) + 1):
                self.nodes[self._by_path[path[:depth]]].total += 1

    def _node(self, path: tuple[str, ...]) -> int:
        if path in self._by_path:
            return self._by_path[path]
        parent = self._node(path[:-1])
        node = SectionNode(len(self.nodes), path)
        self.nodes.append(node)
        self._by_path[path] = node.id
        self.nodes[parent].children.append(node.id)
        return node.id

    def node_of(self, path: tuple[str, ...]) -> int | None:
        return self._by_path.get(tuple(path))

    def get(self, node: int) -> SectionNode | None:
        return self.nodes[node] if 0 <= node < len(self.nodes) else None

    def under(self, node: int) -> list[int]:
        """The chunk positions in a section and its subsections, in document order."""
        out, stack = [], [node]
        while stack:
            n = self.nodes[stack.pop()]
            out.extend(n.chunks)
            stack.extend(n.children)
        return sorted(out)

    def parent(self, node: int) -> int | None:
        n = self.get(node)
        if n is None or not n.path:
            return None
        return self._by_path[n.path[:-1]]


def chapter_of(path: tuple[str, ...]) -> tuple[str, ...]:
    """The chapter a section belongs to: its first level, or its first two when the first
    is a part («Del 2: …»)."""
    return tuple(path[:2]) if path and is_part_title(path[0]) else tuple(path[:1])


def build_trees(chunks: list[Chunk]) -> dict[str, SectionTree]:
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by_doc.setdefault(c.doc_id, []).append(i)
    return {doc: SectionTree(doc, chunks, positions) for doc, positions in by_doc.items()}
