"""Sentence-aware chunking that loses nothing.

all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the rest, and many
abstracts are longer. Each chunk is embedded as ``title. text``; its size is measured
with the embedder's own tokenizer so the title plus the chunk always fits the budget.
Chunks overlap by whole sentences so a claim spanning a boundary is still found.

Given the embedder's ``encode``, sizes are counted from its word-piece ids and each chunk
keeps the ids of its ``embed_text`` (the pieces of its parts, concatenated), so ingest
embeds them without tokenising every chunk a second time.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

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
    # Word-piece ids of embed_text (no special tokens), when chunked with ``encode``; a
    # 4-byte array, not a tuple of ints (~36 bytes each), as a whole corpus is held.
    token_ids: Sequence[int] = field(default=(), repr=False, compare=False)


def chunk_paper(
    paper: Paper,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap: int,
    encode: Callable[[str], Sequence[int]] | None = None,
) -> list[Chunk]:
    """``paper`` as chunks of at most ``max_tokens`` (special tokens included).

    With ``encode`` (a concatenable tokenizer, see ``index.embeddings.TokenEmbedder``),
    sizes come from it and each chunk carries its ``token_ids``."""
    if encode is not None:
        count_tokens = _counter(encode)
    prefix = f"{paper.title}. "
    budget = max(16, max_tokens - SPECIAL_TOKENS - count_tokens(prefix))
    pieces: list[str] = []
    for sentence in split_sentences(paper.abstract):
        pieces.extend(_fit(sentence, count_tokens, budget))
    chunks = []
    for i, group in enumerate(_pack(pieces, count_tokens, budget, overlap)):
        text = " ".join(group)
        ids = array("I", chain.from_iterable(map(encode, [prefix, *group]))) if encode else ()
        chunks.append(
            Chunk(
                chunk_id=sha(f"{paper.paper_id}:{i}:{prefix}{text}"),
                paper_id=paper.paper_id,
                position=i,
                text=text,
                embed_text=prefix + text,
                token_ids=ids,
            )
        )
    return chunks


def _counter(encode: Callable[[str], Sequence[int]]) -> Callable[[str], int]:
    return lambda text: len(encode(text))


def _fit(sentence: str, count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """A sentence longer than the budget is cut at word boundaries."""
    if count_tokens(sentence) <= budget:
        return [sentence]
    words = [piece for w in sentence.split() for piece in _cut_word(w, count_tokens, budget)]
    groups = _greedy(words, [count_tokens(w) for w in words], budget, overlap=0)
    return [" ".join(g) for g in groups]


def _cut_word(word: str, count_tokens: Callable[[str], int], budget: int) -> list[str]:
    """A single "word" over the budget (a sequence, a hash, text without spaces) is cut
    into pieces that fit, so the embedder never truncates it away."""
    tokens = count_tokens(word)
    if tokens <= budget:
        return [word]
    size = max(1, len(word) * budget // (2 * tokens))
    while size > 1 and any(
        count_tokens(word[i : i + size]) > budget for i in range(0, len(word), size)
    ):
        size //= 2
    return [word[i : i + size] for i in range(0, len(word), size)]


def _pack(
    pieces: list[str], count_tokens: Callable[[str], int], budget: int, overlap: int
) -> list[list[str]]:
    return _greedy(pieces, [count_tokens(p) for p in pieces], budget, overlap)


def _greedy(items: list[str], sizes: list[int], budget: int, overlap: int) -> list[list[str]]:
    """Pack items in order into groups of at most ``budget`` tokens, repeating the last
    ``overlap`` items of a group at the start of the next.

    Sizes are counted once per item and summed: both tokenizers split on whitespace
    before anything else, so the count of a space-joined text is the sum of its parts.
    Re-counting each growing join made a 100 kB abstract take seconds (quadratic)."""
    groups: list[list[str]] = []
    current: list[int] = []  # indexes into items
    used = 0
    for i, size in enumerate(sizes):
        if current and used + size > budget:
            groups.append([items[j] for j in current])
            carry = current[-overlap:] if overlap else []
            # Overlap only if it leaves room for new text; otherwise start clean.
            while carry and sum(sizes[j] for j in carry) + size > budget:
                carry = carry[1:]
            current, used = list(carry), sum(sizes[j] for j in carry)
        current.append(i)
        used += size
    if current:
        groups.append([items[j] for j in current])
    return groups
