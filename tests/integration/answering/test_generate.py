"""Fallback when an OpenAI-compatible server is down or dies mid-answer: a real HTTP
client against loopback sockets, on the hash-embedder index."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from assistant.answering.assistant import Assistant
from assistant.retrieval.retriever import Retriever
from tests.netutil import free_port, socket_server

PINN_Q = "Which papers address failure modes of physics-informed neural networks?"


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
