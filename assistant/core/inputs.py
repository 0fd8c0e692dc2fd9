"""Validating what users send: the question and the chat history.

History is typed (``Message``) but plain data is accepted too: ``{"role", "content"}``
dicts (OpenAI and Gradio style), ``(user, assistant)`` pairs, ``Message`` objects, and an
``Answer`` standing for the assistant turn that produced it (which lets a follow-up refer
to that answer's numbered sources).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from assistant.core.errors import UserInputError
from assistant.core.types import Answer, Message

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A lone surrogate cannot be encoded, printed or sent anywhere; it is never text a person typed.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """NFC, control characters and lone surrogates replaced by spaces, trimmed.

    >>> clean_text(" caf\\u0065\\u0301 \\x07PINN\\udce9? ")
    'café  PINN ?'
    """
    text = _SURROGATE.sub(" ", text)
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()


def clean_question(question: Any, max_chars: int) -> str:
    if isinstance(question, bytes):
        question = question.decode("utf-8", errors="replace")
    if not isinstance(question, str):
        raise UserInputError(f"the question must be text, not {type(question).__name__}")
    text = clean_text(question)
    if not text:
        raise UserInputError("the question is empty")
    if len(text) > max_chars:
        raise UserInputError(f"the question is {len(text)} characters; the limit is {max_chars}")
    return text


def normalize_history(history: Any, max_turns: int, max_chars: int = 4000) -> list[Message]:
    """The last ``max_turns`` exchanges as ``Message``s; each turn's text capped at
    ``max_chars`` (an old answer's length must not become the cost of a new question).

    >>> [m.role for m in normalize_history([("Q?", "A.")], 6)]
    ['user', 'assistant']
    """
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise UserInputError(f"history must be a list of messages, not {type(history).__name__}")
    turns: list[Message] = []
    for position, item in enumerate(history, start=1):
        turns.extend(_messages(item, position))
    kept = turns[-2 * max_turns :] if max_turns else []
    return [_capped(m, max_chars) for m in kept]


def _messages(item: Any, position: int) -> list[Message]:
    if isinstance(item, Message):
        return [item]
    if isinstance(item, Answer):
        return [
            Message(role="user", content=item.question),
            Message(role="assistant", content=item.text, answer=item),
        ]
    if isinstance(item, dict):
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
        return [Message(role=role, content=content, answer=answer)]
    if isinstance(item, (list, tuple)) and len(item) == 2:
        out = []
        for role, content in zip(("user", "assistant"), item, strict=True):
            if content is None or content == "":
                continue
            if not isinstance(content, str):
                raise UserInputError(f"history item {position} must hold text")
            out.append(Message(role=role, content=content))
        return out
    raise UserInputError(
        f"history item {position} must be a message dict, a (question, answer) pair, "
        f"or an Answer, not {type(item).__name__}"
    )


def _capped(message: Message, max_chars: int) -> Message:
    content = clean_text(message.content)[:max_chars]
    return message.model_copy(update={"content": content})
