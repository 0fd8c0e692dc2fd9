"""Sentence-aware chunking that loses nothing.

all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the rest, and many
abstracts are longer. Each chunk is embedded as ``title. text``; its size is measured
with the embedder's own tokenizer so the title plus the chunk always fits the budget.
Chunks overlap by whole sentences so a claim spanning a boundary is still found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.core.text import split_sentences
from assistant.ingest.papers import Paper, sha

SPECIAL_TOKENS = 2  # [CLS] and [SEP]


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    paper_id: str
    position: int
    text: str  # the passage shown to users
    embed_text: str  # what is embedded and keyword-indexed: title + passage


def chunk_paper(
    paper: Paper, count_tokens: Callable[[str], int], max_tokens: int, overlap: int
) -> list[Chunk]:
    prefix = f"{paper.title}. "
    budget = max(16, max_tokens - SPECIAL_TOKENS - count_tokens(prefix))
    pieces: list[str] = []
    for sentence in split_sentences(paper.abstract):
        pieces.extend(_fit(sentence, count_tokens, budget))
    groups = _pack(pieces, count_tokens, budget, overlap)
    return [
        Chunk(
            chunk_id=sha(f"{paper.paper_id}:{i}:{prefix}{text}"),
            paper_id=paper.paper_id,
            position=i,
            text=text,
            embed_text=prefix + text,
        )
        for i, text in enumerate(" ".join(g) for g in groups)
    ]


def _fit(sentence: str, count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """A sentence longer than the budget is cut at word boundaries."""
    if count_tokens(sentence) <= budget:
        return [sentence]
    out, current = [], []
    for word in sentence.split():
        if current and count_tokens(" ".join([*current, word])) > budget:
            out.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        out.append(" ".join(current))
    return out


def _pack(
    pieces: list[str], count_tokens: Callable[[str], int], budget: int, overlap: int
) -> list[list[str]]:
    groups: list[list[str]] = []
    current: list[str] = []
    for piece in pieces:
        if current and count_tokens(" ".join([*current, piece])) > budget:
            groups.append(current)
            carry = current[-overlap:] if overlap else []
            # Overlap only if it leaves room for new text; otherwise start clean.
            while carry and count_tokens(" ".join([*carry, piece])) > budget:
                carry = carry[1:]
            current = list(carry)
        current.append(piece)
    if current:
        groups.append(current)
    return groups
