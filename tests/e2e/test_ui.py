"""The web UI with the default models: all-MiniLM-L6-v2 index + bundled SmolLM2."""

from __future__ import annotations

import pytest
from gradio_client import Client

from assistant.core.settings import Settings
from assistant.ui.serve import cleanup, create_ui, launch
from tests.netutil import free_port

QUESTION = "Which papers address failure modes of physics-informed neural networks?"


def settings_on_free_port(base: Settings) -> Settings:
    return base.with_overrides(ui__port=free_port())


@pytest.mark.slow
def test_ask_api_with_bundled_model(real_index: Settings, real_models):
    """The default setup end to end: MiniLM index + bundled SmolLM2 through llama.cpp."""
    settings = settings_on_free_port(real_index).with_overrides(llm__backend="llamacpp")
    ui, demo = create_ui(settings)
    _, url, _ = launch(ui, demo, prevent_thread_lock=True, quiet=True)
    try:
        assert "llama.cpp" in ui.info("llamacpp")
        result = Client(url, verbose=False).predict(QUESTION, [], api_name="/ask")
        assert ui.assistant.backend().name == "llamacpp"
        # A 135M model may be replaced by quoted sentences when unsupported; either way
        # the answer is cited from the retrieved papers.
        assert result["backend"] in ("llamacpp", "extractive")
        assert result["text"] and result["citations"] and not result["abstained"]
        assert any("physics-informed" in s["title"].lower() for s in result["sources"])
    finally:
        demo.close()
        cleanup(ui)
