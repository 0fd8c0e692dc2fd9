"""End to end through the public API and CLI, with real components where it matters."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.answering.assistant import Assistant
from assistant.core.settings import PROJECT_ROOT
from assistant.retrieval.retriever import Retriever
from tests.netutil import free_port, socket_server

PINN_Q = "Which papers address failure modes of physics-informed neural networks?"


def cli(args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 300):  # noqa: ANN201
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


def index_env(settings) -> dict[str, str]:  # noqa: ANN001
    return {
        "ASSISTANT_INDEX__PERSIST_DIR": str(settings.index.persist_dir),
        "ASSISTANT_INDEX__EMBEDDER": settings.index.embedder,
    }


def _dies_mid_answer(conn: socket.socket) -> None:
    """An OpenAI-compatible server that streams two tokens and then dies."""
    conn.recv(65536)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    conn.sendall(head)
    for word in (b"Physics", b" informed"):
        chunk = (
            b'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m",'
            b'"choices":[{"index":0,"delta":{"content":"' + word + b'"},'
            b'"finish_reason":null}]}\n\n'
        )
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        time.sleep(0.1)
    conn.close()


@pytest.mark.parametrize("scenario", ["dead_url", "dies_mid_answer"])
def test_openai_server_down_gives_labelled_extractive_answer(
    hash_index,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,  # noqa: ANN001
) -> None:
    import assistant.backends as backends

    monkeypatch.setattr(backends, "ALLOW_REAL_BACKENDS", True)  # a real HTTP client, no model
    retriever = Retriever(hash_index)
    settings = hash_index.with_overrides(
        llm__backend="openai:m", llm__timeout_s=5.0, answer__abstain_threshold=0.1
    )
    with contextlib.ExitStack() as stack:
        if scenario == "dead_url":
            url = f"http://127.0.0.1:{free_port()}/v1"
        else:
            url = stack.enter_context(socket_server(_dies_mid_answer))
        assistant = Assistant(settings.with_overrides(llm__base_url=url), retriever=retriever)
        started = time.monotonic()
        events = list(assistant.stream(PINN_Q))
        elapsed = time.monotonic() - started
    answer = events[-1].answer
    assert elapsed < settings.llm.timeout_s + 1
    assert answer.backend == "extractive" and answer.citations
    assert "unavailable" in answer.fallback_reason.lower() or "lost" in answer.fallback_reason
    notices = [e.text for e in events if e.kind == "notice"]
    assert notices and "extractive" in notices[0]


def test_cli_ask_search_and_chat(hash_index) -> None:  # noqa: ANN001
    env = {
        **index_env(hash_index),
        "ASSISTANT_LLM__BACKEND": "fake",
        "ASSISTANT_ANSWER__ABSTAIN_THRESHOLD": "0.1",
    }
    out = cli(["search", "physics-informed neural networks failure modes", "-k", "3"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(" 1. [") and " 3. [" in out.stdout

    out = cli(["ask", PINN_Q], env)
    assert out.returncode == 0, out.stderr
    assert "[1]" in out.stdout and "Sources:" in out.stdout and "[fake;" in out.stdout

    out = cli(
        ["chat"],
        env,
        stdin=(
            "Is there a paper on physics-informed neural operators for large-eddy simulation?\n"
            "What flows did they test it on?\n/quit\n"
        ),
    )
    assert out.returncode == 0, out.stderr
    assert "(searched for: What flows did they test it on? (regarding:" in out.stdout
    assert out.stdout.count("Sources:") == 2


def test_cli_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    env = {
        "ASSISTANT_INDEX__PERSIST_DIR": str(tmp_path / "none"),
        "ASSISTANT_INDEX__EMBEDDER": "hash",
    }
    out = cli(["search", "anything"], env)
    assert out.returncode == 5
    assert out.stderr.strip() == (
        f"error: No index: no collection 'abstracts' at {tmp_path / 'none'}; "
        "run `assistant ingest` to build it"
    )
    out = cli(["ask", "x", "--backend", "nope"], env)
    assert out.returncode == 2 and "unknown backend 'nope'" in out.stderr
    assert "Traceback" not in out.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "T"}\n', encoding="utf-8")
    out = cli(["ingest", "--source", str(bad)], env)
    assert out.returncode == 3 and f"{bad}:1: empty or missing abstract" in out.stderr
    out = cli(["search", "x"], {**env, "ASSISTANT_RETRIEVAL__K": "zero"})
    assert out.returncode == 2 and "retrieval.k" in out.stderr


@pytest.mark.slow
def test_bundled_model_answers_with_valid_citations(real_index, real_models) -> None:  # noqa: ANN001
    """The default backend (llamacpp + bundled SmolLM2) end to end on the real index."""
    assistant = Assistant(real_index.with_overrides(llm__backend="llamacpp"))
    answer = assistant.ask(PINN_Q)
    assert not answer.abstained
    assert answer.backend == "llamacpp", answer.fallback_reason
    assert answer.timings.first_token_ms is not None
    numbers = {s.number for s in answer.sources}
    assert answer.citations and all(c.number in numbers for c in answer.citations)
    assert any(c.supported for c in answer.citations)
    for c in answer.citations:
        source = answer.sources[c.number - 1]
        assert c.paper_id == source.paper_id
        assert c.snippet == source.title or c.snippet in source.abstract
        assert f"[{c.number}]" in answer.text
    follow = assistant.ask(
        "What sampling method do they propose?",
        [{"role": "user", "content": PINN_Q}, {"role": "assistant", "content": answer.text}],
    )
    assert follow.rewritten and follow.sources


@pytest.mark.slow
def test_cli_ask_with_no_configuration(real_index) -> None:  # noqa: ANN001
    """`assistant ask` with defaults (llamacpp, real embedder): only the index folder is set."""
    out = cli(["ask", PINN_Q], {"ASSISTANT_INDEX__PERSIST_DIR": str(real_index.index.persist_dir)})
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout and "[1]" in out.stdout
    assert "[llamacpp;" in out.stdout or "[extractive — fallback" in out.stdout
