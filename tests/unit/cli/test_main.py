"""The ``assistant`` command's settings: flags > environment > ``--config`` > defaults.

``assistant search`` runs in-process with the retriever replaced by a recorder (a public
class, swapped with monkeypatch), so no index is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import assistant.retrieval.retriever as retriever_module
from assistant.cli.main import main
from assistant.core.settings import Settings


class RecordingRetriever:
    """Stands in for ``Retriever``: remembers the settings and finds nothing."""

    seen: list[Settings] = []

    def __init__(self, settings: Settings, *args: object, **kwargs: object) -> None:
        RecordingRetriever.seen.append(settings)

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list:
        return []


@pytest.fixture
def search(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # noqa: ANN201
    """Run ``assistant [global flags] search q [flags]``; return the settings it used."""
    monkeypatch.setattr(retriever_module, "Retriever", RecordingRetriever)
    RecordingRetriever.seen = []

    def run(*flags: str, config: Path | None = None) -> Settings:
        argv = (["--config", str(config)] if config else []) + ["search", "q", *flags]
        assert main(argv) == 0, capsys.readouterr().err
        assert "No matching papers." in capsys.readouterr().out
        return RecordingRetriever.seen[-1]

    return run


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[retrieval]\nk = 7\nmode = "dense"\n[index]\nchroma_url = "http://file:1"\n',
        encoding="utf-8",
    )
    return path


def test_defaults(search) -> None:  # noqa: ANN001
    settings = search()
    assert settings.retrieval == Settings().retrieval and settings.index == Settings().index


def test_config_file_beats_defaults(search, config: Path) -> None:  # noqa: ANN001
    settings = search(config=config)
    assert (settings.retrieval.k, settings.retrieval.mode) == (7, "dense")
    assert settings.index.chroma_url == "http://file:1"


def test_environment_beats_config_file(search, config: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__K", "8")
    monkeypatch.setenv("ASSISTANT_INDEX__CHROMA_URL", "http://env:2")
    settings = search(config=config)
    assert (settings.retrieval.k, settings.index.chroma_url) == (8, "http://env:2")
    assert settings.retrieval.mode == "dense"  # from the file: the environment left it


def test_flags_beat_environment_and_config_file(
    search,  # noqa: ANN001
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__K", "8")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__MODE", "hybrid")
    flags = ["-k", "3", "--mode", "bm25", "--index-dir", str(tmp_path / "ix")]
    settings = search(*flags, "--chroma-url", "http://flag:3", config=config)
    assert (settings.retrieval.k, settings.retrieval.mode) == (3, "bm25")
    assert settings.index.persist_dir == tmp_path / "ix"
    assert settings.index.chroma_url == "http://flag:3"


def test_bad_settings_are_one_line_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(retriever_module, "Retriever", RecordingRetriever)
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__K", "zero")
    assert main(["search", "q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "retrieval.k" in err and err.count("\n") == 1
    monkeypatch.delenv("ASSISTANT_RETRIEVAL__K")
    assert main(["--config", str(tmp_path / "missing.toml"), "search", "q"]) == 2
    assert "config file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse: a bad flag value
        main(["search", "q", "--mode", "sparse"])
    assert exit_info.value.code == 2
