"""``run_ingest``: sources -> papers -> chunks -> index, with a report."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.core.settings import Settings
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.store import open_client
from assistant.ingest import writer as index
from assistant.ingest.chunking import chunk_paper
from assistant.ingest.papers import Paper, build_papers
from assistant.ingest.sources import RawRecord, discover, read_records

log = logging.getLogger(__name__)


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_papers(settings: Settings) -> tuple[list[Paper], list[str], list[str], int]:
    """Read and validate every source file before anything is written."""
    files = discover(settings.ingest.sources)
    records: list[RawRecord] = []
    for path in files:
        records.extend(read_records(path))
    papers, conflicts = build_papers(records)
    return papers, conflicts, [f.name for f in files], len(records)


def run_ingest(
    settings: Settings,
    rebuild: bool = False,
    show_progress: bool = False,
    embedder: Embedder | None = None,
    client: Any = None,
) -> IngestReport:
    started = time.perf_counter()
    papers, conflicts, files, n_records = load_papers(settings)
    embedder = embedder or get_embedder(settings.index)
    with index.writer_lock(settings):
        client = client or open_client(settings)
        collection = index.get_or_create_collection(settings, client, embedder, rebuild)
        wanted = {}
        for paper in papers:
            chunks = chunk_paper(
                paper,
                embedder.count_tokens,
                settings.ingest.chunk_tokens,
                settings.ingest.overlap_sentences,
            )
            for chunk in chunks:
                wanted[chunk.chunk_id] = (chunk, index.chunk_metadata(paper, chunk, len(chunks)))
        bar = _ProgressBar() if show_progress else None
        try:
            result = index.sync(
                collection, wanted, embedder, settings.ingest.batch_size, progress=bar
            )
        finally:
            if bar is not None:
                bar.close()
        index.set_paper_count(collection, len(papers))
    report = IngestReport(
        files=files,
        records=n_records,
        papers=len(papers),
        chunks=len(wanted),
        added=result.added,
        updated=result.updated,
        deleted=result.deleted,
        unchanged=result.unchanged,
        conflicts=conflicts,
        seconds=round(time.perf_counter() - started, 2),
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
