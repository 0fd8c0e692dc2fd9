"""A Chroma server that dies (or hangs) mid-session: the Python API, the CLI (ask, search,
chat) and the UI all say "Index server unavailable: …" (exit 5), never a raw httpx error,
and the chat and the web server keep running.

The retriever keeps a small index in memory after its first search, so once loaded it
goes on answering from that copy (and says the server is gone wherever it asks it, as in
the UI's index line). Dense search asks the server on every query only for large indexes
(above ``DENSE_MATRIX_MAX``); the ``server_queries`` fixture sets that limit to 0 to
exercise that path with a small corpus."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.cli.terminal import terminal_chat
from assistant.core.errors import IndexUnavailable
from assistant.core.settings import Settings
from assistant.ingest.pipeline import run_ingest
from assistant.retrieval import retriever as retriever_mod
from assistant.retrieval.retriever import Retriever, search
from assistant.ui.session import ChatSession
from tests.cliutil import cli
from tests.conftest import make_settings
from tests.netutil import free_port

pytestmark = pytest.mark.slow  # a real `chroma run` process
QUESTION = "Which papers address failure modes of physics-informed neural networks?"
UNAVAILABLE = "Index server unavailable: "
PAPERS = [
    ("Failure modes of physics-informed neural networks", "PINNs fail on stiff problems."),
    ("Causal training of physics-informed neural networks", "Causality fixes PINN failures."),
    ("Neural operators for turbulence", "Fourier neural operators model turbulent flows."),
]


class ChromaServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        chroma = Path(sys.executable).parent / "chroma"
        self.proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1"]
            + ["--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        self.kill()
        pytest.fail("chroma server did not start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ChromaServer, Settings]]:
    corpus = tmp_path / "papers.jsonl"
    corpus.write_text(
        "".join(json.dumps({"title": t, "abstract": a}) + "\n" for t, a in PAPERS),
        encoding="utf-8",
    )
    chroma = ChromaServer(tmp_path / "server")
    settings = make_settings(tmp_path / "lock", [corpus], index__chroma_url=chroma.url)
    settings = settings.with_overrides(retrieval__k=3)
    run_ingest(settings)
    try:
        yield chroma, settings
    finally:
        chroma.kill()


@pytest.fixture
def server_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense search goes to the server on every query (as for a large index)."""
    monkeypatch.setattr(retriever_mod, "DENSE_MATRIX_MAX", 0)


def test_python_api_after_the_server_dies(server, server_queries) -> None:
    chroma, settings = server
    bot = Assistant(settings, backend=FakeBackend())
    assert bot.ask(QUESTION).sources  # works while the server is up
    retriever = bot.retriever
    chroma.kill()
    for call in (
        lambda: bot.ask(QUESTION),
        lambda: list(bot.stream(QUESTION)),
        lambda: retriever.search(QUESTION, mode="dense"),
        lambda: retriever.stats(),
        lambda: Retriever(settings),
        lambda: search(QUESTION, settings=settings),
    ):
        with pytest.raises(IndexUnavailable) as info:
            call()
        message = info.value.user_message()
        assert message.startswith(UNAVAILABLE) and chroma.url in message, message
        assert info.value.exit_code == 5


def test_loaded_index_keeps_answering_and_says_the_server_is_gone(server) -> None:
    chroma, settings = server
    bot = Assistant(settings, backend=FakeBackend())
    session = ChatSession(settings, bot)
    assert bot.ask(QUESTION).sources  # loads the (small) index into memory
    chroma.kill()
    assert bot.ask(QUESTION).sources  # answered from the loaded copy
    with pytest.raises(IndexUnavailable, match="lost the Chroma server"):
        bot.retriever.stats()
    assert "Index server unavailable" in session.info("fake")
    with pytest.raises(IndexUnavailable, match="cannot reach the Chroma server"):
        Retriever(settings)


def test_server_dies_before_the_first_question(server) -> None:
    chroma, settings = server
    bot = Assistant(settings, backend=FakeBackend())
    bot.retriever  # noqa: B018  (opened, nothing loaded yet)
    chroma.kill()
    with pytest.raises(IndexUnavailable, match="lost the Chroma server") as info:
        bot.ask(QUESTION)
    assert info.value.user_message().startswith(UNAVAILABLE)


def test_ui_after_the_server_dies(server, server_queries) -> None:
    chroma, settings = server
    session = ChatSession(settings, Assistant(settings, backend=FakeBackend()))
    session.ask_api(QUESTION, [])
    chroma.kill()
    with pytest.raises(gr.Error) as info:
        session.ask_api(QUESTION, [])
    assert info.value.message.startswith(UNAVAILABLE)
    outputs = list(session.respond(QUESTION, [], "fake", "", "", "hybrid", 3))
    chat = outputs[-1][1]
    shown = json.dumps(chat)
    assert UNAVAILABLE in shown and "httpx" not in shown and "Traceback" not in shown
    assert "Index server unavailable" in session.info("fake")


def test_cli_chat_keeps_running_when_the_server_dies(server, server_queries) -> None:
    chroma, settings = server
    bot = Assistant(settings, backend=FakeBackend())
    lines = iter([QUESTION, "__kill__", QUESTION, "/quit"])

    class Input(io.StringIO):
        def readline(self, size: int = -1) -> str:  # type: ignore[override]
            line = next(lines)
            if line == "__kill__":
                chroma.kill()
                line = "What about their training?"
            return line + "\n"

    out = io.StringIO()
    assert terminal_chat(bot, Input(), out) == 0
    text = out.getvalue()
    assert text.count("Sources:") == 1 and text.count(f"error: {UNAVAILABLE}") == 2
    assert "httpx" not in text and "Traceback" not in text


def test_cli_commands_exit_5_with_one_line(server) -> None:
    chroma, settings = server
    env = {
        "ASSISTANT_INDEX__CHROMA_URL": chroma.url,
        "ASSISTANT_INDEX__PERSIST_DIR": str(settings.index.persist_dir),
        "ASSISTANT_INDEX__EMBEDDER": "hash",
        "ASSISTANT_LLM__BACKEND": "fake",
        "ASSISTANT_INGEST__SOURCES": json.dumps([str(p) for p in settings.ingest.sources]),
    }
    assert cli(["search", "PINN failure"], env).returncode == 0
    chroma.kill()
    for args in (["search", "PINN failure"], ["ask", QUESTION]):
        done = cli(args, env)
        assert done.returncode == 5, done.stderr
        assert done.stderr.startswith(f"error: {UNAVAILABLE}") and done.stderr.count("\n") == 1


def test_a_hung_server_times_out(server, server_queries, monkeypatch) -> None:
    import assistant.index.errors as index_errors

    chroma, settings = server
    monkeypatch.setattr(index_errors, "SERVER_TIMEOUT_S", 1.0)
    monkeypatch.setattr(index_errors.bound_timeouts, "__defaults__", (1.0,))
    retriever = Retriever(settings)
    os.kill(chroma.proc.pid, signal.SIGSTOP)  # alive but never answering
    try:
        started = time.monotonic()
        with pytest.raises(IndexUnavailable, match="Timeout"):
            retriever.search(QUESTION, mode="dense")
        assert time.monotonic() - started < 10
    finally:
        os.kill(chroma.proc.pid, signal.SIGCONT)
