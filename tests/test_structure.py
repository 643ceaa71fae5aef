"""The layout the code promises: no import circles in the bot, channels that never import
each other, one command table, one place where button data is parsed."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str = "bot") -> dict[str, set[str]]:
    mods = {}
    for p in (ROOT / package).rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {}
    for name, p in mods.items():
        pkg = name if p.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for a in node.names:
                    if f"{module}.{a.name}" in mods:
                        deps.add(f"{module}.{a.name}")
                    elif module in mods:
                        deps.add(module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in mods}
        graph[name] = deps - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_bot_has_no_import_circles():
    # a package importing its own submodules (bot.cli, bot.channels.telegram) is no circle
    graph = {k: {d for d in v if not d.startswith(k + ".")} for k, v in _imports().items()}
    assert _cycles(graph) == []


def test_retrieval_has_no_import_circles_not_even_for_type_hints():
    # the decision is handed the search's facts (retrieval.facts); it never imports the searcher
    graph = _imports("retrieval")
    assert _cycles(graph) == []
    assert "retrieval.search" not in graph["retrieval.decision"] and "retrieval.search" not in graph["retrieval.facts"]


def test_channels_never_import_each_other_and_nothing_imports_a_channel():
    graph = _imports()
    channels = ("bot.channels.telegram", "bot.channels.terminal", "bot.channels.web")
    for name, deps in graph.items():
        mine = next((c for c in channels if name == c or name.startswith(c + ".")), None)
        for d in deps:
            theirs = next((c for c in channels if d == c or d.startswith(c + ".")), None)
            if theirs is None or theirs == mine:
                continue
            # only the CLI (which starts them) may name a channel from outside
            assert mine is None and name.startswith("bot.cli"), f"{name} imports {d}"


def test_button_data_is_parsed_in_one_place():
    """Only bot.buttons splits callback strings; nobody matches them with a pattern."""
    for p in (ROOT / "bot").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        if p.name != "buttons.py":
            assert ".pattern()" not in text and ".parse(" not in text, p
