"""Facts about the shipped corpus and question file, derived from the files themselves,
plus small corpora and index helpers for the ingestion tests.

Tests never pin today's counts: the corpus and ``eval/questions.jsonl`` grow.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from assistant.core.settings import Settings
from assistant.ingest.clean import title_key
from assistant.ingest.sources import HEADER_LINES, SUBSCRIBE_PREFIX, discover, read_records
from assistant.retrieval.retriever import Retriever
from tests.conftest import DATA_DIR, QUESTIONS

# The two lines of page chrome at the top of every shipped .txt file.
HEADER = (
    "Get trending papers in your email inbox once a day!\n"
    "Get trending papers in your email inbox!\n"
)

PAPERS = {
    f"Paper {name}": f"This paper studies {name} in depth. We report results on {name} data. "
    f"Our {name} method improves accuracy."
    for name in ("alpha", "beta", "gamma", "delta")
}


@cache
def _shipped_records() -> tuple[tuple[str, str], ...]:
    """(paper key, abstract) per record in data/; the key is the id or normalised title.

    Shipped .txt files are read line by line here (two header lines, then title/abstract
    pairs), independently of the project's reader; other formats go through it.
    """
    records: list[tuple[str, str]] = []
    for path in discover([DATA_DIR]):
        if path.suffix != ".txt":
            records.extend((r.id or title_key(r.title), r.abstract) for r in read_records(path))
            continue
        lines = path.read_text(encoding="utf-8").splitlines()[HEADER_LINES:]
        assert len(lines) % 2 == 0, f"{path}: odd number of title/abstract lines"
        titles = (title_key(t.removeprefix(SUBSCRIBE_PREFIX)) for t in lines[::2])
        records.extend(zip(titles, lines[1::2], strict=True))
    return tuple(records)


def shipped_records() -> int:
    """Title/abstract records in data/."""
    return len(_shipped_records())


def shipped_papers() -> int:
    """Distinct papers in data/: unique ids or normalised titles."""
    return len({key for key, _ in _shipped_records()})


def shipped_abstract_conflicts() -> int:
    """Extra abstracts of duplicated papers that differ in more than whitespace."""
    variants: dict[str, set[str]] = {}
    for key, abstract in _shipped_records():
        variants.setdefault(key, set()).add(" ".join(abstract.split()))
    return sum(len(v) - 1 for v in variants.values())


def question_lines() -> list[dict]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def gold_questions() -> int:
    """Questions with gold papers (the ones retrieval metrics are computed over)."""
    return sum(1 for q in question_lines() if q.get("gold_titles"))


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def small_corpus(tmp_path: Path, papers: dict[str, str] = PAPERS) -> Path:
    """A folder with one JSONL file of ``papers`` (title -> abstract), rewritten in place."""
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    lines = [json.dumps({"title": t, "abstract": a}) for t, a in papers.items()]
    (folder / "papers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def index_collection(settings: Settings) -> Any:
    """The Chroma collection that searches read, found the way the retriever finds it."""
    return Retriever(settings).collection


def all_ids(settings: Settings) -> set[str]:
    """Every chunk id in the index of ``settings``."""
    return set(index_collection(settings).get(include=[])["ids"])
