"""Composition: the checked text, its citations and the abstention wording -> ``Answer``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.prompting import NO_ANSWER
from assistant.answering.scorer import SentenceScorer
from assistant.answering.verify import check_citations, sanitize
from assistant.core.settings import AnswerSettings
from assistant.core.types import Answer, Citation, NumberedSource, Timings


@dataclass(frozen=True)
class Checked:
    """A generation after sanitising and citation checks."""

    text: str
    citations: list[Citation]
    declined: bool  # the model said the sources do not answer

    @property
    def usable(self) -> bool:
        return not self.declined and any(c.supported for c in self.citations)


def check(
    raw: str, evidence: list[NumberedSource], scorer: SentenceScorer, cfg: AnswerSettings
) -> Checked:
    """Sanitise what a backend wrote and check its citations against the evidence papers."""
    text = sanitize(raw)[: cfg.max_answer_chars].strip()
    if not text or says_no_answer(text):
        return Checked("", [], declined=bool(text))
    text, citations = check_citations(
        text, evidence, scorer, cfg.support_threshold, cfg.repoint_margin
    )
    return Checked(text, citations, declined=False)


def says_no_answer(text: str) -> bool:
    """Whether ``text`` contains the "cannot answer" sentinel, punctuation aside."""
    norm = re.sub(r"\W+", " ", text.lower()).strip()
    return re.sub(r"\W+", " ", NO_ANSWER.lower()).strip() in norm


def abstain_text(sources: list[NumberedSource]) -> str:
    if not sources:
        return f"{NO_ANSWER} The collection has no papers matching it."
    nearest = "; ".join(f"“{s.title}”" for s in sources[:3])
    return f"{NO_ANSWER} The nearest papers, which do not answer it, are: {nearest}."


@dataclass(frozen=True)
class Draft:
    """Everything an ``Answer`` needs that is known before generation."""

    question: str
    standalone_query: str
    sources: list[NumberedSource]
    timings: Timings

    def answer(
        self,
        *,
        text: str,
        citations: list[Citation],
        abstained: bool,
        backend: str,
        total_ms: float,
        first_token_ms: float | None = None,
        fallback_reason: str | None = None,
        complete: bool = True,
    ) -> Answer:
        timings = self.timings.model_copy(
            update={"first_token_ms": first_token_ms, "total_ms": total_ms}
        )
        return Answer(
            question=self.question,
            standalone_query=self.standalone_query,
            rewritten=self.standalone_query != self.question,
            text=text,
            citations=citations,
            sources=self.sources,
            abstained=abstained,
            backend=backend,
            fallback_reason=fallback_reason,
            complete=complete,
            timings=timings,
        )
