"""The openai backend's configuration errors (nothing is contacted)."""

from __future__ import annotations

import pytest

from assistant.backends import registry
from assistant.core.errors import ConfigError
from assistant.core.settings import LLMSettings


def test_openai_needs_base_url(allow_real: None) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        registry.create_backend("openai", LLMSettings())
