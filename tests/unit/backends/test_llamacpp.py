"""The llamacpp backend's configuration errors (no model is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends import registry
from assistant.core.errors import ConfigError
from assistant.core.settings import LLMSettings


def test_llamacpp_missing_model_names_path_and_setting(allow_real: None, tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ConfigError, match="nope.gguf.*llm.model_path"):
        registry.create_backend("llamacpp", LLMSettings(model_path=missing))
    with pytest.raises(ConfigError, match="other.gguf"):
        registry.create_backend(f"llamacpp:{tmp_path / 'other.gguf'}")
