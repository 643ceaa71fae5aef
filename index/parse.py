"""Repair a PDF text extraction into a document model of citable units.

The source files are text extractions of PDFs: lines wrapped mid-sentence, bullet items
broken by blank lines, sub-bullets marked ``o``, running page headers (`` 6 Arbeiderpartiet``),
tables of contents with dotted leaders or tabs, figure labels in capitals, footnotes.

``parse_document`` classifies each line, then assembles lines into units:

* ``heading``   numbered (``3.1 Tittel``, ``1.`` + ``Tittel``, a lone ``2`` line then a title,
                ``Del 1 …``) or a short title line; headings build the section path.
* ``paragraph`` wrapped lines re-joined (across blank lines when the sentence goes on).
* ``bullet``    one item re-joined across wrapped lines and blank lines; ``level`` 1 for
                ``o`` sub-bullets; ``lead_in`` is the "Arbeiderpartiet vil:" sentence that
                introduces the list.
* ``leadin``    the paragraph that introduces a bullet list (ends with ``:``).

Noise is dropped: page headers and page numbers, table-of-contents lines, figure labels,
photo credits and footnote texts (footnote *markers* in running text are removed by
:func:`clean`). Every unit keeps ``start``/``end`` character offsets into the file such that
``clean(text[start:end]) == unit.text``.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .layout import restructure
from .manifest import Structure

# Superscript digits used as footnote markers, and markdown emphasis.
_FOOTNOTE_MARKS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_CLEAN_DROP = re.compile(f"[{_FOOTNOTE_MARKS}*]+")
_WS = re.compile(r"\s+")


_LINE_BULLET = re.compile(r"(?m)^[ \t]*(?:[•◦▪●‣]|o(?=[ \t])|-(?=[ \t]))[ \t\u00a0]*")


def clean(raw: str) -> str:
    """The canonical text of a source range: bullet marks at line starts (sub-bullets
    inside a chunk), footnote markers and markdown emphasis removed, every run of
    whitespace collapsed to one space."""
    return _WS.sub(" ", _CLEAN_DROP.sub("", _LINE_BULLET.sub("", raw))).strip()


# --- line classification -------------------------------------------------------------

_PAGE_HEADER = re.compile(r"^\s*\d{1,3}\s*Arbeiderpartiet\s*$|^\s*Arbeiderpartiet\s*\d{1,3}\s*$")
_PAGE_NUMBER = re.compile(r"^\s*(side\s+)?\d{1,3}\s*(av\s+\d{1,3})?\s*$", re.I)
_TOC_LINE = re.compile(r"(\.{4,}|…{2,}|\t)\s*\d{1,3}\s*$")
_TOC_TITLE = re.compile(r"^\s*(innhold|innholdsfortegnelse)\s*$", re.I)
_LEGEND = re.compile(r"^\s*\d{1,2}\t")
_PHOTO = re.compile(r"^\s*(foto|illustrasjon|kilde)\s*:", re.I)
_FOOTNOTE_TEXT = re.compile(f"^\\s*[{_FOOTNOTE_MARKS}]+\\s")
_BULLET = re.compile(r"^\s*(?P<mark>[•▪●◦‣]|-(?=\s)|\*(?=\s)|o(?=\s))[\s\u00a0]+")
_NUMBERED = re.compile(
    r"^\s*(?P<num>(?:\d{1,2}\.)*\d{1,2})\.?\s+(?P<title>[A-ZÆØÅ«][^\n]{1,110})$"
)
_PART = re.compile(r"^\s*(?P<num>Del\s+\d{1,2}):?\s+(?P<title>[A-ZÆØÅ][^\n]{1,80})$")
_LONE_NUMBER = re.compile(r"^\s*(?P<num>\d{1,2})\s*$")
_TERMINAL = ".!?:;"
# A line ending in one of these words is a wrapped line, never a title.
_FUNCTION_WORDS = frozenset(
    "og i av for til med på som å er en et ei vil at om fra eller mot men der den det de "
    "har skal kan må ved under etter over mellom gjennom uten både enn så seg sin sitt".split()
)
_LEADIN_COMMITMENT = re.compile(
    r"(\bvil(\s+derfor)?|\b(arbeiderparti(et)?|regjeringen|vi))\s*:(\s|$)", re.I
)


@dataclass
class Line:
    start: int  # offset of the first non-space character
    end: int  # offset just past the last non-space character
    text: str  # the stripped line
    kind: str = "text"  # blank, noise, bullet, heading, lone_number, text
    level: int = 0
    number: str = ""
    content_start: int = 0  # for bullets: offset past the bullet mark
    trailing_space: bool = False  # wrapped lines of a PDF extraction often keep one
    indented: bool = False  # starts with white space: a new text frame of the PDF layout
    forced: bool = False  # a title a maintainer named (structure.headings)


@dataclass
class Unit:
    kind: str  # heading, paragraph, bullet, leadin
    start: int
    end: int
    text: str
    section: tuple[str, ...] = ()
    level: int = 0
    lead_in: str = ""
    commitment: bool = False
    alone: bool = False  # never packed with its neighbours (index.layout: a chapter whose sections' text is not told apart)
    placed: bool = False  # a heading a maintainer placed (structure.starts): it claims no text before it


def _is_caps_label(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 6 and all(c.isupper() for c in letters) and len(s) <= 70


def _split_lines(text: str, glued: tuple[str, ...] = ()) -> list[Line]:
    """One Line per source line; a title glued to the end of a line of running text
    (``structure.headings``) becomes a line of its own."""
    lines: list[Line] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            s = pos + lead
            e = s + len(stripped)
            head = None if _NOTE.match(stripped) else next((g for g in glued if stripped.endswith(" " + g)), None)
            if head is not None:
                cut = e - len(head)
                first = text[s:cut].rstrip()
                lines.append(Line(start=s, end=s + len(first), text=first, content_start=s, trailing_space=False, indented=lead > 0))
                lines.append(Line(start=cut, end=e, text=head, content_start=cut, indented=True, forced=True))
                pos += len(raw) + 1
                continue
            lines.append(Line(start=s, end=e, text=stripped, content_start=s, trailing_space=raw[-1:].isspace(), indented=lead > 0))
        else:
            lines.append(Line(start=pos, end=pos, text="", kind="blank"))
        pos += len(raw) + 1
    if glued:
        _force_headings(lines, glued)
    return lines


def _force_headings(lines: list[Line], titles: tuple[str, ...]) -> None:
    """A title a maintainer named that stands on its own line or lines, inside running
    text ("… spres desinformasjon og" / "Medier: grunnmuren for" / "ytringsfrihet og
    demokrati" / "ulovlig innhold raskt …"): one forced heading line."""
    wanted = {" ".join(t.split()) for t in titles}
    for k, ln in enumerate(lines):
        if ln.kind == "blank" or ln.forced:
            continue
        one = " ".join(ln.text.split())
        if one in wanted:
            ln.forced = True
            continue
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        if nxt is not None and nxt.kind != "blank" and f"{one} {' '.join(nxt.text.split())}" in wanted:
            ln.text, ln.end, ln.forced = f"{one} {' '.join(nxt.text.split())}", nxt.end, True
            nxt.kind, nxt.text, nxt.start = "blank", "", nxt.end


_NOTE = re.compile(r"^(?:\*\s*(?:les mer|se )|Les mer om .{0,120}\bi kapit(?:let|tel)\b)", re.I)


def _classify(lines: list[Line], notes: tuple[str, ...] = ()) -> None:
    in_note = False
    for i, ln in enumerate(lines):
        if ln.kind == "blank":
            in_note = False
            continue
        t = ln.text
        if _NOTE.match(t) or any(t.startswith(n) for n in notes) or (in_note and not ln.indented):
            # "*les mer om … i kapitlet …", a page-bottom note: neither a passage nor a
            # heading; its wrapped lines go with it up to a blank line or a new frame
            ln.kind, in_note = "noise", True
            continue
        in_note = False
        if _TOC_TITLE.match(t) or (_TOC_LINE.search(t) and len(t) < 140):
            ln.kind = "noise"
            continue
        if (
            _PAGE_HEADER.match(t)
            or _LEGEND.match(t)
            or _PHOTO.match(t)
            or _FOOTNOTE_TEXT.match(t)
        ):
            ln.kind = "noise"
            continue
        m = _BULLET.match(t)
        if m:
            ln.kind = "bullet"
            ln.level = 1 if m.group("mark") in ("o", "◦") else 0
            ln.content_start = ln.start + m.end()
            continue
        m = _LONE_NUMBER.match(t)
        if m:
            ln.kind, ln.number = "lone_number", m.group("num")
            continue
        m = _PART.match(t) or _NUMBERED.match(t)
        if m and _plausible_number(m.group("num")) and t[-1] not in ",;" and not _SENT_END.search(m.group("title")):
            ln.kind, ln.number = "heading", m.group("num")
            continue
        prev_blank = i == 0 or lines[i - 1].kind == "blank"
        if _is_caps_label(t) and t[-1] not in _TERMINAL and prev_blank:
            # Figure and box labels in capitals ("NYE TJENESTESTEDER"), title-page lines.
            ln.kind = "noise"
            continue


def _plausible_number(num: str) -> bool:
    if num.startswith("Del"):
        return True
    parts = [int(p) for p in num.split(".")]
    return parts[0] <= 20 and all(p <= 30 for p in parts) and len(parts) <= 4


def _next_content(lines: list[Line], i: int) -> tuple[Line | None, bool]:
    """The next non-blank line after i, and whether blank lines lie between."""
    for j in range(i + 1, len(lines)):
        if lines[j].kind != "blank":
            return lines[j], j > i + 1
    return None, True


# Short unnumbered lines that read as a sentence, not a title: pull quotes in the first
# person plural and cross-references.
_FRONT_MATTER = re.compile(r"^(?:Forord|Sammendrag|Innledning)\b")
_NOT_A_HEADING = re.compile(
    r"^(?:Vi (?:skal|må|vil|kan|har|ønsker)|Jeg |Les mer|Se også|Se kapittel|For å "
    r"|(?:Oslo )?Arbeiderparti(?:et)? (?:vil|skal|må|mener|ønsker|har|går|er)|Regjeringen (?:vil|skal))\b"
)


def _starts_lower(s: str) -> bool:
    c = s[:1]
    return bool(c) and (c.islower() or c in "(–-,")


def _is_title_line(ln: Line, nxt: Line | None, blank_after: bool, max_len: int = 80) -> bool:
    """A short line that reads as a heading: no closing punctuation, capital start,
    and the next line does not continue it as running text."""
    t = ln.text
    if len(t) > max_len or len(t.split()) > max_len // 6 or t[-1] in _TERMINAL + ",-–":
        return False
    if not (t[0].isupper() or t[0].isdigit()):
        return False
    if t[0] in "«\"(" or _SENT_END.search(t):
        return False
    if t.split()[-1].lower() in _FUNCTION_WORDS and not blank_after:
        return False  # "… gjenreisningen av" / "Husbanken. …": a wrapped line
    if nxt is not None and nxt.kind == "text" and _starts_lower(nxt.text):
        return False
    return True


# --- assembly -----------------------------------------------------------------------


def parse_document(text: str, structure: Structure | None = None) -> list[Unit]:
    """Parse one document's text into headings, paragraphs, lead-ins and bullets; a
    maintainer's :class:`Structure` hints correct what the layout does not show."""
    structure = structure or Structure()
    not_headings = frozenset(structure.not_headings)
    lines = _split_lines(text, structure.headings)
    _classify(lines, structure.notes)
    position = {id(ln): k for k, ln in enumerate(lines)}

    units: list[Unit] = []
    numbered: list[tuple[int, str]] = []  # (level, "3.1 Title")
    run: list[str] = []  # consecutive unnumbered headings
    last_was_heading = False
    lead_in = ""
    lead_commit = False
    section_lead = ""  # the last "… vil:" lead-in of the current section
    cur: Unit | None = None
    blank_since_cur = False
    prev_line_len = 0
    top_number = 0
    list_next = 0  # the number the next item of a numbered list would carry

    def section() -> tuple[str, ...]:
        return tuple(t for _, t in numbered) + tuple(run)

    starts = [ln.start for ln in lines]

    def next_line_after(offset: int) -> Line | None:
        j = bisect.bisect_right(starts, offset)
        while j < len(lines) and lines[j].kind in ("blank", "noise"):
            j += 1
        return lines[j] if j < len(lines) else None

    def close() -> None:
        nonlocal cur
        if cur is None:
            return
        unit, cur = cur, None
        unit.text = clean(text[unit.start : unit.end])
        if unit.kind == "paragraph" and _wrapped_title(unit.text) and not _NOT_A_HEADING.match(unit.text) and unit.text not in not_headings:
            # A title wrapped over two lines ("Pensjon: trygt, rettferdig og godt å" /
            # "leve av") with running text, not a list, after it.
            after = next_line_after(unit.end)
            if after is None or after.kind != "bullet":
                heading(unit.text, unit.start, unit.end, None)
                return
        units.append(unit)

    def heading(title: str, s: int, e: int, level: int | None) -> None:
        nonlocal run, last_was_heading, lead_in, lead_commit, list_next, section_lead, cur
        if level is None and (_NOT_A_HEADING.match(title) or title in not_headings):
            # a pull quote ("Vi skal fortsette …") or a cross-reference ("Les mer om …"):
            # running text set apart by the layout, not a section
            close()
            cur = Unit("paragraph", s, e, "", section=section())
            last_was_heading = False
            return
        list_next = 0
        section_lead = ""
        close()
        if level is None:
            # a foreword starts the document proper: it does not belong under the
            # title page's lines ("Handlingsplan mot 2025" › "Forord ved statsråden")
            if last_was_heading and run and not _FRONT_MATTER.match(title):
                run = (run + [title])[-2:]
            else:
                run = [title]
        else:
            while numbered and numbered[-1][0] >= level:
                numbered.pop()
            numbered.append((level, title))
            run = []
        units.append(Unit("heading", s, e, title, section=section(), level=level or 0))
        last_was_heading = True
        lead_in, lead_commit = "", False

    i = 0
    prev_content: Line | None = None
    while i < len(lines):
        if i > 0 and lines[i - 1].kind != "blank":
            prev_content = lines[i - 1]
        ln = lines[i]
        if ln.kind == "blank":
            blank_since_cur = True
            i += 1
            continue
        if ln.kind == "noise":
            close()
            i += 1
            continue
        nxt, blank_after = _next_content(lines, i)

        if ln.kind == "lone_number":
            # "2" on its own line, then the chapter title (handlingsplan layout).
            if nxt is not None and nxt.kind == "text" and _is_title_line(nxt, None, False, max_len=120):
                j = position[id(nxt)]
                heading(f"{ln.number} {clean(nxt.text)}", ln.start, nxt.end, 1)
                i = j + 1
                continue
            close()  # a stray page number
            i += 1
            continue

        if ln.kind == "heading":
            num = ln.number
            level = 0 if num.startswith("Del") else len(num.split("."))
            # "1. …" right after "… initiativ:" is a list item; after an open list item it
            # is the next chapter ("• … NAV" then "4. Områdesatsingene – en ny innretning")
            last = cur if cur is not None else (units[-1] if units else None)
            after_colon = last is not None and text[last.start : last.end].rstrip().endswith(":")
            wraps = nxt is not None and not blank_after and nxt.kind == "text" and _starts_lower(nxt.text)
            if wraps or level == 1 and (
                (top_number and int(num) <= top_number)
                or after_colon
                or (list_next and int(num) == list_next)
            ):
                # "1. …" after chapter 3, or after "… initiativ:", is an item of a
                # numbered list, not a chapter.
                ln.kind, ln.content_start = "bullet", ln.start
                list_next = int(num) + 1 if level == 1 else list_next
            elif level == 1 and ln.text.endswith("."):
                ln.kind = "text"  # "3. Ivareta … flukt." outside a list is a sentence
            else:
                if level == 1:
                    top_number = int(num)
                title, end = clean(ln.text), ln.end
                if _is_caps_label(ln.text) and nxt is not None and nxt.kind == "noise" and _is_caps_label(nxt.text):
                    # A heading in capitals wrapped onto a second line ("… SVART I" / "NORDEN").
                    title, end = f"{title} {clean(nxt.text)}", nxt.end
                    i = position[id(nxt)]
                heading(title, ln.start, end, level)
                i += 1
                continue

        if ln.kind == "bullet":
            close()
            if (
                len(units) > 1
                and units[-1].kind == "paragraph"
                and units[-2].kind == "bullet"
                and not units[-1].text.endswith(":")
                and _wrapped_title(units[-1].text)
                and not _NOT_A_HEADING.match(units[-1].text)
            ):
                # "Barnevern: trygg og god / omsorg for alle barn" between two lists is
                # the next section's title, not a lead-in; the section's "… vil:" goes on
                p = units.pop()
                keep_lead = section_lead
                heading(p.text, p.start, p.end, None)
                section_lead = keep_lead
                if section_lead:
                    lead_in, lead_commit = section_lead, True
            if units and units[-1].kind == "paragraph" and not last_was_heading and (
                units[-1].text.endswith(":")
                or (len(units[-1].text) < 100 and units[-1].text[-1] not in _TERMINAL)
            ):
                p = units[-1]
                p.kind = "leadin"
                lead_in = last_sentence(p.text)
                if len(units) > 1 and units[-2].kind == "paragraph" and units[-2].text.endswith(":"):
                    # "Arbeiderpartiet vil:" then "For asylsøkere på mottak:"
                    units[-2].kind = "leadin"
                    outer = last_sentence(units[-2].text)
                    if _LEADIN_COMMITMENT.search(outer):
                        section_lead = outer
                    lead_in = f"{outer} {lead_in}"
                lead_commit = bool(_LEADIN_COMMITMENT.search(lead_in))
                if lead_commit:
                    section_lead = section_lead or lead_in
                elif section_lead:
                    # "For asylsøkere på mottak:" under an earlier "Arbeiderpartiet vil:"
                    lead_in, lead_commit = f"{section_lead} {lead_in}", True
            cur = Unit(
                "bullet",
                ln.content_start,
                ln.end,
                "",
                section=section(),
                level=ln.level,
                lead_in=lead_in,
                commitment=lead_commit,
            )
            last_was_heading = False
            blank_since_cur = False
            prev_line_len = len(ln.text)
            i += 1
            continue

        if ln.forced:
            heading(clean(ln.text), ln.start, ln.end, None)
            i += 1
            continue
        # A text line: continuation of the open unit, a heading, or a new paragraph.
        if cur is not None and _continues(cur, ln, nxt, blank_since_cur, prev_line_len, text, prev_content):
            cur.end = ln.end
            blank_since_cur = False
            prev_line_len = len(ln.text)
            i += 1
            continue
        if _is_title_line(ln, nxt, blank_after):
            heading(clean(ln.text), ln.start, ln.end, None)
            i += 1
            continue
        close()
        list_next = 0
        cur = Unit("paragraph", ln.start, ln.end, "", section=section())
        last_was_heading = False
        blank_since_cur = False
        prev_line_len = len(ln.text)
        i += 1
    close()
    return restructure(units, structure, text)


def _wrapped_title(t: str) -> bool:
    return (
        len(t) <= 90
        and len(t.split()) <= 14
        and t[:1].isupper()
        and t[-1] not in _TERMINAL + ",-–»\")"
        and not _SENT_END.search(t)
    )


def _closed(u: Unit, text: str) -> bool:
    tail = text[u.start : u.end].rstrip()
    return bool(tail) and tail[-1] in _TERMINAL + "»\")"


def _is_leadin_line(t: str) -> bool:
    return t.endswith(":") and len(t) < 80 and bool(_LEADIN_COMMITMENT.search(t))


def _continues(
    cur: Unit, ln: Line, nxt: Line | None, blank_between: bool, prev_len: int, text: str, prev: Line | None = None
) -> bool:
    t = ln.text
    if not blank_between and ln.indented and t[:1].isupper() and (cur.kind == "bullet" or _closed(cur, text)):
        # " Vi lever av …" after a closed paragraph, " Sykefraværet skal ned" or a
        # chapter's opening text after a list item: a line that starts a new frame of the
        # layout starts a new unit (in the corpus no list item goes on in a new frame)
        return False
    if not blank_between and cur.kind == "paragraph" and _is_leadin_line(t) and _wrapped_title(clean(text[cur.start : cur.end])):
        return False  # "En rettferdig og bærekraftig / innvandringspolitikk" then "Arbeiderpartiet vil:"
    if not blank_between:
        # Consecutive lines: a wrapped line of the same unit, unless this line starts a
        # lead-in or a heading squeezed under the unit by the layout:
        # "• … barnehage\n Skolenes rolle som forebyggende arena\nOslo Arbeiderparti vil:".
        if cur.kind == "bullet" and prev is not None and not prev.trailing_space and t[:1].isupper():
            # "… fellesgodene lokalt" (no trailing space: the item ended) / " Handels- og …"
            return False
        if _starts_lower(t) or not (cur.kind == "bullet" or _closed(cur, text)):
            return False if _is_leadin_line(t) and cur.kind == "bullet" else True
        if _is_leadin_line(t):
            return False
        return not (_is_title_line(ln, nxt, False) and nxt is not None and _is_leadin_line(nxt.text))
    if _closed(cur, text):
        return False
    if _starts_lower(t) or t[:1].isdigit():
        return True
    if nxt is not None and _is_leadin_line(nxt.text) and _is_title_line(ln, nxt, False):
        return False  # "Politiet som tillitsskapende aktør …" over "Oslo Arbeiderparti vil:"
    # An unfinished paragraph whose last line filled the column width goes on after a
    # blank line even when the next word is capitalised ("… til \n\nNorge").
    return prev_len >= 70


_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ«\"(])")


def last_sentence(s: str) -> str:
    """The last sentence of ``s`` (the "Arbeiderpartiet vil:" of a lead-in paragraph)."""
    return _SENT_END.split(s)[-1].strip()


def split_sentences(s: str) -> list[str]:
    """Split running Norwegian text into sentences (conservative: a split needs
    sentence-final punctuation followed by a capital, a quote or a parenthesis)."""
    return [p for p in (x.strip() for x in _SENT_END.split(s)) if p]


def sentence_spans(s: str) -> list[tuple[int, int]]:
    """Character spans of :func:`split_sentences` within ``s``."""
    spans = []
    pos = 0
    for m in _SENT_END.finditer(s):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(s)))
    return [(a, b) for a, b in spans if b > a]
