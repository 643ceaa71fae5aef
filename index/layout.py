"""The section tree of a parsed document, for layouts the line parser cannot see alone.

:func:`index.parse.parse_document` finds headings line by line and gives every unit the
path of the headings above it. That is right for documents whose headings stand above
their text. Some PDF extractions put things out of reading order; a maintainer names the
layout in ``documents.toml`` (``[document.structure] layout = …``, see
:class:`index.manifest.Structure`) and this module rebuilds the tree:

``intro-before-title`` (Arbeiderpartiets program): a chapter's opening paragraphs come
*before* its title, right after the previous section's list; a part title ("Del 3: …")
may come after the first chapter title of the part, or inside that chapter's first
section. The rules:

* the paragraphs between the end of a list and the next title belong to that title
  when a blank line sets the title apart (a title set right under the prose, a new
  frame of the layout, follows it instead);
* two titles in a row are a chapter and its first section (three: chapter, its tagline
  and its first section); four or more are a chapter whose sections are listed
  together, with their text after the list (cited as the chapter: coarse but right);
* a title with its own opening paragraphs starts a chapter; other single titles are
  sections of the current chapter; ``structure.chapters``/``subsections`` override that;
* a part title with a chapter title beside it opens the part with that chapter; a part
  title alone inside a chapter that has had no list yet moves that chapter into the part.

A coarser label is preferred to a wrong one: no label is carried across a part title.
``structure.rename`` applies to every layout.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .manifest import Structure

if TYPE_CHECKING:  # pragma: no cover - parse imports this module
    from .parse import Unit

_PART = re.compile(r"^Del\s+\d{1,2}\b")


def is_part_title(title: str) -> bool:
    """«Del 3: Trygghet i urolige tid»: a part of a document, above its chapters."""
    return bool(_PART.match(title))
_LIST_ITEM = re.compile(r"^\d{1,2}\.\s")  # "6. Ta vare på kulturarven. …": an item of a numbered list


def restructure(units: list[Unit], structure: Structure, text: str) -> list[Unit]:
    for title, opening in structure.starts:
        units = _move_title(units, title, opening)
    if structure.rename:
        _rename(units, dict(structure.rename))
    if structure.layout == "intro-before-title":
        _intro_before_title(units, structure, text)
    return units


def _move_title(units: list[Unit], title: str, opening: str) -> list[Unit]:
    """Set a title right before the passage that opens its section (``structure.starts``),
    looking back from where the extraction printed it, then forward."""
    h = next((k for k, u in enumerate(units) if u.kind == "heading" and u.text == title), None)
    if h is None:
        return units
    units[h].placed = True
    s = next((k for k in range(h - 1, -1, -1) if units[k].kind != "heading" and units[k].text.startswith(opening)), None)
    if s is not None:
        return units[:s] + [units[h]] + units[s:h] + units[h + 1 :]
    # a title printed too early ("Bygge mer" glued to the chapter's tagline): later
    s = next((k for k in range(h + 1, len(units)) if units[k].kind != "heading" and units[k].text.startswith(opening)), None)
    if s is None:
        return units
    return units[:h] + units[h + 1 : s] + [units[h]] + units[s:]


def _rename(units: list[Unit], names: dict[str, str]) -> None:
    for u in units:
        if u.kind == "heading" and u.text in names:
            u.text = names[u.text]
        u.section = tuple(names.get(t, t) for t in u.section)


def _intro_before_title(units: list[Unit], st: Structure, text: str) -> None:
    chapters, subsections, own_parts = frozenset(st.chapters), frozenset(st.subsections), frozenset(st.parts)

    def is_part(title: str) -> bool:
        return is_part_title(title) or title in own_parts

    part = chapter = sub = None
    box = False  # the chapter opened with its sections' titles listed together
    listed = False  # a list has appeared since the chapter opened
    members: list[int] = []  # units of the current chapter (moved when a late part title comes)

    def path(*names: str | None) -> tuple[str, ...]:
        return tuple(n for n in names if n)

    i, n = 0, len(units)
    while i < n:
        u = units[i]
        if u.kind != "heading":
            u.section = path(part, chapter, sub)
            u.alone = box and sub is None  # the chapter's sections are listed together: keep paragraphs apart
            members.append(i)
            listed = listed or u.kind == "bullet"
            i += 1
            continue
        j = i
        while j < n and units[j].kind == "heading":
            j += 1
        group = units[i:j]
        parts = [h for h in group if is_part(h.text)]
        titles = [h for h in group if not is_part(h.text)]
        k, intro = i - 1, []
        while k >= 0 and units[k].kind in ("paragraph", "leadin") and not _LIST_ITEM.match(units[k].text):
            intro.append(k)
            k -= 1
        # a title set right under the prose (" Trygge veier" on the next line) follows
        # the prose; a title after a blank line may be the one the prose opens
        apart = bool(intro) and text.count("\n", units[i - 1].end, units[i].start) >= 2
        claim = intro if apart and k >= 0 and (units[k].kind == "bullet" or _LIST_ITEM.match(units[k].text)) else []
        if k < 0 and intro and i == len(intro):
            claim = intro  # the document opens with the first chapter's text, then its title
        if any(h.placed for h in group):
            claim = []  # a maintainer said where this section opens

        if parts and not titles and not claim and chapter is not None and not listed and all(is_part_title(h.text) for h in parts):
            # "Del 2: …" inside the first section of the part's first chapter
            part = parts[-1].text
            for m in members:
                units[m].section = path(part, *(t for t in units[m].section if not is_part(t)))
            for h in group:
                h.section = (part,)
            i = j
            continue
        if parts:
            part, chapter, sub, box, listed, members = parts[-1].text, None, None, False, False, []
        opens = False
        if titles:
            first = titles[0].text
            if len(titles) >= 4 and box and not listed:
                sub = None  # the second half of a chapter's listed section titles
            elif (
                first in chapters
                or len(titles) >= 2
                or bool(claim)
                or bool(parts)
                or chapter is None
            ) and first not in subsections:
                opens = True
                chapter, box, listed, members = first, len(titles) >= 4, False, []
                sub = titles[-1].text if len(titles) in (2, 3) else None
            else:
                sub = first
        elif parts:
            chapter = sub = None
        here = path(part, chapter, sub)
        for k in claim:
            units[k].section = path(part, chapter) if opens else here
            members.append(k)
        for h in group:
            if is_part(h.text):
                h.section = path(part)
            elif opens and h is titles[0]:
                h.section = path(part, chapter)
            else:
                h.section = path(part, chapter, h.text) if h.text != chapter else path(part, chapter)
        members.extend(range(i, j))
        i = j
