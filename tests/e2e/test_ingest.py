"""Ingestion of the shipped corpus with the real embedding model (all-MiniLM-L6-v2)."""

from __future__ import annotations

import pytest

from assistant.ingest.pipeline import run_ingest
from assistant.retrieval.retriever import Retriever
from tests.corpus import all_ids, shipped_papers


@pytest.mark.slow
def test_real_corpus_with_real_model(real_index, real_models) -> None:  # noqa: ANN001
    """The shipped corpus embedded by all-MiniLM-L6-v2 in embedded Chroma; re-run is a no-op."""
    before = all_ids(real_index)
    retriever = Retriever(real_index)
    assert retriever.stats() == {"papers": shipped_papers(), "chunks": len(before)}
    again = run_ingest(real_index)
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert all_ids(real_index) == before
    titles = [
        h.title for h in retriever.search("failure modes of physics-informed neural networks")
    ]
    assert any("Physics-informed" in t or "PINN" in t for t in titles[:3])
