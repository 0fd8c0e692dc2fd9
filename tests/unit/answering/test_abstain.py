"""Abstention and caveats worded as an expert would (``answering.abstain``)."""

from __future__ import annotations

from assistant.answering.abstain import abstention, either, language_note, nearest, partial_note
from assistant.answering.prompting import NO_ANSWER
from assistant.core.types import NumberedSource


def src(number: int, title: str, relevance: float, evidence: bool = False) -> NumberedSource:
    return NumberedSource(
        number=number, paper_id=f"p{number}", title=title, abstract="", score=1.0, passages=[],
        relevance=relevance, evidence=evidence,
    )  # fmt: skip


SOURCES = [src(1, "Gravity Optimizer", 0.41), src(2, "Liquid Time-constant Networks", 0.55)]


def test_a_near_miss_names_the_nearest_paper_and_what_no_abstract_mentions() -> None:
    text = abstention(SOURCES, ["drones", "flight"])
    assert text.startswith(NO_ANSWER)
    assert text.endswith(
        "The collection has *Liquid Time-constant Networks* [2], "
        "but no abstract mentions drones or flight."
    )


def test_nothing_relevant_is_said_plainly() -> None:
    assert abstention([], []) == f"{NO_ANSWER} No paper in the collection is about it."
    text = abstention(SOURCES, [])
    assert "The closest papers, *Gravity Optimizer* [1] and" in text and "do not answer it" in text
    assert "does not answer it" in abstention(SOURCES[:1], [])


def test_partial_note_names_the_evidence_and_the_uncovered_terms() -> None:
    evidence = [src(1, "PAIF", 0.6, evidence=True), src(2, "Other", 0.2)]
    assert partial_note(evidence, ["FMB"]) == (
        "The answer draws on *PAIF* [1]; no abstract mentions FMB."
    )
    assert partial_note(evidence, []) is None
    assert partial_note(SOURCES, ["FMB"]) is None  # no evidence, no answer to qualify


def test_language_note_only_for_other_languages() -> None:
    assert language_note("es") is not None and "Spanish" in language_note("es")  # type: ignore[operator]
    assert language_note("en") is None and language_note(None) is None


def test_helpers() -> None:
    assert nearest(SOURCES).number == 2
    assert either(["a", "b", "a"]) == "a or b" and either([]) == ""
