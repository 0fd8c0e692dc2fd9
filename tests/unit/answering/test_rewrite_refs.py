"""Follow-ups resolved against the previous answer's numbered sources (``rewrite.resolve``)."""

from __future__ import annotations

import pytest

from assistant.answering.rewrite import Rewrite, resolve, standalone_query
from assistant.core.types import Answer, Citation, Message, NumberedSource, Timings

LTC = "Liquid Time-constant Networks"
NODE = "Neural Ordinary Differential Equations"
CAUSAL = "Respecting causality is all you need for training physics-informed neural networks"


def source(number: int, title: str, abstract: str) -> NumberedSource:
    return NumberedSource(
        number=number, paper_id=f"p{number}", title=title, abstract=abstract, score=1.0,
        passages=[], evidence=True,
    )  # fmt: skip


def cite(number: int, title: str) -> Citation:
    return Citation(
        number=number, paper_id=f"p{number}", title=title, snippet="", support=0.8, supported=True
    )


SOURCES = [
    source(1, LTC, "Continuous-time recurrent networks for time-series prediction."),
    source(2, NODE, "ODE solvers used as network layers."),
    source(3, CAUSAL, "Causality in PINN training."),
]


def history(citations: list[Citation], abstained: bool = False) -> list[Message]:
    answer = Answer(
        question="Which papers study continuous-time neural networks?",
        standalone_query="continuous-time neural networks",
        text="…",
        citations=citations,
        sources=SOURCES,
        abstained=abstained,
        backend="fake",
        timings=Timings(),
    )
    return [
        Message(role="user", content=answer.question),
        Message(role="assistant", content=answer.text, answer=answer),
    ]


ONE_CITED = history([cite(2, NODE)])
TWO_CITED = history([cite(2, NODE), cite(1, LTC)])


@pytest.mark.parametrize(
    ("question", "pinned", "named"),
    [
        ("What dataset did the second one use?", ["p2"], NODE),
        ("And the last one?", ["p3"], CAUSAL),
        ("Tell me more about [3].", ["p3"], CAUSAL),
        ("Compare [1] and [3].", ["p1", "p3"], LTC),
        ("Which benchmarks does that paper report?", ["p2"], NODE),
        ("Who are the authors?", ["p2"], NODE),
        ("What is its accuracy?", ["p2"], NODE),
        ("Tell me about the one about respecting causality.", ["p3"], CAUSAL),
        ("Is the Liquid paper faster?", ["p1"], LTC),
    ],
)
def test_references_pin_the_papers_they_name(question: str, pinned: list[str], named: str) -> None:
    got = resolve(question, ONE_CITED)
    assert got.pinned_paper_ids == pinned
    assert f"“{named}”" in got.query  # the query names the paper, not the old question
    assert "(regarding:" not in got.query and got.rewritten
    assert standalone_query(question, ONE_CITED) == got.query


def test_they_means_the_cited_papers() -> None:
    assert resolve("What did they evaluate on?", ONE_CITED).pinned_paper_ids == ["p2"]
    assert resolve("What did they evaluate on?", TWO_CITED).pinned_paper_ids == ["p2", "p1"]
    assert resolve("What is its accuracy?", TWO_CITED).pinned_paper_ids == ["p2"]  # the first


def test_which_of_them_chooses_among_all_the_sources() -> None:
    got = resolve("Which of them uses ODE solvers?", ONE_CITED)
    assert got.pinned_paper_ids == ["p1", "p2", "p3"]
    assert got.query.startswith("Which paper on ") and got.query.endswith("uses ODE solvers?")


def test_a_pronoun_after_an_abstention_pins_nothing() -> None:
    got = resolve("What did they evaluate on?", history([], abstained=True))
    assert got.pinned_paper_ids == [] and got.reason == "topic of earlier turns"
    # An explicit number still refers to the listed (nearest) papers.
    assert resolve("What is [1] about?", history([], abstained=True)).pinned_paper_ids == ["p1"]


def test_a_new_topic_is_not_glued_to_the_old_question() -> None:
    got = resolve("What about graph neural networks for traffic forecasting?", ONE_CITED)
    assert got == Rewrite(got.query, [], "new topic")
    assert got.query == "What about graph neural networks for traffic forecasting?"
    own = "Is there a paper on transformers for weather and does it beat ECMWF?"
    assert resolve(own, ONE_CITED).query == own  # "it" has its antecedent in the question


def test_plain_history_keeps_the_topic_rule() -> None:
    plain = [Message(role="user", content="Is there a paper on neural operators for LES?")]
    got = resolve("What flows did they test it on?", plain)
    assert got.query == "What flows did they test it on? (regarding: neural operators for LES)"
    assert got.pinned_paper_ids == []
    assert resolve("Which papers study PINN failure modes?", plain).reason == "stands alone"
    assert resolve("anything", None) == Rewrite("anything")


def test_numbers_outside_the_sources_are_not_references() -> None:
    assert resolve("What does [7] say?", ONE_CITED).pinned_paper_ids == []


def test_after_a_list_ordinals_count_the_listed_papers() -> None:
    # The answer listed [2] then [1]: "the second one" is the second paper in that list.
    assert resolve("What did the second one find?", TWO_CITED).pinned_paper_ids == ["p1"]
    assert resolve("What did the first one find?", TWO_CITED).pinned_paper_ids == ["p2"]
