"""The answer pipeline end to end on the real corpus, with the fake backend and hash embedder."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.answering.assistant import Assistant
from assistant.answering.prompting import NO_ANSWER
from assistant.backends.fake import FakeBackend
from assistant.core.errors import BackendTimeout, BackendUnavailable, ConfigError, UserInputError
from assistant.core.text import split_sentences
from assistant.core.types import Answer
from assistant.retrieval.retriever import Retriever

PINN_Q = "Which papers address failure modes of physics-informed neural networks?"


@pytest.fixture(scope="module")
def retriever(hash_index) -> Retriever:  # noqa: ANN001
    return Retriever(hash_index)


def make(retriever: Retriever, backend: FakeBackend | None = None, **answer) -> Assistant:  # noqa: ANN003
    settings = retriever.settings.with_overrides(
        answer__abstain_threshold=answer.pop("abstain_threshold", 0.2),
        **{f"answer__{k}": v for k, v in answer.items()},
    )
    return Assistant(settings, retriever=retriever, backend=backend or FakeBackend())


def test_stream_order_sources_then_text_then_done(retriever: Retriever) -> None:
    events = list(make(retriever, FakeBackend(delay_s=0.001)).stream(PINN_Q))
    kinds = [e.kind for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "done"
    assert "text" in kinds and set(kinds[1:-1]) <= {"text", "pending"}
    assert events[0].sources and events[0].sources[0].number == 1
    answer = events[-1].answer
    assert isinstance(answer, Answer) and not answer.abstained
    assert answer.backend == "fake" and answer.complete
    assert answer.citations and all(c.supported for c in answer.citations)
    cited = {c.number for c in answer.citations}
    assert cited <= {s.number for s in answer.sources}
    for c in answer.citations:
        source = answer.sources[c.number - 1]
        assert c.paper_id == source.paper_id and c.verifier == "strict"
        # The evidence span is the paper's title and/or sentences of its abstract.
        rest = c.snippet.replace(source.title, " ")
        assert all(part in source.abstract for part in split_sentences(rest))
    t = answer.timings
    assert 0 < t.first_token_ms <= t.total_ms and t.retrieval_ms > 0


def test_invalid_citations_are_removed_and_repaired(retriever: Retriever) -> None:
    hits = retriever.search(PINN_Q, k=5)
    sentence = hits[0].abstract.split(". ")[0]
    assistant = make(retriever, FakeBackend(responses=[f"{sentence}. [9] Bogus claim [42]."]))
    answer = assistant.ask(PINN_Q)
    assert "[9]" not in answer.text and "[42]" not in answer.text and "Bogus" not in answer.text
    assert answer.citations and all(c.supported for c in answer.citations)


def test_abstains_when_nothing_is_relevant(retriever: Retriever) -> None:
    backend = FakeBackend()
    answer = make(retriever, backend, abstain_threshold=0.99).ask(PINN_Q)
    assert answer.abstained and answer.text.startswith(NO_ANSWER)
    assert answer.citations == [] and answer.sources  # nearest papers are listed...
    assert answer.sources[0].title in answer.text  # ...by name
    assert backend.requests == []  # and no model was asked to invent an answer


def test_model_saying_no_answer_is_an_abstention_only_if_trusted(retriever: Retriever) -> None:
    trusted = make(retriever, FakeBackend(responses=[NO_ANSWER]), trust_model_no_answer=True)
    answer = trusted.ask(PINN_Q)
    assert answer.abstained and answer.citations == []
    answer = make(retriever, FakeBackend(responses=[NO_ANSWER])).ask(PINN_Q)
    assert not answer.abstained and answer.citations  # the verified extracts stand
    assert answer.fallback_reason.startswith("the model found no answer")


def test_follow_up_is_rewritten_and_standalone_is_not(retriever: Retriever) -> None:
    assistant = make(retriever)
    first = assistant.ask(
        "Is there a paper on physics-informed neural operators for large-eddy simulation?"
    )
    assert not first.rewritten
    history = [
        {"role": "user", "content": first.question},
        {"role": "assistant", "content": first.text},
    ]
    follow = assistant.ask("What flows did they test it on?", history)
    assert follow.rewritten and "large-eddy simulation" in follow.standalone_query
    assert any("LESnets" in s.title for s in follow.sources[:3])


@pytest.mark.parametrize(
    "failure",
    [
        BackendUnavailable("connection refused"),
        BackendTimeout("no answer in 2 s"),
        RuntimeError("llama crashed"),
    ],
)
def test_backend_failure_falls_back_to_labelled_extractive(
    retriever: Retriever, failure: Exception
) -> None:
    events = list(make(retriever, FakeBackend(raise_exc=failure)).stream(PINN_Q))
    kinds = [e.kind for e in events]
    assert "notice" in kinds and "reset" not in kinds  # nothing unverified was shown
    answer = events[-1].answer
    assert answer.backend == "extractive" and answer.fallback_reason
    assert answer.citations and not answer.abstained


def test_mid_stream_failure_never_shows_the_partial_text(retriever: Retriever) -> None:
    partial = "Physics informed networks fail badly"
    backend = FakeBackend(responses=[f"{partial} on everything, always [1]."], fail_after_tokens=4)
    events = list(make(retriever, backend).stream(PINN_Q))
    shown = "".join(e.text for e in events if e.kind == "text")
    assert "notice" in [e.kind for e in events] and partial not in shown
    assert events[-1].answer.backend == "extractive"


def test_no_fallback_keeps_partial_answer_marked_incomplete(retriever: Retriever) -> None:
    assistant = make(retriever, FakeBackend(fail_after_tokens=5))
    assistant.settings = assistant.settings.with_overrides(llm__fallback=None)
    answer = assistant.ask(PINN_Q)
    assert not answer.complete and answer.fallback_reason


def test_ungrounded_model_output_is_dropped_and_said(retriever: Retriever) -> None:
    answer = make(retriever, FakeBackend(responses=["Bananas are yellow [1]."])).ask(PINN_Q)
    assert "Bananas" not in answer.text
    assert "none of the model's sentences was supported" in answer.fallback_reason
    assert answer.citations and all(c.supported for c in answer.citations)
    assert answer.backend_sentences == 1
    assert not any(s.origin == "model" for s in answer.sentences)


def test_timeout_is_honoured(retriever: Retriever) -> None:
    assistant = make(retriever, FakeBackend(delay_s=0.5))
    assistant.settings = assistant.settings.with_overrides(llm__timeout_s=1.0)
    started = time.monotonic()
    answer = assistant.ask(PINN_Q)
    assert time.monotonic() - started < 3
    assert answer.backend == "extractive" and "timed out" in answer.fallback_reason


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 5000, None, 42])
def test_bad_questions_are_user_errors(retriever: Retriever, question: object) -> None:
    started = time.monotonic()
    with pytest.raises(UserInputError):
        make(retriever).ask(question)  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.05


def test_unknown_override_and_backend_are_config_errors(retriever: Retriever) -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        make(retriever).ask(PINN_Q, temprature=0.3)
    with pytest.raises(ConfigError, match="Did you mean 'llamacpp'"):
        Assistant(retriever.settings, retriever=retriever).ask(PINN_Q, backend="llamacp")


def test_overrides_apply_per_request(retriever: Retriever) -> None:
    answer = make(retriever).ask(PINN_Q, k=3, mode="bm25", backend="extractive")
    assert len(answer.sources) == 3 and answer.backend == "extractive"


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    question=st.text(max_size=3000),
    history=st.lists(st.tuples(st.text(max_size=200), st.text(max_size=200)), max_size=20),
)
def test_fuzz_ask_returns_answer_or_user_error(
    retriever: Retriever, question: str, history
) -> None:  # noqa: ANN001
    assistant = make(retriever)
    try:
        answer = assistant.ask(question, history)
    except UserInputError:
        return
    assert isinstance(answer, Answer)
    assert all(1 <= c.number <= len(answer.sources) for c in answer.citations)


def test_no_fallback_keeps_the_verified_lead_and_says_why(retriever: Retriever) -> None:
    assistant = make(retriever, FakeBackend(raise_exc=BackendUnavailable("connection refused")))
    assistant.settings = assistant.settings.with_overrides(llm__fallback=None)
    answer = assistant.ask(PINN_Q)
    assert not answer.complete and "connection refused" in answer.fallback_reason
    assert answer.citations and all(s.origin != "model" for s in answer.sentences)


def test_title_claim_with_wrong_marker_is_not_re_pointed(retriever: Retriever) -> None:
    hits = retriever.search(PINN_Q, k=5)
    lines = f"{hits[1].title} [1]\n{hits[2].title} [1]"
    answer = make(retriever, FakeBackend(responses=[lines])).ask(PINN_Q)
    for citation in answer.citations:  # [1] does not support another paper's title...
        assert not (citation.number == 1 and citation.claim in (hits[1].title, hits[2].title))
    model = [s for s in answer.sentences if s.origin == "model"]
    assert model == []  # ...and nothing was moved to [2] or [3] behind the user's back
