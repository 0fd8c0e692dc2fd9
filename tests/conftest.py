"""Test-wide guards and fixtures.

Unit tests run with real models blocked (``ALLOW_REAL_MODELS`` / ``ALLOW_REAL_BACKENDS``
False) and with the fast fakes. Tests marked ``slow`` may load the real embedding model or
the bundled GGUF; they enable the guard themselves through the ``real_models`` fixture.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
for key in [k for k in os.environ if k.startswith("ASSISTANT_")]:
    del os.environ[key]  # a developer's own settings must not leak into tests

import pytest  # noqa: E402

import assistant.backends as backends  # noqa: E402
import assistant.index.embeddings as embeddings  # noqa: E402
from assistant.core.settings import PROJECT_ROOT, Settings  # noqa: E402

DATA_DIR = PROJECT_ROOT / "data"
QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"


# Folders say what a test needs; the marker follows from the folder (pytest -m unit, …).
FOLDER_MARKERS = {"unit": "unit", "e2e": "slow", "browser": "browser"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".py" and tests_root not in path.parents:
            item.add_marker("unit")  # a doctest in the package
            continue
        parts = path.relative_to(tests_root).parts
        marker = FOLDER_MARKERS.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def _block_real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "ALLOW_REAL_BACKENDS", False)
    monkeypatch.setattr(embeddings, "ALLOW_REAL_MODELS", False)


@pytest.fixture
def real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to the real embedding model and real backends for one test."""
    monkeypatch.setattr(backends, "ALLOW_REAL_BACKENDS", True)
    monkeypatch.setattr(embeddings, "ALLOW_REAL_MODELS", True)


@pytest.fixture
def allow_real(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to real backends (HTTP clients, llama.cpp) for one test; embedders stay fake."""
    monkeypatch.setattr(backends, "ALLOW_REAL_BACKENDS", True)


def make_settings(
    index_dir: Path, sources: list[Path] | None = None, *, real: bool = False, **overrides: object
) -> Settings:
    """Settings for a test index: hash embedder unless ``real``; fake backend by default."""
    settings = Settings(
        ingest={"sources": sources or [DATA_DIR]},
        index={"persist_dir": index_dir, "embedder": "sentence-transformers" if real else "hash"},
        llm={"backend": "fake"},
    )
    return settings.with_overrides(**overrides) if overrides else settings


@pytest.fixture
def hash_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "index")


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus ingested with the hash embedder (fast), shared read-only."""
    from assistant.ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("hash") / "index")
    run_ingest(settings)
    return settings


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus embedded with the real all-MiniLM-L6-v2, shared read-only."""
    from assistant.ingest.pipeline import run_ingest

    saved = embeddings.ALLOW_REAL_MODELS
    embeddings.ALLOW_REAL_MODELS = True
    try:
        settings = make_settings(tmp_path_factory.mktemp("real") / "index", real=True)
        run_ingest(settings)
    finally:
        embeddings.ALLOW_REAL_MODELS = saved
    return settings


def copy_index(settings: Settings, dest: Path) -> Settings:
    """A private, writable copy of a shared index."""
    shutil.copytree(settings.index.persist_dir, dest)
    return settings.with_overrides(index__persist_dir=dest)
