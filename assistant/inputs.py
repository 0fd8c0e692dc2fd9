"""Validating what users send: the question and the chat history."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from assistant.errors import UserInputError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_question(question: Any, max_chars: int) -> str:
    if not isinstance(question, str):
        raise UserInputError("the question must be text")
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", question)).strip()
    if not text:
        raise UserInputError("the question is empty")
    if len(text) > max_chars:
        raise UserInputError(f"the question is {len(text)} characters; the limit is {max_chars}")
    return text


def normalize_history(history: list[Any] | None, max_turns: int) -> list[dict[str, str]]:
    """Accept [{'role','content'}] (OpenAI/Gradio style) or [(user, assistant)] pairs."""
    turns: list[dict[str, str]] = []
    for item in history or []:
        if isinstance(item, dict):
            content = item.get("content")
            if isinstance(content, str) and item.get("role") in ("user", "assistant"):
                turns.append({"role": item["role"], "content": content})
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            for role, content in zip(("user", "assistant"), item, strict=True):
                if isinstance(content, str) and content:
                    turns.append({"role": role, "content": content})
    return turns[-2 * max_turns :] if max_turns else []
