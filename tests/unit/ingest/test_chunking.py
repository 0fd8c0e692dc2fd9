"""Chunking keeps every word and fits the embedding model's window."""

from __future__ import annotations

import re

import pytest

from assistant.core.text import split_sentences
from assistant.index.embeddings import HashEmbedder
from assistant.ingest.chunking import SPECIAL_TOKENS, chunk_paper
from assistant.ingest.papers import Paper, build_papers
from assistant.ingest.sources import discover, read_records
from tests.conftest import DATA_DIR


def paper(abstract: str, title: str = "A title") -> Paper:
    return Paper("p1", title, abstract, title, abstract, ["x.txt"])


def words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_chunks_cover_all_text_in_order_and_fit(overlap: int) -> None:
    count = HashEmbedder().count_tokens
    records = [r for f in discover([DATA_DIR]) for r in read_records(f)]
    papers, _ = build_papers(records)
    for p in papers:
        chunks = chunk_paper(p, count, max_tokens=128, overlap=overlap)
        assert [c.position for c in chunks] == list(range(len(chunks)))
        for c in chunks:
            assert count(c.embed_text) + SPECIAL_TOKENS <= 128
            assert c.embed_text.startswith(p.title)
        # Every sentence appears in some chunk: nothing is lost.
        joined = " ".join(c.text for c in chunks)
        for sentence in split_sentences(p.abstract):
            assert all(w in joined for w in words(sentence))


def test_long_sentence_is_split_and_ids_are_stable() -> None:
    count = HashEmbedder().count_tokens
    long = " ".join(f"word{i}" for i in range(400)) + "."
    chunks = chunk_paper(paper(long), count, max_tokens=64, overlap=1)
    assert len(chunks) > 3
    assert " ".join(c.text for c in chunks).split() == long.split()
    again = chunk_paper(paper(long), count, max_tokens=64, overlap=1)
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    edited = chunk_paper(paper(long + " Extra."), count, max_tokens=64, overlap=1)
    assert edited[0].chunk_id == chunks[0].chunk_id and edited[-1].chunk_id != chunks[-1].chunk_id


def test_overlap_repeats_last_sentence() -> None:
    sentences = [f"Sentence number {i} has several words in it." for i in range(12)]
    chunks = chunk_paper(paper(" ".join(sentences)), HashEmbedder().count_tokens, 48, overlap=1)
    assert len(chunks) >= 2
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert split_sentences(a.text)[-1] == split_sentences(b.text)[0]
