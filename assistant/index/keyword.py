"""The keyword (BM25) index over chunk texts, built from the store's records."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from assistant.core.text import content_words


@dataclass
class ChunkRow:
    chunk_id: str
    text: str
    meta: dict[str, Any]


class KeywordIndex:
    """BM25 over chunk texts (title + passage), with English stemming and stop words."""

    def __init__(self, rows: list[ChunkRow]) -> None:
        import bm25s
        import Stemmer

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        self.rows = rows
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        corpus = [_index_text(r) for r in rows]
        tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._bm25.index(tokens, show_progress=False)
        self._df: Counter[str] | None = None

    def idf(self, word: str) -> float:
        """Inverse document frequency of a content word over chunks (for abstention)."""
        if self._df is None:
            self._df = Counter(w for r in self.rows for w in content_words(_index_text(r)))
        return math.log((len(self.rows) + 1) / (self._df.get(word, 0) + 1))

    def search(self, query: str, n: int) -> list[tuple[ChunkRow, float]]:
        import bm25s

        if not self.rows:
            return []
        tokens = bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )
        if not tokens or not tokens[0]:
            return []
        n = min(n, len(self.rows))
        docs, scores = self._bm25.retrieve([tokens[0]], k=n, show_progress=False)
        return [
            (self.rows[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]


def _index_text(row: ChunkRow) -> str:
    return row.meta.get("embed_text") or row.text
