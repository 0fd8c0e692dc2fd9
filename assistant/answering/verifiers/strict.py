"""The ``strict`` verifier: rules over the cited abstract, no language model.

For a claim and a cited paper it picks the evidence span (the abstract sentence, or pair
of sentences, that supports the claim best; the title counts as a sentence), then runs
the checks of ``rules.py`` in order and reports the first that fails:

    title      a quoted or bolded title must be the cited paper's
    number     every number is stated in one evidence sentence with what it counts
    polarity   negations and opposite words agree with the evidence
    direction  "A better than B" is not "B better than A"
    overclaim  no universal/strong word ("all", "guarantees", "proves") the evidence lacks
    terms      the claim's distinctive words (weighted by rarity) occur in the paper
    support    the span supports the claim well enough (meaning and wording)

The thresholds are in ``tuning.py``, with how they were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.answering.scorer import SentenceScorer
from assistant.answering.verifiers import rules
from assistant.answering.verifiers.base import VerifierContext
from assistant.answering.verifiers.numbers import check_numbers, quantities
from assistant.answering.verifiers.tuning import STRICT, StrictTuning
from assistant.answering.verifiers.words import is_content, tokenize
from assistant.core.text import overlap, split_sentences
from assistant.core.types import NumberedSource, Verdict


@dataclass(frozen=True)
class Span:
    """One or two sentences of a paper (index 0 is the title) and how well they support."""

    indices: tuple[int, ...]
    text: str
    support: float


def paper_sentences(paper: NumberedSource) -> list[str]:
    """The sentences a claim about ``paper`` may rest on: its title, then its abstract."""
    body = split_sentences(paper.abstract) or list(paper.passages)
    return [paper.title, *body] if paper.title else body


def ranked_spans(
    scorer: SentenceScorer, claim: str, sentences: list[str], pair_margin: float
) -> list[Span]:
    """Single sentences and pairs of sentences, best supporting first.

    A pair is scored on the normalised sum of its two sentence vectors (no extra
    embedding) and on the words of both; it must beat a single sentence by
    ``pair_margin`` so a claim that one sentence states keeps that one sentence.
    """
    if not sentences:
        return []
    vecs = scorer.vectors([claim, *sentences])
    claim_vec, sent_vecs = vecs[0], vecs[1:]
    weight = scorer.support_weight
    spans = []
    for i, sentence in enumerate(sentences):
        cos = float(sent_vecs[i] @ claim_vec)
        score = weight * max(0.0, cos) + (1 - weight) * overlap(claim, sentence)
        spans.append(Span((i,), sentence, round(min(1.0, score), 4)))
    for i in range(len(sentences)):
        for j in range(i + 1, len(sentences)):
            pair = sent_vecs[i] + sent_vecs[j]
            cos = float(pair @ claim_vec) / max(float(np.linalg.norm(pair)), 1e-9)
            text = f"{sentences[i]} {sentences[j]}"
            score = weight * max(0.0, cos) + (1 - weight) * overlap(claim, text) - pair_margin
            spans.append(Span((i, j), text, round(min(1.0, max(0.0, score)), 4)))
    return sorted(spans, key=lambda s: s.support, reverse=True)


def number_span(
    claim: str, spans: list[Span], sentences: list[str]
) -> tuple[Span | None, str | None]:
    """The best span that states every number of the claim, or why none does."""
    if not quantities(claim):
        return (spans[0] if spans else None), None
    first_reason = None
    for span in spans:
        check = check_numbers(claim, [sentences[i] for i in span.indices], sentences)
        if check.reason is None:
            return span, None
        first_reason = first_reason or check.reason
    return (spans[0] if spans else None), first_reason


class StrictVerifier:
    """Rules over the cited title and abstract; see the module docstring."""

    name = "strict"

    def __init__(self, context: VerifierContext, tuning: StrictTuning = STRICT) -> None:
        self.context = context
        self.tuning = tuning

    def verify_many(self, items: list[tuple[str, NumberedSource]]) -> list[Verdict]:
        return [self.verify(claim, paper) for claim, paper in items]

    def spans(self, claim: str, paper: NumberedSource) -> tuple[list[str], list[Span]]:
        sentences = paper_sentences(paper)
        return sentences, ranked_spans(
            self.context.scorer, claim, sentences, self.tuning.pair_margin
        )

    def verify(self, claim: str, paper: NumberedSource) -> Verdict:
        claim = claim.strip()
        sentences, spans = self.spans(claim, paper)
        if not claim or not spans:
            return self._verdict(None, "support", "there is no claim or no abstract to check")
        failed = rules.check_title(claim, paper.title, paper.abstract)
        if failed:
            return self._verdict(spans[0], "title", failed)
        span, failed = number_span(claim, spans, sentences)
        assert span is not None
        if failed:
            return self._verdict(span, "number", failed)
        for check, rule in (
            ("polarity", rules.check_polarity),
            ("direction", rules.check_direction),
            ("overclaim", rules.check_overclaim),
        ):
            failed = rule(claim, span.text)
            if failed:
                return self._verdict(span, check, failed)
        failed = rules.check_negations_elsewhere(claim, sentences)
        if failed:
            return self._verdict(span, "polarity", failed)
        failed = self._terms(claim, paper, span)
        if failed:
            return self._verdict(span, "terms", failed)
        if span.support < self.tuning.support_floor:
            return self._verdict(
                span,
                "support",
                "the cited abstract does not say this (its closest sentence "
                "shares too little of the claim's meaning and wording)",
            )
        return Verdict(supported=True, score=span.support, evidence=span.text, verifier=self.name)

    def _terms(self, claim: str, paper: NumberedSource, span: Span) -> str | None:
        terms = rules.check_terms(claim, f"{paper.title}. {paper.abstract}", self.context.idf)
        if terms.names:
            return f"'{terms.names[0]}' is not mentioned in the cited paper"
        phrase = " ".join(terms.phrase)
        if len(terms.phrase) > self.tuning.max_missing_phrase and not self._rephrases(
            phrase, span.text
        ):
            return f"the cited paper does not mention '{phrase}'"
        if terms.coverage < self.tuning.min_term_coverage:
            words = "', '".join(terms.missing[:3])
            return f"the cited paper lacks too many of the claim's words ('{words}')"
        return None

    def _rephrases(self, phrase: str, evidence: str) -> bool:
        """Whether ``phrase`` means what some words of the evidence say ("ideal amount"
        for "optimal value"), rather than naming something else ("genetic algorithm")."""
        words = [t.text for t in tokenize(evidence) if is_content(t)]
        grams = [" ".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)]
        if not grams:
            return False
        vecs = self.context.scorer.vectors([phrase, *dict.fromkeys(grams)])
        return float((vecs[1:] @ vecs[0]).max()) >= self.tuning.rephrase_similarity

    def _verdict(self, span: Span | None, check: str, reason: str) -> Verdict:
        support = span.support if span else 0.0
        return Verdict(
            supported=False,
            score=round(support * self.tuning.failed_score_scale, 4),
            evidence=span.text if span else "",
            reason=reason,
            check=check,
            verifier=self.name,
        )


def create(context: VerifierContext, arg: str | None) -> StrictVerifier:
    return StrictVerifier(context)
