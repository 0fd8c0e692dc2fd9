"""Question language (``core.lang``): lingua, restricted to a few languages, offline."""

from __future__ import annotations

import pytest

from assistant.core import lang
from assistant.core.lang import detect_language, language_name, strip_function_words


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Gibt es eine Arbeit über Reinforcement Learning für das Dreikörperproblem?", "de"),
        ("¿Hay algún artículo que use el microbioma ruminal para predecir el metano?", "es"),
        ("créer de nouvelles variables avec des classifieurs sur des seuils", "fr"),
        ("What absolute mIoU does PAIF reach on the MSRS dataset?", "en"),
        ("kolmogorov arnold netwrok instead of mlp for pinns", "en"),
        ("SHAP", "en"),  # too short to tell: the collection's language
    ],
)
def test_detect_language(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_names_and_keyword_text() -> None:
    assert language_name("de") == "German" and language_name(None) == "English"
    assert strip_function_words("fusión de imágenes para la segmentación") == (
        "fusión imágenes segmentación"
    )
    assert strip_function_words("the role of dropout") == "the role of dropout"


@pytest.mark.parametrize(
    "text",
    [
        "Which paper was the first to train PINNs with causal weights?",
        "The method of Wang et al. was compared on Burgers and Allen-Cahn equations",
    ],
)
def test_plain_english_never_loads_the_detector(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Words English shares with other languages ("was", "al") are no hint: lingua's
    first call costs ~0.9 s, which one English question in ten used to pay."""

    def refuse() -> None:
        raise AssertionError("lingua was asked about plain English")

    monkeypatch.setattr(lang, "_build", refuse)
    lang._detect.cache_clear()
    assert detect_language(text) == "en"
