"""One in-process web UI for the UI integration tests: real corpus, hash embedder, fake
backend, launched once for the package."""

from __future__ import annotations

import pytest
from gradio_client import Client

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.core.settings import Settings
from assistant.ui.serve import cleanup, create_ui, launch
from tests.netutil import free_port

QUESTION = "Which papers address failure modes of physics-informed neural networks?"
FOLLOW_UP = "What about their training dynamics?"


def settings_on_free_port(base: Settings) -> Settings:
    return base.with_overrides(ui__port=free_port())


@pytest.fixture(scope="package")
def fake() -> FakeBackend:
    return FakeBackend(delay_s=0.005)


@pytest.fixture(scope="package")
def served(hash_index: Settings, fake: FakeBackend):
    settings = settings_on_free_port(hash_index)
    ui, demo = create_ui(settings, Assistant(settings, backend=fake))
    _, url, _ = launch(ui, demo, prevent_thread_lock=True, quiet=True)
    yield ui, demo, url
    demo.close()
    cleanup(ui)


@pytest.fixture(scope="package")
def client(served) -> Client:
    return Client(served[2], verbose=False)


@pytest.fixture(autouse=True)
def _reset_fake(fake: FakeBackend):
    yield
    fake.responses.clear()
    fake.raise_exc = None
    fake.response_fn = None
