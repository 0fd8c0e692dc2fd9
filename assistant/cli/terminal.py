"""Plain-text rendering of answers for the terminal (``ask``, ``chat``), and the one
place terminal output is made safe (``safe_terminal``).

Titles, abstracts, answers and error messages come from files and users: an ESC or C1
byte in one could clear the screen, retitle the window or rewrite what was printed
(``ESC [2J``, ``ESC ]0;… BEL``), and bidi overrides could make text read backwards.
Every line the CLI prints passes through ``safe_terminal``, which shows such characters
as visible escapes; JSON output uses ``safe_json`` (the same characters as JSON escapes).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING, TextIO

from assistant.core.errors import AssistantError
from assistant.core.types import Answer, DoneEvent, NoticeEvent, SourcesEvent, TextEvent

if TYPE_CHECKING:  # the heavy answering stack loads only when a command needs it
    from assistant.answering.assistant import Assistant

log = logging.getLogger(__name__)

# C0 controls except tab and newline (CR too: it lets text overwrite a line), DEL, C1,
# bidi marks, embeddings, overrides and isolates, and lone surrogates (unprintable).
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# JSON escapes C0 itself; the rest of the unsafe set is escaped here.
_UNSAFE_JSON = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The longest chat line read at once; a longer one is refused, not held in memory.
MAX_LINE_CHARS = 16_000
KEPT_ANSWERS = 50  # chat history kept (only the last few turns are ever used)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_terminal(text: object) -> str:
    r"""``text`` with terminal control characters shown as escapes.

    >>> safe_terminal("T\x1b[2J\x1b]0;pwned\x07 \u202eevil\nok")
    'T\\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil\nok'
    """
    return _UNSAFE.sub(_visible, str(text))


def safe_json(text: str) -> str:
    """JSON text with C1, bidi and surrogate characters written as ``\\u`` escapes
    (equivalent JSON, inert on a terminal)."""
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeWriter:
    """A text stream whose every write goes through ``safe_terminal``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(safe_terminal(text))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


class SafeFormatter(logging.Formatter):
    """Log lines (which may quote titles or paths) made safe for the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_terminal(super().format(record))


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
    """The whole answer for ``assistant ask``: text, then sources and timings."""
    head = [f"(searched for: {answer.standalone_query})"] if answer.rewritten else []
    return "\n\n".join([*head, answer.text, format_answer_footer(answer)])


def format_answer_footer(answer: Answer) -> str:
    """What follows an answer's text: interruption, sources, backend and timings."""
    parts = []
    label = answer.backend
    if answer.fallback_reason:
        label += f" — fallback: {answer.fallback_reason}"
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
    out = SafeWriter(out)  # type: ignore[assignment]  (answers quote untrusted text)
    out.write("Ask about the papers. /help lists the commands.\n")
    while True:
        out.write("\nyou> ")
        out.flush()
        line = _read_line(stdin)
        question = line.strip() if line is not None else ""
        if line == "" or question in ("/quit", "/exit"):
            return 0
        if line is None:
            out.write(f"error: Invalid input: lines are limited to {MAX_LINE_CHARS} characters\n")
            continue
        if not question:
            continue
        if question.startswith("/"):
            out.write(_command(question, history) + "\n")
            continue
        try:
            history.append(_answer_one(assistant, question, history, out))
            del history[:-KEPT_ANSWERS]
        except AssistantError as exc:  # e.g. the index server went away: say so, keep going
            out.write(f"\nerror: {exc.user_message()}\n")
        except Exception as exc:  # a bug must not end the user's session
            log.exception("chat answer failed")
            out.write(f"\nerror: something went wrong ({type(exc).__name__}); see --debug\n")


def _read_line(stdin: TextIO) -> str | None:
    """One line ("" at end of input), or None when it was longer than ``MAX_LINE_CHARS``
    (the rest of it is read and dropped a piece at a time)."""
    line = stdin.readline(MAX_LINE_CHARS + 1)
    if len(line) <= MAX_LINE_CHARS or line.endswith("\n"):
        return line
    while (rest := stdin.readline(MAX_LINE_CHARS)) and not rest.endswith("\n"):
        pass
    return None


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
    """Stream the answer: only verified sentences are ever printed, once each; the
    sources and timings follow when it is done."""
    out.write("assistant> ")
    out.flush()
    for event in assistant.stream(question, history):
        if isinstance(event, SourcesEvent) and event.rewritten:
            out.write(f"(searched for: {event.standalone_query})\n")
        elif isinstance(event, TextEvent):
            out.write(event.text)
            out.flush()
        elif isinstance(event, NoticeEvent):
            out.write(f"\n({event.text})\n")
        elif isinstance(event, DoneEvent):
            answer = event.answer
            if answer.abstained:  # abstentions are composed at the end, not streamed
                out.write(answer.text)
            out.write("\n\n" + format_answer_footer(answer) + "\n")
            return answer
    raise AssistantError("no answer produced")
