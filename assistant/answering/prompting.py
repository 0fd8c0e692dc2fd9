"""Prompt files, checked for their placeholders, and safe rendering with retrieved text.

Templates are rendered with ``str.format_map`` on the template only: values are inserted
verbatim and never parsed, so braces or template syntax inside an abstract stay inert.
The fence markers are removed from document text so an abstract cannot close the data
block and smuggle in instructions.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.core.errors import ConfigError
from assistant.core.settings import PROJECT_ROOT
from assistant.core.types import NumberedSource

PROMPTS_DIR = PROJECT_ROOT / "prompts"
PLACEHOLDERS = {
    "system.md": {"no_answer"},
    "qa.md": {"context", "question"},
    "no_answer.md": set(),
}
FENCE_OPEN, FENCE_CLOSE = "<<<SOURCES", "SOURCES>>>"
_FENCE_BITS = re.compile(r"<<<|>>>|SOURCES")


@cache
def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> str:
    """Read ``prompts/<name>`` and check it has exactly its allowed placeholders."""
    path = folder / name
    if not path.is_file():
        raise ConfigError(f"prompt file missing: {path}")
    text = path.read_text(encoding="utf-8").strip()
    found = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    expected = PLACEHOLDERS.get(name, set())
    if found != expected:
        raise ConfigError(
            f"prompt {path} has placeholders {sorted(found)}, expected {sorted(expected)}"
        )
    return text


def no_answer_text() -> str:
    """The sentinel sentence used when the collection does not answer."""
    return load_prompt("no_answer.md")


NO_ANSWER = no_answer_text()  # tests and the UI assert on this sentinel


def _inert(text: str) -> str:
    return _FENCE_BITS.sub(" ", text)


def format_context(evidence: list[NumberedSource]) -> str:
    blocks = []
    for ev in evidence:
        body = " ".join(_inert(s) for s in ev.passages)
        blocks.append(f"[{ev.number}] {_inert(ev.title)}: {body}")
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class PromptParts:
    system: str
    user: str

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def build_prompt(question: str, evidence: list[NumberedSource]) -> PromptParts:
    system = load_prompt("system.md").format_map({"no_answer": no_answer_text()})
    user = load_prompt("qa.md").format_map(
        {"context": format_context(evidence), "question": _inert(question)}
    )
    return PromptParts(system=system, user=user)
