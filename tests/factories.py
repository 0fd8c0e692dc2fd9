"""Small builders for typed values in tests."""

from __future__ import annotations

from assistant.core.types import NumberedSource


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
