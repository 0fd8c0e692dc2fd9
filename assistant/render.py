"""Plain-text rendering of answers for the terminal (``ask``, ``chat``)."""

from __future__ import annotations

import sys
from typing import TextIO

from assistant.chat import Assistant
from assistant.errors import AssistantError
from assistant.types import Answer


def format_sources(answer: Answer) -> str:
    cited = {c.number: c for c in answer.citations}
    lines = []
    for src in answer.sources:
        mark = ""
        if src.number in cited:
            mark = "  ✓ cited" if cited[src.number].supported else "  ⚠ cited, weakly supported"
        lines.append(f"  [{src.number}] {src.title} (score {src.score:.3f}){mark}")
    return "\n".join(lines)


def format_answer_text(answer: Answer) -> str:
    parts = []
    if answer.rewritten:
        parts.append(f"(searched for: {answer.standalone_query})")
    label = answer.backend
    if answer.fallback_reason:
        label += f" — fallback: {answer.fallback_reason}"
    parts.append(answer.text)
    if not answer.complete:
        parts.append("[answer interrupted]")
    if answer.sources:
        parts.append("Sources:\n" + format_sources(answer))
    t = answer.timings
    first = f"first token {t.first_token_ms:.0f} ms, " if t.first_token_ms is not None else ""
    parts.append(f"[{label}; retrieval {t.retrieval_ms:.0f} ms, {first}total {t.total_ms:.0f} ms]")
    return "\n\n".join(parts)


def terminal_chat(assistant: Assistant, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """A line-based chat loop; ``/new`` clears the history, ``/quit`` or EOF ends it."""
    history: list[dict[str, str]] = []
    out.write("Ask about the papers. /new starts over, /quit exits.\n")
    while True:
        out.write("\nyou> ")
        out.flush()
        line = stdin.readline()
        if not line or line.strip() in ("/quit", "/exit"):
            return 0
        question = line.strip()
        if question == "/new":
            history.clear()
            out.write("(new conversation)\n")
            continue
        if not question:
            continue
        try:
            answer = _stream_one(assistant, question, history, out)
        except AssistantError as exc:
            out.write(f"error: {exc.user_message()}\n")
            continue
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]


def _stream_one(
    assistant: Assistant, question: str, history: list[dict[str, str]], out: TextIO
) -> Answer:
    out.write("assistant> ")
    for event in assistant.stream(question, history):
        if event.kind == "text":
            out.write(event.text)
            out.flush()
        elif event.kind == "notice":
            out.write(f"\n({event.text})\n")
        elif event.kind == "done" and event.answer is not None:
            out.write("\n\n" + format_answer_text(event.answer) + "\n")
            return event.answer
    raise AssistantError("no answer produced")
