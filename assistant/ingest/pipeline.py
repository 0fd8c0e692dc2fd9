"""``run_ingest``: sources -> papers -> chunks -> index, with a report.

Everything that can be wrong with the data is found before the first write: every file
is read and validated, every paper cleaned and chunked, and every value the store will
see checked (``writer.check_storable``). The write itself is staged (``writer``): it
lands whole or leaves the previous index as it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.core.settings import Settings
from assistant.index.embeddings import Embedder, get_embedder, token_embedder
from assistant.index.store import open_client
from assistant.ingest import writer as index
from assistant.ingest.chunking import chunk_paper
from assistant.ingest.papers import Paper, build_papers
from assistant.ingest.sources import RawRecord, discover, read_records

log = logging.getLogger(__name__)
MAX_NOTES = 50  # a file with a control character on every line should not flood the report


@dataclass
class IngestReport:
    files: list[str]
    records: int
    papers: int
    chunks: int
    added: int
    updated: int
    deleted: int
    unchanged: int
    conflicts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0  # chunks embedded by this run (less than added when resuming)
    notes: list[str] = field(default_factory=list)  # skipped files, text that was cleaned

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Corpus:
    files: list[str]
    records: int
    papers: list[Paper]
    conflicts: list[str]
    notes: list[str]


def load_corpus(settings: Settings) -> Corpus:
    """Read and validate every source file before anything is written."""
    skipped: list[str] = []
    files = discover(settings.ingest.sources, skipped)
    records: list[RawRecord] = []
    for path in files:
        records.extend(read_records(path))
    papers, conflicts = build_papers(records)
    notes = skipped + [note for rec in records for note in rec.notes]
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"… and {len(notes) - MAX_NOTES} more notes like these"]
    for note in notes:
        log.info("ingest note: %s", note)
    return Corpus([f.name for f in files], len(records), papers, conflicts, notes)


def load_papers(settings: Settings) -> tuple[list[Paper], list[str], list[str], int]:
    """Papers, conflict notes, file names and record count (see ``load_corpus``)."""
    corpus = load_corpus(settings)
    return corpus.papers, corpus.conflicts, corpus.files, corpus.records


def build_chunks(settings: Settings, papers: list[Paper], embedder: Embedder) -> index.Wanted:
    """Every chunk with its metadata, each checked to be storable."""
    wanted: index.Wanted = {}
    tokens = token_embedder(embedder)
    for paper in papers:
        chunks = chunk_paper(
            paper,
            embedder.count_tokens,
            settings.ingest.chunk_tokens,
            settings.ingest.overlap_sentences,
            encode=tokens.encode if tokens else None,
        )
        for chunk in chunks:
            meta = index.chunk_metadata(paper, chunk, len(chunks))
            index.check_storable(chunk, meta, paper.origin or paper.title)
            wanted[chunk.chunk_id] = (chunk, meta)
    return wanted


def run_ingest(
    settings: Settings,
    rebuild: bool = False,
    show_progress: bool = False,
    embedder: Embedder | None = None,
    client: Any = None,
) -> IngestReport:
    started = time.perf_counter()
    corpus = load_corpus(settings)
    embedder = embedder or get_embedder(settings.index, purpose="index")
    wanted = build_chunks(settings, corpus.papers, embedder)
    with index.writer_lock(settings):
        client = client or open_client(settings)
        bar = _ProgressBar() if show_progress else None
        try:
            result = index.write_index(
                settings, client, embedder, wanted, len(corpus.papers), rebuild, progress=bar
            )
        finally:
            if bar is not None:
                bar.close()
    report = IngestReport(
        files=corpus.files,
        records=corpus.records,
        papers=len(corpus.papers),
        chunks=len(wanted),
        added=result.added,
        updated=result.updated,
        deleted=result.deleted,
        unchanged=result.unchanged,
        conflicts=corpus.conflicts,
        seconds=round(time.perf_counter() - started, 2),
        embedded=result.embedded,
        notes=corpus.notes,
    )
    log.info("ingest done: %s", report.to_dict())
    return report


class _ProgressBar:
    """A tqdm bar over the chunks that need embedding, created once that number is known."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="chunk", desc="embedding", leave=False)
        self._bar.update(done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
