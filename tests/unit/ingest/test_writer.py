"""The index writer's sync on an in-memory collection: what is added, updated and deleted,
in batches, and store failures become one clear error."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from assistant.core.errors import IndexWriteError
from assistant.index.embeddings import HashEmbedder
from assistant.ingest.chunking import chunk_paper
from assistant.ingest.papers import Paper
from assistant.ingest.writer import chunk_metadata, set_paper_count, sync


class MemoryCollection:
    """The slice of a Chroma collection the writer uses, in memory."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.metadata: dict[str, Any] = {}
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def record(self, name: str, ids: list[str] | None = None) -> None:
        self.calls.append((name, len(ids or [])))
        if self.fail is not None:
            raise self.fail

    def get(self, include: list[str], limit: int, offset: int) -> dict[str, Any]:
        ids = sorted(self.rows)[offset : offset + limit]
        return {"ids": ids, "metadatas": [self.rows[i] for i in ids]}

    def add(self, ids, embeddings, documents, metadatas) -> None:  # noqa: ANN001
        self.record("add", ids)
        assert len(ids) == len(embeddings) == len(documents) == len(metadatas)
        self.rows.update(zip(ids, metadatas, strict=True))

    def update(self, ids, metadatas) -> None:  # noqa: ANN001
        self.record("update", ids)
        self.rows.update(zip(ids, metadatas, strict=True))

    def delete(self, ids) -> None:  # noqa: ANN001
        self.record("delete", ids)
        for cid in ids:
            del self.rows[cid]

    def modify(self, metadata) -> None:  # noqa: ANN001
        self.record("modify")
        self.metadata = metadata


def wanted(*papers: Paper) -> dict[str, tuple[Any, dict[str, Any]]]:
    out = {}
    for paper in papers:
        chunks = chunk_paper(paper, HashEmbedder().count_tokens, 48, 0)
        for chunk in chunks:
            out[chunk.chunk_id] = (chunk, chunk_metadata(paper, chunk, len(chunks)))
    return out


def paper(pid: str, abstract: str, year: int | None = None) -> Paper:
    return Paper(pid, f"Title {pid}", abstract, f"Title {pid}", abstract, ["x.jsonl"], year=year)


LONG = " ".join(f"Sentence {i} says something about topic {i}." for i in range(12))


def test_sync_adds_in_batches_then_is_a_no_op() -> None:
    col, want = MemoryCollection(), wanted(paper("a", LONG), paper("b", "Short one."))
    first = sync(col, want, HashEmbedder(), batch_size=2)
    assert (first.added, first.updated, first.deleted, first.unchanged) == (len(want), 0, 0, 0)
    assert set(col.rows) == set(want)
    assert all(n <= 2 for _, n in col.calls) and len(col.calls) == -(-len(want) // 2)
    col.calls.clear()
    again = sync(col, want, HashEmbedder(), batch_size=2)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, len(want))
    assert col.calls == []


def test_sync_updates_changed_metadata_and_deletes_stale_chunks() -> None:
    col = MemoryCollection()
    sync(col, wanted(paper("a", "Alpha text."), paper("b", "Beta text.")), HashEmbedder(), 10)
    now = wanted(paper("a", "Alpha text.", year=2024))  # same text, new metadata; b is gone
    result = sync(col, now, HashEmbedder(), 10)
    assert (result.added, result.updated, result.deleted) == (0, 1, 1)
    assert set(col.rows) == set(now) and col.rows[next(iter(now))]["year"] == 2024


@pytest.mark.parametrize(
    "failure", [sqlite3.OperationalError("database is locked"), OSError(28, "No space left")]
)
def test_store_errors_are_wrapped(failure: Exception) -> None:
    col = MemoryCollection(fail=failure)
    with pytest.raises(IndexWriteError, match=f"{type(failure).__name__}: .*re-run") as info:
        sync(col, wanted(paper("a", "Alpha text.")), HashEmbedder(), 10)
    assert info.value.__cause__ is failure
    with pytest.raises(IndexWriteError, match="database is locked.*re-run"):
        set_paper_count(MemoryCollection(fail=sqlite3.OperationalError("database is locked")), 3)


def test_paper_count_is_written_only_when_it_changes() -> None:
    col = MemoryCollection()
    set_paper_count(col, 3)
    set_paper_count(col, 3)
    assert col.metadata == {"papers": 3} and col.calls == [("modify", 0)]


class PiecesEmbedder(HashEmbedder):
    """A concatenable tokenizer (one id per word or mark) that records what it embeds."""

    concatenable = True

    def __init__(self) -> None:
        super().__init__()
        self.vocab: dict[str, int] = {}
        self.encoded: list[list[int]] = []  # lengths of each embed_encoded call
        self.texts = 0

    def encode(self, text: str) -> tuple[int, ...]:
        pieces = re.findall(r"\w+|[^\w\s]", text.lower())
        return tuple(self.vocab.setdefault(p, len(self.vocab)) for p in pieces)

    def embed_encoded(self, seqs: list[tuple[int, ...]]) -> list[list[float]]:
        self.encoded.append([len(s) for s in seqs])
        return [[1.0] + [0.0] * (self.dim - 1) for _ in seqs]

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return super().embed(texts)


def test_chunks_carry_the_word_pieces_of_their_text() -> None:
    emb = PiecesEmbedder()
    p = paper("a", LONG)
    chunks = chunk_paper(p, emb.count_tokens, 48, 1, encode=emb.encode)
    assert len(chunks) > 1
    for chunk in chunks:
        assert tuple(chunk.token_ids) == emb.encode(chunk.embed_text)  # pieces concatenate
        assert len(chunk.token_ids) + 2 <= 48


def test_sync_embeds_the_chunking_pieces_shortest_first_across_the_corpus() -> None:
    emb = PiecesEmbedder()
    papers = [paper("a", LONG), paper("b", "Short one."), paper("c", LONG[:300])]
    want = {}
    for p in papers:
        chunks = chunk_paper(p, emb.count_tokens, 48, 1, encode=emb.encode)
        want.update({c.chunk_id: (c, chunk_metadata(p, c, len(chunks))) for c in chunks})
    sync(MemoryCollection(), want, emb, batch_size=3)
    assert emb.texts == 0  # nothing tokenised a second time
    lengths = [n for call in emb.encoded for n in call]
    assert sorted(lengths) == lengths and len(lengths) == len(want)
    # Without pieces (another embedder chunked them) it falls back to the texts.
    plain = {cid: (replace(c, token_ids=()), m) for cid, (c, m) in want.items()}
    other = PiecesEmbedder()
    sync(MemoryCollection(), plain, other, batch_size=3)
    assert other.texts == len(want) and other.encoded == []
