"""Questions in German and Spanish about papers in the (English) collection are answered
with a citation of the right paper, with a caveat about weaker matching."""

from __future__ import annotations

import pytest

from assistant.answering.abstain import language_note
from assistant.answering.assistant import Assistant
from assistant.core.settings import Settings

QUESTIONS = {
    "de": (
        "Anomalieerkennung in der Telemetrie des Euclid-Weltraumteleskops mit XGBoost und "
        "SHAP - welches Paper war das?",
        "Machine learning-driven Anomaly Detection and Forecasting for Euclid Space Telescope",
    ),
    "es": (
        "¿Hay algún artículo que use el microbioma ruminal para predecir qué aditivo "
        "alimentario reduce más el metano en vacas lecheras?",
        "From Microbes to Methane",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("lang", sorted(QUESTIONS))
def test_question_in_another_language_cites_the_right_paper(
    lang: str, real_index: Settings, real_models: None
) -> None:
    question, title = QUESTIONS[lang]
    assistant = Assistant(real_index.with_overrides(llm__backend="extractive"))
    decision = assistant.decide(question, assistant.settings)
    assert decision.language == lang and not decision.abstain
    answer = assistant.ask(question)
    assert not answer.abstained
    cited = {c.title for c in answer.citations if c.supported}
    assert any(t.startswith(title) for t in cited), cited
    assert language_note(lang)
