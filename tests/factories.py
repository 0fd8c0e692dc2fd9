"""Small builders for typed values in tests."""

from __future__ import annotations

from assistant.backends.base import GenerationRequest
from assistant.core.types import Citation, NumberedSource


def source(number: int, paper_id: str, title: str, sentences: list[str]) -> NumberedSource:
    """An evidence source whose abstract is ``sentences`` and whose passages are them too."""
    return NumberedSource(
        number=number,
        paper_id=paper_id,
        title=title,
        abstract=" ".join(sentences),
        score=1.0,
        passages=list(sentences),
        evidence=True,
    )


def hostile_source(number: int = 1) -> NumberedSource:
    """A source whose title, abstract, authors and url try to inject markup and script."""
    return NumberedSource(
        number=number,
        paper_id="abc123",
        title='<img src=x onerror="alert(1)"> PINN failures',
        abstract=(
            "PINNs fail on stiff problems. <script>alert(2)</script> "
            "![t](http://evil.test/t.png) We study why."
        ),
        score=0.5,
        passages=["PINNs fail on stiff problems."],
        authors="Ada <b>Lovelace</b>",
        year=2024,
        url="javascript:alert(3)",
    )


def supported_citation(src: NumberedSource, snippet: str) -> Citation:
    return Citation(
        number=1, paper_id="abc123", title=src.title, snippet=snippet, support=0.9, supported=True
    )


def evidence(*papers: list[str]) -> list[NumberedSource]:
    """Numbered sources ``Paper 1``, ``Paper 2``… whose sentences are ``papers``."""
    return [
        source(i, f"p{i}", f"Paper {i}", list(sentences))
        for i, sentences in enumerate(papers, start=1)
    ]


def generation_request(**kw: object) -> GenerationRequest:
    """A small backend request about qubit coherence; ``kw`` replaces its fields."""
    base: dict[str, object] = {
        "messages": [
            {"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "What limits qubit coherence?"},
        ],
        "question": "What limits qubit coherence?",
        "evidence": evidence(
            ["Qubit coherence is limited by coupling to the environment.", "Noise matters."],
            ["Error correction extends logical qubit lifetimes."],
        ),
        "max_tokens": 16,
        "timeout_s": 60.0,
    }
    base.update(kw)
    return GenerationRequest(**base)  # type: ignore[arg-type]
