"""Writes the broad ("topic") questions of the eval sets from a hand-written list.

Each question names the section(s) a good answer points to (``gold_sections``: section
paths, or their prefixes, as the parser cites them) and, optionally, a word that the
answering promises contain. The ``gold`` strings are then the verbatim promises of those
sections (those with the word, else all of them; the passages when it has none): any of
them in the top 5 answers the question, under the usual scoring rule
(tests/data/EVAL_FORMAT.md). Every fourth question goes
to the held-out set, which nothing is tuned on.

    python tools/make_broad_questions.py    # rewrites the b… items of both sets
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus import BUILTIN_DIR  # noqa: E402
from index.chunk import chunk_document  # noqa: E402
from index.manifest import load_corpus  # noqa: E402

P = "ap-program-2025-2029"
D1, D2, D3, D4, D5, D6 = (
    "Del 1 Arbeid og økonomi",
    "Del 2: Bedre velferd i hele landet",
    "Del 3: Trygghet i urolige tid",
    "Del 4: Energi, klima og natur",
    "Del 5: Gode steder i endring",
    "Del 6 En tryggere og mer rettferdig verden",
)
SCHOOL = (D2, "En skole der alle kan lykkes og lik rett til utdanning")
HEALTH = (D2, "Én felles helsetjeneste")
TRANSPORT = (D5, "Trygg og klimavennlig transport i hele landet")
JUSTICE = (D3, "Justis og beredskap: trygghet, nærhet og rettferdighet")
JD = "jd-trygghet-i-hverdagen-2023"
POD = "pod-veileder-kommune-politi"
OSLO = "oslo-ap-trygghet-for-alle"
MIG = "ap-migrasjonsutvalget"

# (question, language, [(doc, section path prefix), …], word the answering passages contain)
BROAD = [
    ("Hva vil Ap gjøre for eldre?", "nb", [(P, (D2, "Eldre og seniorer"))], ""),
    ("Hva er Ap sin politikk på helse?", "nb", [(P, HEALTH)], ""),
    ("Hva sier Ap om innvandring?", "nb", [(P, (D3, "Innvandring og integrering"))], ""),
    ("What is the party's policy on asylum seekers and immigration?", "en", [(P, (D3, "Innvandring og integrering"))], ""),
    ("Hva er Ap sin skolepolitikk?", "nb", [(P, SCHOOL)], ""),
    ("Hva vil Ap gjøre med barnehagene?", "nb", [(P, SCHOOL + ("Gode barnehager til alle barn",))], "barnehage"),
    ("Hva er Ap sin boligpolitikk?", "nb", [(P, (D1, "Bolig: En Bolig for alle"))], ""),
    ("Hva vil Arbeiderpartiet gjøre med politiet?", "nb", [(P, JUSTICE + ("Politiet: en viktig del av vår trygghet",)), (OSLO, ("2. Kriminalitetsbekjempelse", "Styrke politiet"))], "politi"),
    ("Hva er Ap sin klimapolitikk?", "nb", [(P, (D4, "Klima og natur skal være rammen rundt all politikk"))], ""),
    ("Hva mener Ap om landbruk?", "nb", [(P, (D1, "Næring", "Landbruk og næringsmiddelindustrien: svært viktige distriktsnæringer"))], ""),
    ("Hva er Ap sin politikk for psykisk helse?", "nb", [(P, HEALTH + ("Psykisk helse – rask, trygg og sammenhengende hjelp",))], ""),
    ("Hva sier programmet om ruspolitikk?", "nb", [(P, HEALTH + ("Ruspolitikk: tidlig innsats, hjelp og behandling",))], ""),
    ("Hva vil Ap gjøre med tannhelsen?", "nb", [(P, HEALTH + ("Tannhelse: en likeverdig del av vår felles helsetjeneste",))], ""),
    ("Hva er Ap sin forsvarspolitikk?", "nb", [(P, (D6, "Et sterkere forsvar gjør Norge tryggere"))], ""),
    ("Hva sier Ap om kultur?", "nb", [(P, (D5, "Kultur: en kultur å leve av og for"))], ""),
    ("Hva vil Ap gjøre for idretten?", "nb", [(P, (D5, "Idrett for alle"))], ""),
    ("Hva er Ap sin energipolitikk?", "nb", [(P, (D4, "Et norsk kraftsystem: Sikre rimelige og forutsigbare strømpriser"))], ""),
    ("Hva er Ap sin samferdselspolitikk?", "nb", [(P, TRANSPORT)], ""),
    ("Hva sier Ap om jernbanen?", "nb", [(P, TRANSPORT + ("En punktlig og klimavennlig jernbane",))], ""),
    ("Hva er Ap sin politikk for Nord-Norge?", "nb", [(P, (D5, "Nordområdene: Norge er tryggere med livskraftige lokalsamfunn i nord"))], ""),
    ("Hva vil Ap gjøre med pensjonene?", "nb", [(P, (D1, "Pensjon, trygd og ytelser"))], "pensjon"),
    ("Hva sier Ap om arbeidslivet?", "nb", [(P, (D1, "Arbeidsliv"))], ""),
    ("Hva er Ap sin næringspolitikk?", "nb", [(P, (D1, "Næring"))], ""),
    ("Hva vil Ap gjøre med havbruk og fiskeri?", "nb", [(P, (D1, "Næring", "Havbruk: mer verdiskaping, mer bærekraft og større ringvirkninger")), (P, (D1, "Næring", "Fiskeri: arbeidsplassene langs kysten som metter verden"))], ""),
    ("Hva sier Ap om barnevernet?", "nb", [(P, (D2, "Barnevern: trygg og god omsorg for alle barn"))], ""),
    ("Hva er Ap sin politikk på likestilling?", "nb", [(P, (D5, "Likestilling – et likestilt samfunn er et fritt samfunn"))], ""),
    ("Hva sier Ap om naturvern?", "nb", [(P, (D4, "Ta vare på naturen"))], ""),
    ("Hva er Ap sin utenrikspolitikk?", "nb", [(P, (D6,))], ""),
    ("Hva vil Ap gjøre med høyere utdanning og forskning?", "nb", [(P, (D2, "Høyere utdanning, forskning og kompetanse for fremtiden"))], ""),
    ("Hva sier Ap om digitalisering?", "nb", [(P, (D5, "Digitalisering for alle"))], ""),
    ("Hva er Ap sin familiepolitikk?", "nb", [(P, (D5, "Familiepolitikk: ulike familier, universell velferd"))], ""),
    ("Hva vil Ap gjøre mot kriminalitet blant barn og unge?", "nb", [(P, JUSTICE + ("Barne- og ungdomskriminalitet: trygghet for barn og unge",)), (OSLO, ("3. Veien ut av kriminalitet", "Barn og unge som utøver gjentakende alvorlig kriminalitet"))], ""),
    ("Hva sier Ap om sykehusene?", "nb", [(P, HEALTH + ("Sykehus: rask behandling og høy kvalitet",))], ""),
    ("Hva er Ap sin politikk for frivilligheten?", "nb", [(P, (D5, "Frivilligheten skal være fri"))], ""),
    ("Hva sier Ap om dyrevelferd?", "nb", [(P, (D4, "Ta vare på naturen", "Dyrevelferd"))], ""),
    ("Hva sier handlingsplanen om politikontakter?", "nb", [(JD, ("2 Styrking av det lokale politiet", "Styrke politikontaktordningen")), (POD, ("5. Politikontakt",))], "politikontakt"),
    ("Hva sier veilederen om politiråd?", "nb", [(POD, ("4. Politiråd",))], ""),
    ("Hva sier migrasjonsutvalget om integrering?", "nb", [(MIG, ("4. EN NY OG HELHETLIG INTEGRERINGSPOLITIKK",)), (MIG, ("5. INTEGRERING FRA DAG 1",))], ""),
    ("Hva sier Oslo Ap om forebygging?", "nb", [(OSLO, ("1. Forebygging i alle ledd",))], ""),
    ("Hva sier Oslo Arbeiderparti om områdesatsingene?", "nb", [(OSLO, ("4. Områdesatsingene – en ny innretning",))], ""),
    ("Hva står i handlingsplanen om økonomisk kriminalitet?", "nb", [(JD, ("3 Kamp mot økonomisk kriminalitet, organisert kriminalitet og vold i nære relasjoner",))], ""),
    ("Hva sier veilederen om SLT?", "nb", [(POD, ("6. SLT-samarbeidet",))], ""),
    ("Hva sier migrasjonsutvalget om barnehage?", "nb", [(MIG, ("7. GODE INTEGRERINGSARENAER OG STERKERE FELLESSKAP", "7.1. Tidlig innsats"))], "barnehage"),
    ("Kva vil Ap gjere for eldre?", "nn", [(P, (D2, "Eldre og seniorer"))], ""),
    ("Kva er politikken til Ap på skule?", "nn", [(P, SCHOOL)], ""),
    ("What does Labour want to do about climate change?", "en", [(P, (D4, "Klima og natur skal være rammen rundt all politikk"))], ""),
    ("What is Ap's health policy?", "en", [(P, HEALTH)], ""),
    ("Hva er Ap sin politikk på kollektivtrafikk?", "nb", [(P, TRANSPORT + ("En kollektivtrafikk som binder sammen by og land",))], ""),
]
# broad questions on topics the documents do not cover: "not covered" or the caveat
OFF_TOPIC = [
    ("Hva er Ap sin politikk på romfart?", "nb"),
    ("Hva er Ap sin politikk på golf?", "nb"),  # replaced «kryptovaluta», which Oslo Ap's statement does cover
    ("Hva er Ap sin politikk på ulv og rovdyr?", "nb"),
    ("Hva sier Ap om Eurovision?", "nb"),
    ("What is Ap's policy on space exploration?", "en"),
    ("Hva er Ap sin politikk på sjakk?", "nb"),
    ("Hva vil Ap gjøre med e-sport?", "nb"),
    ("Hva sier Ap om fotball-VM?", "nb"),
]


def main() -> None:
    corpus = load_corpus(BUILTIN_DIR)
    chunks = {d.id: chunk_document(d.id, corpus.read_text(d), d.structure) for d in corpus.documents}
    code = {d.id: d.source_file[:3] for d in corpus.documents}  # the sets name documents "000"…"004"
    items = []
    for n, (q, lang, sections, word) in enumerate(BROAD, 1):
        gold, gold_docs = [], []
        for doc, prefix in sections:
            inside = [c for c in chunks[doc] if c.section[: len(prefix)] == prefix]
            assert inside, f"{q}: no passage under {prefix}"
            # any promise of the section answers a broad question (with a word: those that use it)
            pick = [c for c in inside if word and word in c.text.lower()] or [c for c in inside if c.kind == "commitment"] or inside
            for c in pick[:60]:
                gold.append(" ".join(c.text.split()))
                gold_docs.append(code[doc])
        item = {"id": f"b{n:02d}", "question": q, "doc": code[sections[0][0]], "gold": gold, "gold_docs": gold_docs,
                "gold_sections": [[doc, list(prefix)] for doc, prefix in sections], "type": "broad", "difficulty": "easy"}
        if lang != "nb":
            item["lang"] = lang
        items.append(item)
    for n, (q, lang) in enumerate(OFF_TOPIC, 1):
        item = {"id": f"bn{n:02d}", "question": q, "doc": "", "gold": [], "gold_docs": [], "type": "none", "broad": True, "difficulty": "easy"}
        if lang != "nb":
            item["lang"] = lang
        items.append(item)
    held = [it for k, it in enumerate(items) if k % 4 == 3]
    dev = [it for k, it in enumerate(items) if k % 4 != 3]
    for name, part in (("dev.jsonl", dev), ("holdout.jsonl", held)):
        path = ROOT / "tests" / "data" / name
        kept = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not json.loads(line)["id"].startswith("b")]
        path.write_text("\n".join(kept + [json.dumps(it, ensure_ascii=False) for it in part]) + "\n", encoding="utf-8")
        print(f"{name}: {len(part)} broad items")


if __name__ == "__main__":
    main()
