"""Follow-up questions -> standalone search queries.

A 135M model rewrites unreliably, so this is deterministic: a question that leans on the
conversation (pronouns such as "they" or "this method", "what about ...", very short
questions) gets the topic of the earlier turns appended; a question that already stands
alone is returned unchanged.

>>> from assistant.core.types import Message
>>> first = Message(role="user", content="Is there a paper on neural operators for LES?")
>>> standalone_query("What flows did they test it on?", [first])
'What flows did they test it on? (regarding: neural operators for LES)'
>>> standalone_query("Which papers study PINN failure modes?", [])
'Which papers study PINN failure modes?'
"""

from __future__ import annotations

import re

from assistant.core.types import Message

# "that"/"this" are too often conjunctions or part of a standalone question ("the paper
# that shows ...") to count alone; "this method", "these papers" do refer back.
_FOLLOW_UP = re.compile(
    r"\b(they|them|their|theirs|it|its|he|she|his|her|the authors|the same|above|previous|"
    r"earlier|former|latter|mentioned|first one|second one|last one|"
    # "the paper" refers back unless a description follows ("the paper that shows ...")
    r"the (?:paper|papers|method|model|approach|study)(?!\s+(?:that|which|where|on|about|"
    r"from|by|with|in|for|using|proposing|showing|studying))|"
    r"(?:this|these|those)\s+(?:paper|papers|method|methods|model|models|work|works|"
    r"approach|study|studies|result|results|dataset|datasets|one|ones|technique|algorithm)|"
    # after "that", plural forms read as verbs ("the paper that studies ...")
    r"that\s+(?:paper|method|model|approach|study|dataset|one|technique|algorithm))\b",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(r"^\s*(and|also|so|but|what about|how about|and what about)\b", re.I)
_SCAFFOLD = re.compile(
    r"^\s*(is there|are there|do you have|can you find|find|show me|tell me about|"
    r"which|what|who|how|any)\b.*?\b(papers?|work|research|studies|study|articles?)\s+"
    r"(on|about|that|which|address|addresses|addressing|regarding|for|study|studies|studying|"
    r"use|uses|using|discuss|discusses|propose|proposes|investigate|investigates)\s+",
    re.IGNORECASE,
)
_CONTENT = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")


def needs_rewrite(question: str) -> bool:
    words = _CONTENT.findall(question)
    return bool(_FOLLOW_UP.search(question) or _LEAD_IN.search(question) or len(words) <= 2)


def topic_of(text: str) -> str:
    """The subject of an earlier question: its scaffolding removed."""
    topic = _SCAFFOLD.sub("", text.strip()).strip()
    return topic.rstrip("?.! ") or text.strip().rstrip("?.! ")


def standalone_query(question: str, history: list[Message] | None) -> str:
    question = question.strip()
    user_turns = [m.content for m in history or [] if m.role == "user"]
    if not user_turns or not needs_rewrite(question):
        return question
    # The most recent turn that stood on its own names the topic of the conversation.
    for turn in reversed(user_turns):
        if not needs_rewrite(turn):
            return f"{question} (regarding: {topic_of(turn)})"
    return f"{question} (regarding: {topic_of(user_turns[-1])})"
