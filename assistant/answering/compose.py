"""Composition: an answer built only from verified sentences.

The lead comes first and at once: verbatim extracts shaped by what was asked
(``shape.py``), each verified. Then each sentence the model writes is verified as soon as
it is complete (``Composer.add``): its supported citations are kept, rejected ones are
removed (never re-pointed to another paper), and a sentence no citation supports is
replaced by the best verified extract on the same point, or dropped. Nothing unverified
reaches the user, and the ``Answer`` records, per sentence, whether it is the model's or
a quote and what the verifier said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.answering.evidence import numbered
from assistant.answering.prompting import NO_ANSWER
from assistant.answering.scorer import SentenceScorer
from assistant.answering.shape import QuestionKind, best_clause, lead_lines
from assistant.answering.verifiers import Verifier
from assistant.answering.verify import sanitize, split_claim, with_markers
from assistant.core.settings import AnswerSettings
from assistant.core.text import content_words, split_sentences
from assistant.core.types import (
    Answer,
    AnswerSentence,
    Citation,
    NumberedSource,
    PaperHit,
    Timings,
    Verdict,
)

_WORD = re.compile(r"\w+")
DUPLICATE_JACCARD = 0.6  # word overlap above which a sentence repeats one already shown
# Filler small models put before a claim ("The answer is:", "Based on the document,").
_LEAD_IN = re.compile(
    r"^\s*(?:the answer(?: to (?:this|the) question)? is\s*:?|based on the (?:document|"
    r"documents|sources?|abstracts?|context)\s*,?|according to the (?:document|documents|"
    r"sources?|abstracts?|context)\s*,?)\s*",
    re.IGNORECASE,
)


def says_no_answer(text: str) -> bool:
    """Whether ``text`` contains the "cannot answer" sentinel, punctuation aside."""
    norm = re.sub(r"\W+", " ", text.lower()).strip()
    return re.sub(r"\W+", " ", NO_ANSWER.lower()).strip() in norm


def _words(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORD.findall(text) if not w.isdigit() or len(w) > 1)


@dataclass
class Composer:
    """Builds one answer from verified sentences; ``lead`` first, then ``add`` per sentence."""

    query: str
    sources: list[NumberedSource]  # the relevant evidence papers, numbered
    verifier: Verifier
    scorer: SentenceScorer
    cfg: AnswerSettings
    sentences: list[AnswerSentence] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    written: int = 0  # sentences the model wrote (a quoting backend's are not counted)
    model_kept: int = 0  # of those, shown as the model wrote them
    declined: bool = False  # the model said the sources do not answer

    @property
    def by_number(self) -> dict[int, NumberedSource]:
        return {s.number: s for s in self.sources}

    # -- the lead: verified extracts, shaped by the question ------------------------------
    def lead(self, kind: QuestionKind) -> list[str]:
        """Display pieces of the lead, in order."""
        out: list[str] = []
        for source, text, origin in lead_lines(kind, self.sources, self.query, self.scorer):
            claim, _ = split_claim(text)
            verdict = self.verifier.verify(claim, source)
            if verdict.supported:
                out.append(
                    self._show(
                        text,
                        "quote" if origin == "quote" else "title",
                        [source.number],
                        [verdict],
                        bullet=kind == "list",
                    )
                )
        return out

    # -- model sentences ------------------------------------------------------------------
    def add(self, raw: str, quoting: bool = False) -> str | None:
        """Verify one complete sentence of a backend's output; the display piece if shown.

        ``quoting``: the backend quotes abstracts (extractive), so a kept sentence is a quote.
        """
        text = sanitize(raw)
        if _LEAD_IN.match(text):
            text = _LEAD_IN.sub("", text)
            text = text[:1].upper() + text[1:]
        if says_no_answer(text):
            self.declined = True
            return None
        claim, numbers = split_claim(text)
        if not re.search(r"[^\W\d_]{3}", claim) or self._repeats(claim):
            return None  # wordless bits and repeats (small models loop)
        self.written += not quoting
        if not claim.endswith((".", "!", "?")) or self._restates_question(claim):
            return None  # a heading ("… are:") or the question said back adds nothing
        cited = [n for n in numbers if n in self.by_number]
        if numbers and not cited:
            return None  # it cites only papers that are not evidence: never moved elsewhere
        if not cited:  # an uncited sentence: checked against the paper that fits it best
            best = self._best_source(claim)
            cited = [best.number] if best is not None else []
        verdicts = self.verifier.verify_many([(claim, self.by_number[n]) for n in cited])
        kept = [(n, v) for n, v in zip(cited, verdicts, strict=True) if v.supported]
        if kept:
            numbers_kept = [n for n, _ in kept]
            origin = "quote" if quoting else "model"
            self.model_kept += not quoting
            return self._show(
                with_markers(claim, numbers_kept), origin, numbers_kept, [v for _, v in kept]
            )
        return self._replace(claim, cited)

    def _replace(self, claim: str, cited: list[int]) -> str | None:
        """The best verified extract on the same point as a rejected claim, if any."""
        pool = [self.by_number[n] for n in cited] or self.sources
        best: tuple[float, str, NumberedSource] | None = None
        for source in pool:
            score, sentence = self.scorer.support(claim, split_sentences(source.abstract))
            if sentence and (best is None or score > best[0]):
                best = (score, sentence, source)
        if best is None or best[0] < self.cfg.support_threshold:
            return None
        extract = best_clause(claim, best[1], self.scorer.relevance)
        if self._repeats(extract):
            return None
        verdict = self.verifier.verify(extract, best[2])
        if not verdict.supported:
            return None
        return self._show(
            with_markers(extract, [best[2].number]), "quote", [best[2].number], [verdict]
        )

    def _restates_question(self, claim: str) -> bool:
        return not (content_words(claim) - content_words(self.query))

    def _best_source(self, claim: str) -> NumberedSource | None:
        scored = [
            (self.scorer.support(claim, split_sentences(s.abstract))[0], s) for s in self.sources
        ]
        return max(scored, key=lambda p: p[0])[1] if scored else None

    def _repeats(self, claim: str) -> bool:
        words = _words(claim)
        for shown in self.sentences:
            other = _words(split_claim(shown.text)[0])
            if words and other and len(words & other) / len(words | other) >= DUPLICATE_JACCARD:
                return True
        return False

    def _show(
        self,
        text: str,
        origin: str,
        numbers: list[int],
        verdicts: list[Verdict],
        bullet: bool = False,
    ) -> str:
        sentence = AnswerSentence(text=text, origin=origin, numbers=numbers, verdicts=verdicts)
        previous = self.sentences[-1].text if self.sentences else None
        self.sentences.append(sentence)
        if bullet:
            piece = f"- {text}"
            sep = "\n" if previous is not None else ""
        else:
            piece = text
            after_list = bool(self.pieces) and self.pieces[-1].lstrip("\n").startswith("- ")
            sep = "\n\n" if after_list else (" " if previous is not None else "")
        self.pieces.append(sep + piece)
        return sep + piece

    # -- results --------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return "".join(self.pieces).strip()

    def citations(self) -> list[Citation]:
        """One citation per (sentence, source), each with its verifier's verdict."""
        return citations_of(self.sentences, self.by_number)


def citations_of(
    sentences: list[AnswerSentence], by_number: dict[int, NumberedSource]
) -> list[Citation]:
    out: list[Citation] = []
    for sentence in sentences:
        claim = split_claim(sentence.text)[0]
        for number, verdict in zip(sentence.numbers, sentence.verdicts, strict=True):
            src = by_number[number]
            out.append(
                Citation(
                    number=number,
                    paper_id=src.paper_id,
                    title=src.title,
                    snippet=verdict.evidence,
                    support=verdict.score,
                    supported=verdict.supported,
                    claim=claim,
                    verifier=verdict.verifier,
                    reason=verdict.reason,
                )
            )
    return out


def focus(evidence: list[NumberedSource], cfg: AnswerSettings) -> list[NumberedSource]:
    """Only papers relevant to the question contribute: relevance within a factor of the
    best paper's (so an answer does not pad itself with quotes from unrelated papers)."""
    if not evidence:
        return []
    best = max(s.relevance or 0.0 for s in evidence)
    return [s for s in evidence if (s.relevance or 0.0) >= best * cfg.relative_relevance]


def preview(hits: list[PaperHit]) -> list[NumberedSource]:
    """Retrieved papers numbered as the answer will number them, before evidence is chosen."""
    return [numbered(i, hit, [p.text for p in hit.passages]) for i, hit in enumerate(hits, 1)]


@dataclass(frozen=True)
class Draft:
    """Everything an ``Answer`` needs that is known before generation."""

    question: str
    standalone_query: str
    sources: list[NumberedSource]
    timings: Timings

    def answer(self, **fields: Any) -> Answer:
        """The final answer; the ``*_ms`` fields go into its timings."""
        timing = {
            k: fields.pop(k)
            for k in ("first_token_ms", "model_first_token_ms", "total_ms")
            if k in fields
        }
        return Answer(
            question=self.question,
            standalone_query=self.standalone_query,
            rewritten=self.standalone_query != self.question,
            sources=self.sources,
            timings=self.timings.model_copy(update=timing),
            **fields,
        )
