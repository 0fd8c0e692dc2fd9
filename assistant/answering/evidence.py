"""Evidence selection and the abstention decision: one rule, in one place.

Every retrieved paper is numbered. From each, the sentences most relevant to the
standalone query are chosen; a paper whose best sentence is below the relevance floor is
not evidence. With no evidence, or when the question's distinctive words are missing
from the top papers (a near miss), the assistant abstains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.answering.scorer import SentenceScorer
from assistant.core.settings import AnswerSettings
from assistant.core.text import content_words, covers, split_sentences
from assistant.core.types import NumberedSource, PaperHit


@dataclass(frozen=True)
class Decision:
    """The numbered sources of one answer and whether to answer at all."""

    sources: list[NumberedSource]
    best_relevance: float
    coverage: float

    @property
    def evidence(self) -> list[NumberedSource]:
        return [s for s in self.sources if s.evidence]

    @property
    def abstain(self) -> bool:
        return not self.evidence


def coverage(query: str, hits: list[PaperHit], idf: Callable[[str], float], top: int = 3) -> float:
    """IDF-weighted share of the query's content words found in the top papers' text.

    >>> hit = PaperHit(rank=1, paper_id="p", title="PINNs for heat", abstract="PINN heat flow",
    ...                sources=[], score=1.0, passages=[])
    >>> coverage("PINNs for drone control", [hit], idf=lambda w: 1.0)
    0.3333333333333333
    """
    words = content_words(query)
    if not words or not hits:
        return 0.0
    vocabulary: set[str] = set()
    for hit in hits[:top]:
        vocabulary |= content_words(f"{hit.title} {hit.abstract}")
    weights = {w: idf(w) for w in words}
    found = sum(wt for w, wt in weights.items() if covers(w, vocabulary))
    return found / (sum(weights.values()) or 1.0)


def decide(
    query: str,
    hits: list[PaperHit],
    scorer: SentenceScorer,
    idf: Callable[[str], float],
    cfg: AnswerSettings,
) -> Decision:
    """Number the hits, choose each paper's evidence sentences, and decide to abstain."""
    per_paper = [split_sentences(h.abstract) for h in hits]
    scores = iter(scorer.relevance(query, [s for sentences in per_paper for s in sentences]))
    sources: list[NumberedSource] = []
    best, chosen = 0.0, 0
    for number, (hit, sentences) in enumerate(zip(hits, per_paper, strict=True), start=1):
        ranked = sorted(
            zip([next(scores) for _ in sentences], sentences, strict=True),
            key=lambda p: p[0],
            reverse=True,
        )
        top = ranked[0][0] if ranked else 0.0
        best = max(best, top)
        is_evidence = top >= cfg.abstain_threshold and chosen < cfg.prompt_papers
        chosen += is_evidence
        passages = (
            [s for _, s in ranked[: cfg.context_sentences]]
            if is_evidence
            else [p.text for p in hit.passages]
        )
        sources.append(_numbered(number, hit, passages, is_evidence, top))
    cov = coverage(query, hits, idf, cfg.coverage_papers)
    if best < cfg.coverage_waived_above and cov < cfg.min_coverage:
        # The question names things the top papers never mention: nothing is evidence.
        sources = [s.model_copy(update={"evidence": False}) for s in sources]
    return Decision(sources, best, cov)


def _numbered(
    number: int, hit: PaperHit, passages: list[str], evidence: bool, relevance: float
) -> NumberedSource:
    return NumberedSource(
        number=number,
        paper_id=hit.paper_id,
        title=hit.title,
        abstract=hit.abstract,
        score=hit.score,
        passages=passages,
        evidence=evidence,
        relevance=round(relevance, 4),
        authors=hit.authors,
        year=hit.year,
        url=hit.url,
        origin=hit.sources,
    )
