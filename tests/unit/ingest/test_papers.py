"""Records -> papers: the shipped corpus, and the duplicate and conflict policy."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.clean import title_key
from assistant.ingest.papers import build_papers
from assistant.ingest.sources import discover, read_records
from tests.conftest import DATA_DIR
from tests.corpus import (
    HEADER,
    shipped_abstract_conflicts,
    shipped_papers,
    shipped_records,
    write,
)


def test_shipped_corpus_parses_to_every_record_and_paper() -> None:
    records = [r for f in discover([DATA_DIR]) for r in read_records(f)]
    assert len(records) == shipped_records()
    assert not any(r.title.startswith("Subscribe") for r in records)
    papers, conflicts = build_papers(records)
    assert len(papers) == shipped_papers()
    assert len({p.paper_id for p in papers}) == shipped_papers()
    multi = [p for p in papers if len(p.sources) > 1]
    assert multi and all(len(set(p.sources)) == len(p.sources) for p in multi)
    assert len(conflicts) == shipped_abstract_conflicts()
    assert any("Learning to Relax" in note for note in conflicts)


def test_duplicates_merge_and_conflict_policy(tmp_path: Path) -> None:
    a = write(tmp_path, "a.txt", HEADER + "Same Paper\nShort abstract.\nOther\nX.\n")
    b = write(tmp_path, "b.txt", HEADER + "same  paper\nA much longer abstract here.\n")
    c = write(tmp_path, "c.txt", HEADER + "Other\n  X. \n")
    records = [r for f in (a, b, c) for r in read_records(f)]
    papers, conflicts = build_papers(records)
    by_key = {title_key(p.title): p for p in papers}
    same = by_key["same paper"]
    assert same.sources == ["a.txt", "b.txt"]
    assert same.abstract == "A much longer abstract here."  # longest wins
    assert same.variants == 2 and len(conflicts) == 1 and "b.txt:3" in conflicts[0]
    assert by_key["other"].sources == ["a.txt", "c.txt"] and by_key["other"].variants == 1
