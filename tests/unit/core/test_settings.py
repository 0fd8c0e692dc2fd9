"""Settings precedence: per-call options and CLI flags > environment
(``ASSISTANT_<SECTION>__<FIELD>``) > ``--config`` file > defaults; typos fail loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import ConfigError
from assistant.core.settings import OPTIONS, Settings, load_settings


def toml_file(tmp_path: Path, text: str = '[retrieval]\nk = 7\nmode = "dense"\n') -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings()
    assert settings == Settings()
    assert (settings.retrieval.k, settings.retrieval.mode, settings.llm.backend) == (
        5,
        "hybrid",
        "llamacpp",
    )


def test_config_file_beats_defaults(tmp_path: Path) -> None:
    from_toml = load_settings(toml_file(tmp_path))
    assert (from_toml.retrieval.k, from_toml.retrieval.mode) == (7, "dense")
    assert from_toml.retrieval.candidates == Settings().retrieval.candidates  # untouched
    as_json = tmp_path / "settings.json"
    as_json.write_text(json.dumps({"llm": {"backend": "fake", "timeout_s": 5}}))
    from_json = load_settings(as_json)
    assert (from_json.llm.backend, from_json.llm.timeout_s) == ("fake", 5.0)


def test_environment_beats_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__K", "8")
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "extractive")
    settings = load_settings()
    assert (settings.retrieval.k, settings.llm.backend) == (8, "extractive")


def test_environment_beats_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__K", "8")
    settings = load_settings(toml_file(tmp_path))
    assert settings.retrieval.k == 8, "the environment must beat the --config file"
    assert settings.retrieval.mode == "dense"  # the file still beats the default


def test_options_beat_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__K", "8")
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "extractive")
    base = load_settings(toml_file(tmp_path))
    settings = base.with_options(k=3, backend="fake", mode=None)  # None: not given
    assert (settings.retrieval.k, settings.llm.backend) == (3, "fake")
    assert settings.retrieval.mode == base.retrieval.mode
    assert base.with_overrides(retrieval__k=4).retrieval.k == 4
    assert load_settings(None, retrieval__k=2).retrieval.k == 2


def test_every_option_names_a_real_setting() -> None:
    settings = Settings()
    for option, dotted in OPTIONS.items():
        section, field = dotted.split("__")
        assert hasattr(getattr(settings, section), field), option


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ASSISTANT_RETRIEVAL__K": "zero"}, "retrieval.k"),
        ({"ASSISTANT_LLM__BACKNED": "fake"}, "llm.backned"),
    ],
)
def test_bad_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_bad_files_options_and_overrides_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_settings(toml_file(tmp_path, "[retrieval\nk = "))
    with pytest.raises(ConfigError, match="retrieval.kk"):
        load_settings(toml_file(tmp_path, "[retrieval]\nkk = 3\n"))
    with pytest.raises(ConfigError, match="unknown option"):
        Settings().with_options(temprature=0.3)
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings().with_overrides(retrieval=3)
    with pytest.raises(ConfigError, match="retrieval.k"):
        Settings().with_options(k=0)
