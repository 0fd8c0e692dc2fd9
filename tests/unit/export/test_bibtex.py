"""BibTeX keys and entries for cited papers."""

from __future__ import annotations

from assistant.core.types import NumberedSource
from assistant.export.bibtex import bibtex_entry, bibtex_key


def test_bibtex_entry_and_key():
    src = NumberedSource(
        number=1,
        paper_id="183e2260",
        title="Lagrangian PINNs: {a} 100% & more_",
        abstract="x",
        score=1.0,
        passages=[],
        authors="A. One; B. Two",
        year=2021,
        url="https://example.org/p",
    )
    assert bibtex_key(src) == "lagrangian_183e2260"
    entry = bibtex_entry(src)
    assert entry.startswith("@misc{lagrangian_183e2260,")
    assert r"\{a\} 100\% \& more\_" in entry
    assert "author = {A. One and B. Two}" in entry and "url = {https://example.org/p}" in entry
