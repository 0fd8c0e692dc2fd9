"""Records -> papers: normalisation, stable ids and the duplicate policy.

Duplicate policy (documented in the README):
- Records whose titles match after normalisation (LaTeX escapes resolved, case and
  punctuation ignored) are one paper; it lists every source file it came from.
- If their abstracts differ only in whitespace they are the same abstract.
- If they really differ, the longest abstract wins (it carries the most information;
  ties go to the first file in sorted order), and a warning names the files. The paper
  records how many variants were seen.

A paper's id is the user's ``id`` if given, else a hash of its normalised title, so an
edited abstract keeps its paper id while its chunk ids (content hashes) change.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from assistant.core.errors import CorpusFormatError
from assistant.ingest.clean import normalize_text, title_key
from assistant.ingest.sources import RawRecord

log = logging.getLogger(__name__)


@dataclass
class Paper:
    paper_id: str
    title: str
    abstract: str
    title_raw: str
    abstract_raw: str
    sources: list[str] = field(default_factory=list)
    authors: str | None = None
    year: int | None = None
    url: str | None = None
    variants: int = 1
    origin: str = ""  # file:line of the first record, for messages

    def content_hash(self) -> str:
        return sha(f"{self.title}\n{self.abstract}")


def sha(text: str, n: int = 32) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def build_papers(records: list[RawRecord]) -> tuple[list[Paper], list[str]]:
    """Merge records into papers. Returns the papers and human-readable conflict notes."""
    papers: dict[str, Paper] = {}
    conflicts: list[str] = []
    for rec in records:
        key = rec.id or title_key(rec.title)
        paper = papers.get(key)
        if paper is None:
            papers[key] = _new_paper(rec, key)
            continue
        _check_same_paper(paper, rec)
        abstract = _clean(rec, rec.abstract, "abstract")  # every variant must be readable
        if rec.source not in paper.sources:
            paper.sources.append(rec.source)
        if _same_text(paper.abstract_raw, rec.abstract):
            continue
        paper.variants += 1
        kept = "new" if len(rec.abstract) > len(paper.abstract_raw) else "first"
        note = (
            f"'{paper.title}' has {paper.variants} different abstracts "
            f"(also in {rec.source}:{rec.line}); kept the longest ({kept})"
        )
        log.info(note)  # reported to the user by the caller (CLI "note:" lines)
        conflicts.append(note)
        if kept == "new":
            paper.abstract_raw = rec.abstract
            paper.abstract = abstract
    return list(papers.values()), conflicts


def _check_same_paper(paper: Paper, rec: RawRecord) -> None:
    """Records merged by ``id`` must be the same paper: an id reused for another title
    is a data error (one of the two papers would silently vanish)."""
    if rec.id and title_key(rec.title) != title_key(paper.title_raw):
        raise CorpusFormatError(
            f"{rec.location}: id '{rec.id}' is also used by '{paper.title[:80]}' "
            f"({paper.origin}) with a different title; ids must be unique per paper"
        )


def _clean(rec: RawRecord, text: str, name: str) -> str:
    """Normalised text; refused when nothing readable is left (``{}``, ``$$``, only
    zero-width characters…): an empty title or abstract cannot be searched or cited."""
    clean = normalize_text(text)
    if not any(ch.isalnum() for ch in clean):
        raise CorpusFormatError(
            f"{rec.location}: {name} has no letters or digits after cleaning (was {text[:60]!r})"
        )
    return clean


def _new_paper(rec: RawRecord, key: str) -> Paper:
    return Paper(
        paper_id=rec.id or sha(f"title:{key}", 16),
        title=_clean(rec, rec.title, "title"),
        abstract=_clean(rec, rec.abstract, "abstract"),
        title_raw=rec.title,
        abstract_raw=rec.abstract,
        sources=[rec.source],
        authors=rec.authors,
        year=rec.year,
        url=rec.url,
        origin=rec.location,
    )
