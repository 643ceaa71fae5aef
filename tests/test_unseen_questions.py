"""What questions nobody tuned for taught the pipeline (tests/data/holdout.jsonl, nothing
fitted on it): English without function words, Nynorsk written with its plural endings,
compounds the documents only use as parts, and who-won/who-leads questions."""
from __future__ import annotations

import dataclasses

import pytest

from retrieval import calibrate, english, language
from retrieval.evaluate import evaluate, load_items
from retrieval.query import plan
from retrieval.scoring import answers
from retrieval.search import RetrievalConfig, Retriever

from .conftest import DATA


@pytest.mark.parametrize(
    "question, lang",
    [
        ("Will Labour train more midwives?", "en"),  # no "what"/"does": marker words missed it
        ("Free dental care for everyone?", "en"),
        ("Police presence in rural areas", "en"),
        ("Kan kommunane stille klimakrav til byggjeplassar?", "nn"),  # only endings and "ggj" say Nynorsk
        ("Hva skal skje med politiets båter?", "nb"),  # "skje" is Bokmål, not Nynorsk "-kje"
        ("Kanskje Ap vil øke barnetrygden?", "nb"),
        ("Airbnb-utleie ødelegger nabolaget vårt. Hva vil Ap gjøre?", "nb"),
        ("Norgespris", "nb"),
    ],
)
def test_language_is_detected(question, lang):
    assert language.detect(question) == lang


def test_compounds_of_words_the_documents_use_are_known(retriever):
    v = retriever.vocabulary
    for word in ("biomasse", "kriminalpolitikk", "bruktmarkedet", "oppdrettsnæringen"):
        assert v.known(word), word
    for word in ("cannabis", "monarkiet", "eurovision", "surrogati", "pitbull"):
        assert not v.known(word), word
    assert v.split("bruktmarkedet") == ("brukt", "markedet")
    assert v.split("markedet") == ()


@pytest.mark.parametrize(
    "question, lang, passage",
    [
        ("biomasse", "nb", "utvikle en handlingsplan for norske biomasseressurser"),
        ("Will Labour train more midwives?", "en", "utdanne flere jordmødre"),
        ("Hva er Aps kriminalpolitikk i korte trekk?", "nb", "forebygge bedre, oppklare mer, reagere raskere"),
        ("Kan kommunane stille klimakrav til byggjeplassar?", "nn", "stille flere klimakrav i planarbeidet"),
    ],
)
def test_unseen_questions_find_their_passage(retriever, question, lang, passage):
    result = retriever.search(question, k=5)
    assert result.language == lang
    assert not result.abstained, "the documents answer this: 'not covered' would be the worst error"
    assert any(answers(h.chunk.display, [passage]) for h in result.hits), [h.chunk.text[:60] for h in result.hits]


def test_a_compound_question_is_not_called_not_covered(retriever):
    # "bruktmarkedet" matches no stem; its parts do ("salg av brukte varer", "brukthandel")
    result = retriever.search("Hva gjør Ap for bruktmarkedet?", k=10)
    assert not result.abstained
    assert any("brukt" in h.chunk.text for h in result.hits)


@pytest.mark.parametrize("question", ["Hvem vant stortingsvalget i 2025?", "Kven er leiar i Oslo Arbeidarparti?"])
def test_who_won_or_who_leads_is_not_covered(retriever, question):
    result = retriever.search(question, k=5)
    assert result.abstained and result.near_misses


@pytest.mark.parametrize(
    "question, abstained, reason",
    [
        ("Hva mener Høyre om formuesskatten?", True, "other_party"),
        ("Hva er Senterpartiets politikk for ulv og rovdyr?", True, "other_party"),  # genitive
        ("Hvem vant stortingsvalget i 2025?", True, "person"),
        # the topic (teacher recruitment) is covered, the figure is not: either verdict,
        # as long as the reply says the documents hold no current figures
        ("Hvor mange lærere mangler det i norsk skole i dag?", None, "current"),
        ("Hva sa Støre i partilederdebatten i går?", True, "current"),
        # last year's figure: said above whatever passages are shown
        ("Hvor mange asylsøkere kom til Norge i fjor?", None, "current"),
        # the documents never say by how many kroner: said with an answer or a "not covered"
        ("Hvor mange kroner skal barnetrygden økes med per barn?", None, "no_figure"),
        ("Vil Ap fjerne kontantstøtten?", False, None),
    ],
)
def test_a_verdict_says_why_when_a_signal_says_so_plainly(retriever, question, abstained, reason):
    result = retriever.search(question, k=5)
    assert abstained is None or result.abstained is abstained
    assert result.reason == reason
    assert result.to_json()["reason"] == reason


@pytest.mark.parametrize(
    "question",
    ["Vil Ap reversere Høyre-regjeringens kutt i formuesskatten?", "Er Ap enig med SV om oljeleting i Lofoten?"],
)
def test_aps_view_of_another_partys_policy_is_not_another_partys_question(retriever, question):
    # the rule "names another party that the passages never mention: not covered" is for
    # questions about that party's view; here the subject is Ap, and the documents answer
    result = retriever.search(question, k=5)
    assert not result.abstained and result.reason != "other_party"
    assert result.signals["other_party"] == 0.0


def test_a_question_about_a_number_the_passages_state_has_no_reason(retriever):
    result = retriever.search("Hvor mange kommuner kan en politikontakt ha ansvar for?", k=5)
    assert not result.abstained and result.reason is None
    assert any("inntil tre kommuner" in h.chunk.text for h in result.hits)


@pytest.mark.parametrize(
    "question, passage",
    [
        ("Hvem er leder for politirådet?", "Politiråd er et formalisert samarbeid mellom kommune og lokalt politi"),
        ("Hvem er leder for et politidistrikt?", "politidistrikt"),
    ],
)
def test_who_leads_a_body_the_documents_describe_is_a_role_not_a_person(retriever, question, passage):
    # names no one, no place, no year: the guide's description of the role answers it
    result = retriever.search(question, k=5)
    assert result.signals["person"] == 0.0
    assert not result.abstained and any(passage in h.chunk.text for h in result.hits)


def test_a_who_question_about_a_task_is_answered(retriever):
    result = retriever.search("Hvem skal kartlegge kompetansen til flyktninger?", k=3)
    assert not result.abstained
    assert "NOKUT bør gis ansvaret for kompetansekartlegging" in result.hits[0].chunk.text


def test_glossary_words_are_matched_lexically_not_embedded(retriever):
    p = plan("turistskatt", retriever.glossary)
    assert p.glossary, "the glossary knows this everyday word"
    assert all(add not in text for add in p.glossary for text in p.dense_texts)
    result = retriever.search("turistskatt", k=3)
    assert not result.abstained and "besøksbidrag" in result.hits[0].chunk.text


def test_held_out_questions_are_scored_by_a_decision_fitted_elsewhere(retriever):
    report = evaluate(retriever, load_items(DATA / "holdout.jsonl"), cross_validate=False)
    assert report["shipped_decision_fitted_here"] is False
    shipped = report["shipped_decision"]
    # floors under the measured figures (docs/retrieval.md): a regression alarm, not a target
    assert report["methods"]["final"]["recall@5"] >= 0.78
    assert shipped["answered"]["recall@5"] >= 0.77
    assert shipped["answerable_wrongly_not_covered"] <= 0.03
    assert shipped["none_not_covered_or_low"] >= 0.85


def test_a_search_with_its_answer_hidden_never_returns_it(retriever):
    question = "Vil Ap fjerne kontantstøtten?"
    answer = "fjerne kontantstøtten og bruke pengene på billigere barnehage"
    found = retriever.search(question, k=5)
    assert any(answer in h.chunk.text for h in found.hits)
    hidden = frozenset(i for i, c in enumerate(retriever.chunks) if answer in c.text)
    a = retriever.analyse(question, hidden=hidden)
    assert a.order and not hidden & {i for i, _ in a.order}
    assert not hidden & set(a.lexical) and not hidden & set(a.ngram)
    # what the decision learns from: the same question looks less answered without its answer
    assert retriever.decision.probability(a.signals) < retriever.decision.probability(found.signals)


def test_every_answerable_item_is_also_a_not_covered_example_for_the_fit(retriever):
    items = [it for it in load_items(DATA / "holdout.jsonl") if it["id"] in {"h039", "hn08"}]
    rows = {r.id: r for r in calibrate.collect(retriever, items)}
    assert rows["h039"].covered and rows["h039"].hidden is not None  # "biomasse": its passage hidden
    assert rows["h039"].hidden["ngram"] < rows["h039"].signals["ngram"]
    assert not rows["hn08"].covered and rows["hn08"].hidden is None


def test_english_words_get_the_documents_bokmal_words_on_the_lexical_side(retriever):
    p = plan("Will Labour train more midwives?", retriever.glossary)
    assert p.lang == "en" and "jordmor jordmødre" in p.english and "jordmødre" in p.expanded
    assert not [t for t in p.english if "tog" in t.split()], "'train' (a verb here) is left out"
    assert plan("Vil Ap utdanne flere jordmødre?").english == ()  # Bokmål: nothing added
    assert english.terms("Schools and POLICE") == ("skole skolen", "politi politiet")  # plural -s, any case


def test_an_english_question_finds_its_passage_through_the_term_list(retriever):
    question = "What happens to young people when they leave child welfare care?"
    passage = "styrke tilbudet om ettervern og oppfølging for ungdom som har vært under barnevern"
    result = retriever.search(question, k=5)
    assert not result.abstained and any(passage in h.chunk.text for h in result.hits)
    # the model alone ranks it outside the top 5
    without = Retriever(retriever.index, retriever.embedder, retriever.glossary, dataclasses.replace(RetrievalConfig(), use_english=False))
    assert not any(passage in h.chunk.text for h in without.search(question, k=5, abstain=False).hits)


def test_a_misspelt_long_word_is_searched_as_the_documents_spell_it(retriever):
    question = "Hva vil Ap gjøre med barnevenet?"  # one letter short of "barnevernet"
    result = retriever.search(question, k=5)
    assert not result.abstained and any("barnevern" in h.chunk.text for h in result.hits)
    assert retriever.analyse(question).plan.text == "Hva vil Ap gjøre med barnevernet?"
    # without the spelling step the typo alone made it "not covered"
    without = Retriever(retriever.index, retriever.embedder, retriever.glossary, dataclasses.replace(RetrievalConfig(), use_spelling=False))
    assert without.search(question, k=5).abstained


def test_spelling_leaves_short_words_glossary_words_and_english_alone(retriever):
    v = retriever.vocabulary
    assert v.nearest("barnevenet") == "barnevernet"
    assert v.nearest("kontantstøtten") is None  # the documents' own word
    assert v.nearest("tekste") is None  # short words have real neighbours ("teste")
    assert retriever.lexicon.spell("Ungdommer ruser seg på ballonger") == "Ungdommer ruser seg på ballonger"  # glossary word, not "balkonger"
    english = "What does a family violence coordinator in the police do?"
    assert retriever.analyse(english).plan.text == english  # not "koordinator"
