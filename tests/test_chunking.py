"""Parsing and chunking on the real corpus: named passages come out whole, with their
lead-in and section; no noise; offsets reproduce the text; nothing of the body is lost."""
from __future__ import annotations

import json
import re
import statistics

import pytest

from index.parse import clean, parse_document
from retrieval.scoring import norm_words

from .conftest import DATA


def _find(chunks, needle):
    found = [c for c in chunks if c.text.startswith(needle)]
    assert found, f"no chunk contains {needle!r}"
    return found


@pytest.mark.parametrize(
    "doc_id, needle, text, lead_in, section_part, kind",
    [
        (
            "oslo-ap-trygghet-for-alle",
            "fjerne kontantstøtten og bruke",
            "fjerne kontantstøtten og bruke pengene på billigere barnehage",
            "Oslo Arbeiderparti vil:",
            "Barnehage og tidlig innsats",
            "commitment",
        ),
        (
            "oslo-ap-trygghet-for-alle",
            "at en spesialisert oppfølgingstjeneste",
            "at en spesialisert oppfølgingstjeneste for folk som har sonet ferdig skal plasseres under NAV",
            "Oslo Arbeiderparti vil:",
            "Bedre oppfølging etter soning",
            "commitment",
        ),
        (
            "ap-program-2025-2029",
            "fastsette et mål om å få bygd 130 000",
            "fastsette et mål om å få bygd 130 000 boliger de neste fire årene. Dette for at flere skal kunne eie sin egen bolig.",
            "Arbeiderpartiet vil:",
            None,
            "commitment",
        ),
        (
            "ap-program-2025-2029",
            "innføre en ordning med besøksbidrag",
            "innføre en ordning med besøksbidrag, som bidrar til å finansiere fellesgodene lokalt",
            "Arbeiderpartiet vil:",
            "Reiseliv",
            "commitment",
        ),
        (
            "ap-program-2025-2029",
            "holde de samlede skattene",
            "holde de samlede skattene og avgiftene på norske privatpersoner og bedrifter på samme nivå som i dag",
            "Arbeiderpartiet vil:",
            "Folk skal få bedre råd",
            "commitment",
        ),
        (
            "ap-migrasjonsutvalget",
            "NOKUT bør gis ansvaret",
            "NOKUT bør gis ansvaret for kompetansekartlegging for flyktninger som erstatning for dagens system med selvrapportering.",
            "Arbeiderpartiet vil: For asylsøkere på mottak:",
            "5.1 Kvalifisering i mottak",
            "commitment",
        ),
        (
            "pod-veileder-kommune-politi",
            "Radikaliseringskontakt:",
            None,
            "Viktige forebyggende funksjoner i politiet",
            "2.1 Politiets rolle og ansvar",
            "bullet",
        ),
    ],
)
def test_named_bullets_are_single_chunks_with_lead_in_and_section(chunks_by_doc, doc_id, needle, text, lead_in, section_part, kind):
    (chunk,) = _find(chunks_by_doc[doc_id], needle)
    if text is not None:
        assert chunk.text == text
    assert chunk.lead_in == lead_in
    assert chunk.kind == kind
    if section_part:
        assert any(section_part in s for s in chunk.section), chunk.section
    assert lead_in in chunk.embed_text


def test_sub_bullets_stay_with_their_parent(chunks_by_doc):
    (chunk,) = _find(chunks_by_doc["ap-migrasjonsutvalget"], "Innføre en solidaritetspott i bistandsbudsjettet")
    assert "Den skal finansieres gjennom en opptrapping opp til minst 5 milliarder kroner." in chunk.text
    assert " o " not in chunk.text  # the sub-bullet marks are not part of the quote


def test_numbered_sections_build_the_path(chunks_by_doc):
    (chunk,) = _find(chunks_by_doc["pod-veileder-kommune-politi"], "Veilederen gir råd og anbefalinger")
    assert chunk.section == ("1. Innledning", "1.1 Formål")
    (chunk,) = [c for c in chunks_by_doc["jd-trygghet-i-hverdagen-2023"] if "100 nye studieplasser" in c.text]
    assert chunk.section[0] == "2 Styrking av det lokale politiet"
    assert chunk.section[-1] == "Flere studieplasser ved Politihøgskolen"


NOISE = [
    re.compile(r"\b\d{1,3}\s?Arbeiderpartiet\b(?! vil)"),  # running page header "11Arbeiderpartiet"
    re.compile(r"\.{4,}\s*\d"),  # table of contents with dotted leaders
    re.compile(r"\t\d{1,3}$"),
    re.compile(r"Innholdsfortegnelse"),
]


def test_no_chunk_contains_page_headers_or_toc_lines(chunks_by_doc):
    for doc_id, chunks in chunks_by_doc.items():
        for c in chunks:
            for pat in NOISE:
                assert not pat.search(c.text), f"{doc_id} {c.id}: {c.text[:120]}"
    # the tables of contents are gone: their entries never appear as chunks of their own
    jd = chunks_by_doc["jd-trygghet-i-hverdagen-2023"]
    assert not [c for c in jd if c.text.startswith("Flere passkontorer 24")]
    pod = chunks_by_doc["pod-veileder-kommune-politi"]
    assert not [c for c in pod if "Fast møtestruktur....." in c.text]


def test_footnote_markers_and_emphasis_are_removed(chunks_by_doc):
    pod = chunks_by_doc["pod-veileder-kommune-politi"]
    (chunk,) = [c for c in pod if "berører politiets virkefelt" in c.text]
    assert "virkefelt. For kommunene" in chunk.text  # was "virkefelt.¹ For"
    assert not any("**" in c.text or "¹" in c.text for c in pod)
    # footnote texts are dropped
    assert not [c for c in pod if c.text.startswith("Jf. politiinstruksen")]


def test_offsets_reproduce_every_chunk(corpus, chunks_by_doc):
    for d in corpus.documents:
        src = corpus.read_text(d)
        for c in chunks_by_doc[d.id]:
            assert clean(src[c.start : c.end]) == c.text, c.id


def test_chunks_do_not_overlap_and_ids_are_unique(chunks_by_doc):
    ids = set()
    for chunks in chunks_by_doc.values():
        spans = sorted((c.start, c.end) for c in chunks)
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 <= b0
        for c in chunks:
            assert c.id not in ids
            ids.add(c.id)


def test_every_body_sentence_lands_in_a_chunk(corpus, chunks_by_doc):
    """Every line of running text (ending a sentence, 60+ characters) lies inside a chunk;
    only numbered headings and footnotes may stay outside."""
    for d in corpus.documents:
        src = corpus.read_text(d)
        covered = bytearray(len(src))
        for c in chunks_by_doc[d.id]:
            covered[c.start : c.end] = b"\1" * (c.end - c.start)
        pos = 0
        for line in src.split("\n"):
            start, pos = pos, pos + len(line) + 1
            t = line.strip()
            if len(t) < 60 or not re.search(r"[.!?]\s*$", t):
                continue
            if re.match(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]|^\d+(\.\d+)+\.?\s", t):
                continue
            assert any(covered[start : start + len(line)]), f"{d.id}: lost {t[:100]!r}"


def test_gold_answers_fall_inside_single_chunks(chunks_by_doc, corpus):
    by_prefix = {d.source_file[:3]: d.id for d in corpus.documents}
    total = inside = 0
    for line in open(DATA / "dev.jsonl", encoding="utf-8"):
        item = json.loads(line)
        for gold, gdoc in zip(item["gold"], item["gold_docs"]):
            total += 1
            g = " ".join(norm_words(gold))
            inside += any(g in " ".join(norm_words(c.text)) for c in chunks_by_doc[by_prefix[gdoc]])
    assert inside / total >= 0.97


def test_chunk_sizes_suit_a_chat_reply(chunks_by_doc):
    lengths = [len(c.text) for chunks in chunks_by_doc.values() for c in chunks]
    assert statistics.median(lengths) < 700
    assert max(lengths) <= 2500


def test_parser_handles_a_synthetic_extraction():
    src = (
        "1. Innledning\n\nDette er en lang innledning som går over\nflere linjer og slutter her.\n\n"
        "Partiet vil:\n\n• gjøre noe viktig for\n\nalle innbyggere\n• gjøre noe annet\n\n"
        " 7 Arbeiderpartiet\n\n2. Neste kapittel\n\nMer tekst.\n"
    )
    units = [u for u in parse_document(src) if u.kind != "heading"]
    kinds = [(u.kind, u.text) for u in units]
    assert ("bullet", "gjøre noe viktig for alle innbyggere") in kinds
    assert units[-1].section == ("2. Neste kapittel",)
    assert not any("Arbeiderpartiet" in t for _, t in kinds)
    bullets = [u for u in units if u.kind == "bullet"]
    assert all(b.lead_in == "Partiet vil:" and b.commitment for b in bullets)


def test_pull_quotes_and_cross_references_are_not_headings(chunks_by_doc):
    sections = {part for c in chunks_by_doc["ap-program-2025-2029"] for part in c.section}
    for fragment in (
        "Vi skal fortsette gjenreisningen av boligpolitikken Bygge mer",
        "Vi må ta godt vare på turområdene våre",
        "Les mer om boligpolitikk i byområder i kapitlet",
    ):
        assert fragment not in sections
    # the real headings around them are kept
    assert "Bolig: En Bolig for alle" in sections and "Frivilligheten skal være fri" in sections


def test_a_foreword_is_not_filed_under_the_title_page(chunks_by_doc):
    first = chunks_by_doc["jd-trygghet-i-hverdagen-2023"][0]
    assert first.text.startswith("Regjeringen ønsker levende og trygge lokalsamfunn")
    assert first.section == ("Forord ved statsråden",)
