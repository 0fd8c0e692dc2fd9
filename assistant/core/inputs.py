"""Validating what users send (the question and the chat history) and neutralising
untrusted text (questions, corpus text) before it reaches a prompt or a quoted answer.

History is typed (``Message``) but plain data is accepted too: ``{"role", "content"}``
dicts (OpenAI and Gradio style), ``(user, assistant)`` pairs, ``Message`` objects, and an
``Answer`` standing for the assistant turn that produced it (which lets a follow-up refer
to that answer's numbered sources).

Every check here is linear in a bounded prefix of the input: a 1 MB question is refused
by its length before any regex runs, and a history is read only as far as it is used.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assistant.core.errors import UserInputError
from assistant.core.types import Answer, Message

# C0 (tab and newline kept), DEL and C1: never typed by a person, and C1 \x9b is a
# terminal escape on its own.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible characters that only hide or split words (zero-width space, word joiner,
# BOM, soft hyphen). ZWJ/ZWNJ are kept here: Persian, Indic scripts and emoji need them.
_INVISIBLE = re.compile(r"[\u00ad\u200b\u2060-\u2064\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Bytes that were not valid UTF-8, smuggled into a str by Python's surrogateescape
# (how a shell argument such as $'caf\xe9' reaches sys.argv).
_ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]+")
# Inputs longer than this many times the limit are refused before any cleaning, so the
# cost of refusing a huge input does not grow with its size (NFC can shrink text ~3x).
RAW_SLACK = 4
# A history that is not a list is read at most this far (a generator may never end).
MAX_HISTORY_ITEMS = 10_000


def _from_escaped_bytes(match: re.Match[str]) -> str:
    raw = match.group(0).encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: most likely a Latin-1/Windows-1252 terminal, where \xe9 is "é".
        return raw.decode("cp1252", errors="replace")


def _fix_surrogates(text: str) -> str:
    """Lone surrogates -> text: escaped bytes decoded, UTF-16 pairs joined, the rest spaces.

    >>> _fix_surrogates("caf\\udce9 \\ud83d\\ude00 \\ud800")
    'café 😀  '
    """
    if not _SURROGATE.search(text):
        return text
    text = _ESCAPED_BYTES.sub(_from_escaped_bytes, text)
    # A pair written as two code units (JSON "\\ud83d\\ude00" decoded piecewise) is one char.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return _SURROGATE.sub(" ", text)


def clean_text(text: str) -> str:
    """NFC, control and invisible characters removed, lone surrogates repaired, trimmed.

    >>> clean_text(" caf\\u0065\\u0301 \\x07PI\\u200bNN\\udce9? ")
    'café  PINNé?'
    """
    text = _INVISIBLE.sub("", _fix_surrogates(text))
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _too_long(what: str, length: int, max_chars: int) -> UserInputError:
    return UserInputError(f"the {what} is {length} characters; the limit is {max_chars}")


def clean_question(question: Any, max_chars: int, what: str = "question") -> str:
    """The question as clean text, or ``UserInputError`` (empty, not text, too long)."""
    if isinstance(question, (bytes, bytearray)):
        if len(question) > 4 * RAW_SLACK * max_chars:  # 4 bytes per character at most
            raise _too_long(what, len(question), max_chars)
        # Invalid bytes become surrogates, which clean_text repairs as it does for argv.
        question = bytes(question).decode("utf-8", errors="surrogateescape")
    if not isinstance(question, str):
        raise UserInputError(f"the {what} must be text, not {type(question).__name__}")
    if len(question) > RAW_SLACK * max_chars:
        raise _too_long(what, len(question), max_chars)
    text = clean_text(question)
    if not text:
        raise UserInputError(f"the {what} is empty")
    if len(text) > max_chars:
        raise _too_long(what, len(text), max_chars)
    return text


def normalize_history(history: Any, max_turns: int, max_chars: int = 2000) -> list[Message]:
    """The last ``max_turns`` exchanges as ``Message``s; each turn's text capped at
    ``max_chars`` (an old answer's length must not become the cost of a new question).

    >>> [m.role for m in normalize_history([("Q?", "A.")], 6)]
    ['user', 'assistant']
    """
    if history is None:
        return []
    items = _history_items(history, max_turns)
    turns: list[Message] = []
    for position, item in items:
        turns.extend(_messages(item, position, max_chars))
    return turns[-2 * max_turns :] if max_turns else []


def _history_items(history: Any, max_turns: int) -> list[tuple[int, Any]]:
    """(position, item) for the items that can matter: a list is read from its end only
    (every item holds one or two messages, so ``2 * max_turns`` items are enough)."""
    if isinstance(history, (str, bytes, bytearray, Mapping)) or not isinstance(history, Iterable):
        raise UserInputError(f"history must be a list of messages, not {type(history).__name__}")
    if isinstance(history, Sequence):
        start = max(0, len(history) - 2 * max_turns)
        return [(start + i, item) for i, item in enumerate(history[start:], start=1)]
    items = list(itertools.islice(history, MAX_HISTORY_ITEMS + 1))
    if len(items) > MAX_HISTORY_ITEMS:
        raise UserInputError(
            f"history has more than {MAX_HISTORY_ITEMS} items; send only the recent turns"
        )
    return list(enumerate(items, start=1))[-2 * max_turns :] if max_turns else []


def _message(role: str, content: str, max_chars: int, answer: Answer | None = None) -> Message:
    # Cut before cleaning so a huge turn costs no more than a full-length one.
    text = clean_text(content[: RAW_SLACK * max_chars])[:max_chars]
    return Message(role=role, content=text, answer=answer)


def _messages(item: Any, position: int, max_chars: int) -> list[Message]:
    if isinstance(item, Message):
        return [_message(item.role, item.content, max_chars, item.answer)]
    if isinstance(item, Answer):
        return [
            _message("user", item.question, max_chars),
            _message("assistant", item.text, max_chars, item),
        ]
    if isinstance(item, Mapping):
        return [_from_mapping(item, position, max_chars)]
    if isinstance(item, (list, tuple)) and len(item) == 2:
        out = []
        for role, content in zip(("user", "assistant"), item, strict=True):
            if content is None or content == "":
                continue
            if not isinstance(content, str):
                raise UserInputError(f"history item {position} must hold text")
            out.append(_message(role, content, max_chars))
        return out
    raise UserInputError(
        f"history item {position} must be a message dict, a (question, answer) pair, "
        f"or an Answer, not {type(item).__name__}"
    )


def _from_mapping(item: Mapping[str, Any], position: int, max_chars: int) -> Message:
    role, content, answer = item.get("role"), item.get("content"), item.get("answer")
    if role not in ("user", "assistant") or not isinstance(content, str):
        raise UserInputError(
            f"history item {position} needs 'role' (user or assistant) and text 'content'"
        )
    if answer is not None and not isinstance(answer, Answer):
        try:
            answer = Answer.model_validate(answer)
        except ValueError:
            raise UserInputError(f"history item {position} has an invalid 'answer'") from None
    return _message(role, content, max_chars, answer)
