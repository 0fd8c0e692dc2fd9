"""Sentence similarity for evidence selection and claim support, with an embedding cache.

Both scores blend meaning (cosine of sentence embeddings) with wording (content-word
overlap); the weights are settings (``answer.relevance_semantic_weight`` and
``answer.support_semantic_weight``) because the calibrated thresholds depend on them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

from assistant.core.text import overlap
from assistant.index.embeddings import Embedder

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def numbers_found(claim: str, evidence: str) -> float:
    """Share of the claim's numbers that the evidence also states (1.0 if it has none).

    >>> numbers_found("510 cows, 11 W", "we saved 11 W on 12 GPUs")
    0.5
    """
    wanted = set(_NUMBER.findall(claim))
    if not wanted:
        return 1.0
    return len(wanted & set(_NUMBER.findall(evidence))) / len(wanted)


class SentenceScorer:
    """Cosine similarity between sentences, with an LRU cache of embeddings."""

    def __init__(
        self,
        embedder: Embedder,
        cache_size: int = 20000,
        relevance_weight: float = 0.7,
        support_weight: float = 0.5,
    ) -> None:
        self.embedder = embedder
        self.relevance_weight = relevance_weight
        self.support_weight = support_weight
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            fresh = self.embedder.embed(missing)
            with self._lock:
                for text, vec in zip(missing, fresh, strict=True):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))

    def relevance(self, query: str, sentences: list[str]) -> list[float]:
        """Query-to-sentence relevance: mostly semantic, partly lexical."""
        if not sentences:
            return []
        vecs = self.vectors([query, *sentences])
        cos = vecs[1:] @ vecs[0]
        w = self.relevance_weight
        return [
            w * float(c) + (1 - w) * overlap(query, s) for c, s in zip(cos, sentences, strict=True)
        ]

    def support(self, claim: str, sentences: list[str]) -> tuple[float, str]:
        """How well ``sentences`` support ``claim`` (0..1) and the best sentence."""
        if not sentences or not claim.strip():
            return 0.0, ""
        vecs = self.vectors([claim, *sentences])
        cos = vecs[1:] @ vecs[0]
        w = self.support_weight
        scores = [
            w * max(0.0, float(c)) + (1 - w) * overlap(claim, s)
            for c, s in zip(cos, sentences, strict=True)
        ]
        best = int(np.argmax(scores))
        # Small models invent figures ("510 cattle", "2.1%"): a number the cited abstract
        # never states scales the support down, whatever the wording overlap.
        found = numbers_found(claim, " ".join(sentences))
        return round(min(1.0, scores[best] * found), 4), sentences[best]
