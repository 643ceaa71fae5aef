"""The fast tier: the engine, both renderers and the store on a tiny synthetic corpus with
a deterministic stand-in embedder (hashed character trigrams). No model, milliseconds."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from bot.render_html import render as html
from bot.render_text import render as text
from bot.services import build_services
from bot.settings import Settings
from bot.views import AnswerPage, CheckView, Message, SectionView
from index.manifest import load_corpus
from index.store import build_index
from retrieval.search import Retriever

from .test_telegram import assert_valid_html

DIM = 64


class TrigramEmbedder:
    """Deterministic: the same text always gives the same vector; similar texts share
    trigrams and so point the same way."""

    name, dim = "test:trigram-64", DIM

    def _one(self, t: str) -> np.ndarray:
        v = np.zeros(DIM, np.float32)
        t = f"  {t.lower()}  "
        for i in range(len(t) - 2):
            v[int(hashlib.md5(t[i : i + 3].encode()).hexdigest()[:6], 16) % DIM] += 1.0
        return v / (np.linalg.norm(v) or 1.0)

    def passages(self, texts):
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def queries(self, texts):
        return self.passages(texts)

    def query(self, text):
        return self._one(text)


PLAN = """Testpartiets plan

1. Skole

Testpartiet mener at skolen er viktig for alle barn.

Testpartiet vil:

• gi alle elever gratis skolemat hver dag
• ansette flere lærere i små kommuner
• vurdere lengre skoledager for de minste
• bygge nye skolebygg i hele landet

2. Helse

Testpartiet vil:

• korte ned ventetidene på sykehus
• gi gratis tannhelse til alle under 30 år
"""


@pytest.fixture
async def tiny(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "documents.toml").write_text(
        '[[document]]\nid = "plan"\nfile = "plan.txt"\ntitle = "Testpartiets plan"\npublisher = "Testpartiet"\nkind = "partiprogram"\nyear = "2025"\n',
        encoding="utf-8",
    )
    (root / "plan.txt").write_text(PLAN, encoding="utf-8")
    (root / "hedges.toml").write_text('hedges = ["vurdere"]\n', encoding="utf-8")
    embedder = TrigramEmbedder()
    build_index(load_corpus(root), tmp_path / "index", embedder)
    retriever = Retriever.open(tmp_path / "index", embedder)
    services = build_services(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index", results_per_page=2), retriever)
    await services.open()
    yield services
    await services.close()


async def test_ask_page_filter_and_render_on_a_tiny_corpus(tiny):
    engine = tiny.engine
    user = engine.user(1)
    view = await engine.ask("gratis skolemat", user)
    assert isinstance(view, AnswerPage) and view.passages
    assert any("skolemat" in p.chunk.text for p in view.passages)
    assert "Testpartiet vil: …" in text(view)
    assert_valid_html(html(view))
    more = await engine.press_data(f"p:{view.token}:1", user)
    assert isinstance(more, (AnswerPage, Message))
    await engine.set_commitments(user, True)
    again = await engine.ask("skolen er viktig", user)
    assert isinstance(again, AnswerPage) and all(p.chunk.kind == "commitment" for p in again.passages)
    assert again.scope == "bare løfter"


async def test_check_and_topics_on_a_tiny_corpus(tiny):
    engine = tiny.engine
    view = await engine.check("lengre skoledager for de minste")
    assert isinstance(view, CheckView) and view.promises
    hedged = [p for p in view.promises if "vurdere" in p.chunk.text]
    assert hedged and view.hedges.get(hedged[0].number) == "vurdere"
    root = engine.topics()
    doc = root.buttons[0][0].data.pack()
    section_view = await engine.press_data(doc, "")
    assert isinstance(section_view, SectionView)
    skole = next(x.data.pack() for row in section_view.buttons for x in row if "Skole" in x.label)
    inside = await engine.press_data(skole, "")
    assert isinstance(inside, SectionView) and inside.path == ("1. Skole",)
