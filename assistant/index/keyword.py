"""The keyword (BM25) index over chunk texts, built from the store's records.

bm25s builds the index (tokenising and stemming every chunk: about 22 s at 100k chunks on
2 cores). What a query needs from it, the score matrix (CSC arrays), the vocabulary and
the stop words, is kept in ``BM25Scores`` and saved to a cache folder keyed by the chunk
ids (content hashes of what is indexed, so equal ids mean an equal index). Loading that
and scoring a query with numpy imports neither bm25s nor scipy, which together cost a
third of a second of every cold CLI start; the ranking is bm25s's own, to the tie.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.text import content_words

log = logging.getLogger(__name__)

# Bump when tokenisation or BM25 parameters change, so old cached indexes are not reused.
KEYWORD_VERSION = 2
KEEP_CACHED = 3  # cached indexes kept per folder (others are from older builds)
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # bm25s.tokenize's default, which the index was built with
_ARRAYS = ("data", "indices", "indptr")


@dataclass
class ChunkRow:
    chunk_id: str
    text: str
    meta: dict[str, Any]


@dataclass
class BM25Scores:
    """A built BM25 index as plain arrays: column ``t`` of the (docs x vocabulary) CSC
    matrix holds token ``t``'s precomputed score in every document containing it."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    num_docs: int
    vocab: dict[str, int]
    stopwords: frozenset[str]

    @classmethod
    def build(cls, corpus: list[str], stemmer: Any) -> BM25Scores:
        import bm25s
        from bm25s.stopwords import STOPWORDS_EN

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        bm25 = bm25s.BM25()  # default method ("lucene"): no non-occurrence scores
        tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
        bm25.index(tokens, show_progress=False)
        arrays = {k: np.asarray(bm25.scores[k]) for k in _ARRAYS}
        return cls(**arrays, num_docs=int(bm25.scores["num_docs"]), vocab=dict(bm25.vocab_dict),
                   stopwords=frozenset(STOPWORDS_EN))  # fmt: skip

    def save(self, folder: Path) -> None:
        np.savez(folder / "scores.npz", **{k: getattr(self, k) for k in _ARRAYS})
        meta = {"num_docs": self.num_docs, "vocab": self.vocab, "stopwords": sorted(self.stopwords)}
        (folder / "vocab.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Scores:
        with np.load(folder / "scores.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in _ARRAYS}
        meta = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        return cls(**arrays, num_docs=int(meta["num_docs"]), vocab=meta["vocab"],
                   stopwords=frozenset(meta["stopwords"]))  # fmt: skip

    def scores(self, token_ids: list[int]) -> np.ndarray:
        """Summed BM25 scores per document, tokens in query order (as bm25s adds them)."""
        out = np.zeros(self.num_docs, dtype=self.data.dtype)
        for t in token_ids:
            start, end = self.indptr[t], self.indptr[t + 1]
            out[self.indices[start:end]] += self.data[start:end]  # rows unique per column
        return out


class KeywordIndex:
    """BM25 over chunk texts (title + passage), with English stemming and stop words."""

    def __init__(self, rows: list[ChunkRow], scores: BM25Scores | None = None) -> None:
        import Stemmer

        self.rows = rows
        self._stemmer = Stemmer.Stemmer("english")
        self._split = re.compile(TOKEN_PATTERN).findall
        if scores is None and rows:
            scores = BM25Scores.build([_index_text(r) for r in rows], self._stemmer)
        self._scores = scores
        self._df: Counter[str] | None = None

    @classmethod
    def cached(cls, rows: list[ChunkRow], cache_root: Path | None) -> KeywordIndex:
        """Load the index for ``rows`` from ``cache_root`` if saved there, else build it
        and save it (best effort: a read-only folder only costs the rebuild next time)."""
        if cache_root is None or not rows:
            return cls(rows)
        folder = cache_root / rows_key(rows)
        loaded = _load_scores(folder, len(rows))
        if loaded is not None:
            return cls(rows, scores=loaded)
        index = cls(rows)
        try:
            assert index._scores is not None
            _save_scores(index._scores, folder)
            _prune(cache_root, keep=folder)
        except OSError as exc:
            log.info("keyword index not cached in %s: %s", folder, exc)
        return index

    def idf(self, word: str) -> float:
        """Inverse document frequency of a content word over chunks (for abstention)."""
        if self._df is None:
            self._df = Counter(w for r in self.rows for w in content_words(_index_text(r)))
        return math.log((len(self.rows) + 1) / (self._df.get(word, 0) + 1))

    def query_tokens(self, query: str) -> list[str]:
        """bm25s.tokenize's steps: lower case, split, drop stop words, stem."""
        assert self._scores is not None
        words = [w for w in self._split(query.lower()) if w not in self._scores.stopwords]
        return self._stemmer.stemWords(words) if words else []

    def search(self, query: str, n: int) -> list[tuple[ChunkRow, float]]:
        if not self.rows or self._scores is None:
            return []
        vocab = self._scores.vocab
        ids = [vocab[t] for t in self.query_tokens(query) if t in vocab]
        if not ids:
            return []
        scores = self._scores.scores(ids)
        n = min(n, len(self.rows))
        # bm25s's top-k: partition, then sort the n by score, highest first.
        top = np.argpartition(scores, -n).take(indices=range(-n, 0))
        top = top[np.flip(np.argsort(scores[top]))]
        return [(self.rows[int(d)], float(scores[d])) for d in top if scores[d] > 0]


def rows_key(rows: list[ChunkRow]) -> str:
    digest = hashlib.sha256(f"v{KEYWORD_VERSION}".encode())
    for row in rows:  # order matters: BM25 document numbers are row positions
        digest.update(row.chunk_id.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:24]


def _save_scores(scores: BM25Scores, folder: Path) -> None:
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    scores.save(tmp)
    (tmp / "complete.json").write_text(json.dumps({"version": KEYWORD_VERSION}))
    try:
        tmp.rename(folder)  # readers see a whole folder or none
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process saved it first
        if not folder.is_dir():
            raise


def _load_scores(folder: Path, n_rows: int) -> BM25Scores | None:
    if not (folder / "complete.json").is_file():
        return None
    try:
        scores = BM25Scores.load(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # damaged: rebuilt, never fatal
        log.info("ignoring the cached keyword index in %s: %s", folder, exc)
        return None
    if scores.num_docs != n_rows or len(scores.indptr) != len(scores.vocab) + 1:
        return None
    return scores


def _prune(cache_root: Path, keep: Path) -> None:
    """Drop cached indexes of older builds, newest kept first."""
    folders = [p for p in cache_root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    folders.sort(key=lambda p: (p != keep, -p.stat().st_mtime))
    for old in folders[KEEP_CACHED:]:
        shutil.rmtree(old, ignore_errors=True)


def _index_text(row: ChunkRow) -> str:
    return row.meta.get("embed_text") or row.text
