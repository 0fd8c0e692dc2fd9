"""Plain-text rendering of answers for the terminal (``ask``, ``chat``)."""

from __future__ import annotations

import sys
from typing import TextIO

from assistant.answering.assistant import Assistant
from assistant.core.errors import AssistantError
from assistant.core.types import Answer


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


HELP = """Commands:
  /help     this list
  /sources  the sources of the last answer
  /new      start a new conversation
  /quit     leave (Ctrl+D works too)
Anything else is a question; follow-ups use the conversation."""


def terminal_chat(assistant: Assistant, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """A line-based chat loop with slash commands (``/help``)."""
    history: list[Answer] = []
    out.write("Ask about the papers. /help lists the commands.\n")
    while True:
        out.write("\nyou> ")
        out.flush()
        line = stdin.readline()
        question = line.strip()
        if not line or question in ("/quit", "/exit"):
            return 0
        if not question:
            continue
        if question.startswith("/"):
            out.write(_command(question, history) + "\n")
            continue
        try:
            history.append(_answer_one(assistant, question, history, out))
        except AssistantError as exc:
            out.write(f"error: {exc.user_message()}\n")


def _command(command: str, history: list[Answer]) -> str:
    name = command.split()[0].lower()
    if name == "/help":
        return HELP
    if name == "/new":
        history.clear()
        return "(new conversation)"
    if name == "/sources":
        return format_sources(history[-1]) if history else "(no answer yet)"
    return f"unknown command {name}; /help lists the commands"


def _answer_one(assistant: Assistant, question: str, history: list[Answer], out: TextIO) -> Answer:
    """Only the checked answer is printed: raw model text never reaches the terminal."""
    out.write("assistant> (searching and writing…)")
    out.flush()
    answer = assistant.ask(question, history)
    out.write("\r\033[K" if out.isatty() else "\n")
    out.write(format_answer_text(answer) + "\n")
    return answer
