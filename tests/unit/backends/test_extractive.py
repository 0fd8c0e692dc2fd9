"""The extractive backend: quoted evidence sentences, one per top paper, no model."""

from __future__ import annotations

from assistant.backends import generate
from assistant.backends.extractive import ExtractiveBackend
from tests.factories import evidence, generation_request


def test_extractive_quotes_top_sentence_of_each_top_paper() -> None:
    ev = evidence(
        ["A1 first claim here.", "A2 second."],
        ["B1 other claim."],
        ["C1 third."],
        ["D1 fourth paper."],
    )
    text = generate(ExtractiveBackend(), generation_request(evidence=ev))
    # Plain sentences with their markers: the composer verifies each and shows it as a quote.
    assert text == "A1 first claim here. [1] B1 other claim. [2] C1 third. [3]"


def test_extractive_skips_near_duplicates_and_fills_from_next_ranks() -> None:
    ev = evidence(
        ["Transformers outperform recurrent models on translation.", "They train faster."],
        ["Transformers outperform recurrent models on translation tasks."],
    )
    text = generate(ExtractiveBackend(), generation_request(evidence=ev))
    assert text.count("outperform") == 1
    assert "They train faster. [1]" in text


def test_extractive_without_evidence_is_empty_and_streams_in_pieces() -> None:
    assert list(ExtractiveBackend().stream(generation_request(evidence=[]))) == []
    assert len(list(ExtractiveBackend().stream(generation_request()))) > 1
