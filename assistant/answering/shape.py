"""The answer's shape follows what was asked.

- ``paper``: one paper described in other words ("I remember a paper that…") -> lead
  with its title, then one cited line on what it does.
- ``list``: "Which papers…" -> one bullet per relevant paper with its cited finding.
- ``detail``: a number, dataset, method or result -> lead with the sentence that states it.

The lead lines are verbatim extracts (trimmed to the clause that matters), so they are
available the moment retrieval is done, before the model writes anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from assistant.answering.scorer import SentenceScorer
from assistant.answering.verify import with_markers
from assistant.core.types import NumberedSource

QuestionKind = Literal["paper", "list", "detail"]
Relevance = Callable[[str, list[str]], list[float]]

_LIST = re.compile(
    r"\b(?:which|what|any|list|find|show|are there|name)\b[^?.]{0,60}?\b(?:papers|studies|works|"
    r"articles|approaches|methods|publications)\b|\bpapers?\s+(?:on|about|that)\b.*\?$",
    re.IGNORECASE,
)
_PAPER = re.compile(
    r"\b(?:i remember|i recall|looking for|trying to find|there (?:was|is) (?:a|this) "
    r"(?:paper|study|work|article)|which (?:paper|study|work|article)\b|what (?:paper|study|"
    r"work|article) |is there a (?:paper|study|work|article)|the (?:paper|study|work) that)",
    re.IGNORECASE,
)
# A clause boundary inside a long sentence: "; ", ", while", ", which", ", and", " – ".
_CLAUSE = re.compile(r";\s+|,\s+(?=(?:while|whereas|which|and|but|thus|thereby)\b)|\s+[–—]\s+")
LONG_SENTENCE_WORDS = 38  # longer lead sentences are trimmed to their best clause
MIN_CLAUSE_WORDS = 7  # a shorter clause loses its meaning out of context


def question_kind(question: str) -> QuestionKind:
    """What shape of answer the question asks for.

    >>> question_kind("Which papers address failure modes of PINNs?")
    'list'
    >>> question_kind("I remember a paper that 3D-printed spider webs. Which one?")
    'paper'
    >>> question_kind("How much power did mixed precision save?")
    'detail'
    """
    if _PAPER.search(question):
        return "paper"
    if _LIST.search(question):
        return "list"
    return "detail"


def best_clause(query: str, sentence: str, relevance: Relevance) -> str:
    """The sentence, or its clause most relevant to ``query`` when the sentence is long."""
    if len(sentence.split()) <= LONG_SENTENCE_WORDS:
        return sentence
    clauses = [c.strip() for c in _CLAUSE.split(sentence) if c and c.strip()]
    clauses = [c for c in clauses if len(c.split()) >= MIN_CLAUSE_WORDS]
    if len(clauses) < 2:
        return sentence
    scores = relevance(query, clauses)
    clause = clauses[max(range(len(clauses)), key=scores.__getitem__)]
    clause = clause[0].upper() + clause[1:]
    return clause if clause.endswith((".", "!", "?")) else clause.rstrip(",;:") + "."


def lead_lines(
    kind: QuestionKind, sources: list[NumberedSource], query: str, scorer: SentenceScorer
) -> list[tuple[NumberedSource, str, str]]:
    """(source, line with its marker, origin) for the lead of an answer of this kind."""
    if not sources:
        return []

    def clause(source: NumberedSource, index: int) -> str:
        sentence = source.passages[index] if index < len(source.passages) else source.title
        return best_clause(query, sentence, scorer.relevance)

    if kind == "list":
        return [(s, f"“{s.title}” [{s.number}]: {clause(s, 0)}", "title") for s in sources]
    top = sources[0]
    if kind == "paper":
        return [(top, f"“{top.title}” [{top.number}]: {clause(top, 0)}", "title")]
    lines = [(top, with_markers(clause(top, 0), [top.number]), "quote")]
    if len(top.passages) > 1:  # the second best sentence of the same paper, for context
        lines.append((top, with_markers(clause(top, 1), [top.number]), "quote"))
    return lines
