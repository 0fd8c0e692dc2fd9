"""The default answer path with real models: all-MiniLM-L6-v2 index + bundled SmolLM2."""

from __future__ import annotations

import pytest

from assistant.answering.assistant import Assistant
from assistant.core.text import split_sentences

PINN_Q = "Which papers address failure modes of physics-informed neural networks?"


@pytest.mark.slow
def test_bundled_model_answers_with_valid_citations(real_index, real_models) -> None:  # noqa: ANN001
    """The default backend (llamacpp + bundled SmolLM2) end to end on the real index."""
    assistant = Assistant(real_index.with_overrides(llm__backend="llamacpp"))
    answer = assistant.ask(PINN_Q)
    assert not answer.abstained
    # The model ran; if none of its sentences held up, the extractive quotes were added
    # and the answer says why.
    assert answer.timings.model_first_token_ms is not None and answer.backend_sentences >= 0
    assert answer.backend == "llamacpp" or (
        answer.backend == "extractive" and "model" in answer.fallback_reason
    )
    assert answer.timings.first_token_ms is not None
    assert all(c.supported and c.verifier == "strict" for c in answer.citations)
    numbers = {s.number for s in answer.sources}
    assert answer.citations and all(c.number in numbers for c in answer.citations)
    assert any(c.supported for c in answer.citations)
    for c in answer.citations:
        source = answer.sources[c.number - 1]
        assert c.paper_id == source.paper_id
        rest = c.snippet.replace(source.title, " ")  # the evidence span: title and/or sentences
        assert all(part in source.abstract for part in split_sentences(rest))
        assert f"[{c.number}]" in answer.text
    follow = assistant.ask(
        "What sampling method do they propose?",
        [{"role": "user", "content": PINN_Q}, {"role": "assistant", "content": answer.text}],
    )
    assert follow.rewritten and follow.sources
