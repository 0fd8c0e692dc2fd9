"""Follow-up questions -> standalone search queries, and which earlier papers they mean.

A 135M model rewrites unreliably, so this is deterministic. ``resolve`` reads a question
against the conversation:

- a reference to the previous answer's numbered sources ("the second one", "[2]", "that
  paper", "they", "the one about causality", "which of them") *pins* those papers: the
  query names them by title and ``Rewrite.pinned_paper_ids`` lets retrieval search only
  them (``Retriever.search(..., only=...)``);
- a question that leans on the conversation without naming a source (a pronoun, "what
  about ...", a very short question) gets the topic of the earlier turns appended;
- a question that stands alone, or changes the subject, is returned unchanged.

Sources are known only when the history carries the previous ``Answer`` (a ``Message``
with ``answer``); plain ``{"role", "content"}`` history gets the topic rule alone.

>>> from assistant.core.types import Message
>>> first = Message(role="user", content="Is there a paper on neural operators for LES?")
>>> standalone_query("What flows did they test it on?", [first])
'What flows did they test it on? (regarding: neural operators for LES)'
>>> standalone_query("Which papers study PINN failure modes?", [])
'Which papers study PINN failure modes?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.core.text import content_words
from assistant.core.types import Answer, Message, NumberedSource

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


@dataclass(frozen=True)
class Rewrite:
    """What a question means in its conversation.

    ``query`` is what retrieval searches for; ``pinned_paper_ids`` (when not empty) are the
    papers of the previous answer the question is about, and retrieval should search only
    them; ``reason`` says in words what was resolved (for logs and the UI).
    """

    query: str
    pinned_paper_ids: list[str] = field(default_factory=list)
    reason: str = "stands alone"

    @property
    def rewritten(self) -> bool:
        return self.reason != "stands alone"


def standalone_query(question: str, history: list[Message] | None) -> str:
    """The search query for ``question`` in its conversation (see ``resolve``)."""
    return resolve(question, history).query


def resolve(question: str, history: list[Message] | None) -> Rewrite:
    """Resolve a follow-up against the conversation: pinned papers, topic, or neither.

    >>> resolve("Which papers study PINN failure modes?", []).reason
    'stands alone'
    """
    question = question.strip()
    turns = list(history or [])
    user_turns = [m.content for m in turns if m.role == "user"]
    if not user_turns:
        return Rewrite(question)
    previous = _previous_answer(turns)
    if previous is not None and previous.sources:
        pinned = _pin(question, previous, _topic(user_turns))
        if pinned is not None:
            return pinned
    if not needs_rewrite(question):
        return Rewrite(question)
    if _changes_topic(question, user_turns, previous):
        return Rewrite(question, reason="new topic")
    return Rewrite(f"{question} (regarding: {_topic(user_turns)})", reason="topic of earlier turns")


def _topic(user_turns: list[str]) -> str:
    # The most recent turn that stood on its own names the topic of the conversation.
    for turn in reversed(user_turns):
        if not needs_rewrite(turn):
            return topic_of(turn)
    return topic_of(user_turns[-1])


def _previous_answer(turns: list[Message]) -> Answer | None:
    """The answer of the last assistant turn, if that turn carries one."""
    for message in reversed(turns):
        if message.role == "assistant":
            return message.answer
    return None


# -- references to the previous answer's numbered sources -----------------------------------
_ORDINALS = {
    "first": 1, "1st": 1, "former": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "latter": -1,
}  # fmt: skip
_NOUN = r"(?:one|paper|source|result|study|article|work|reference|hit|entry)"
_NUMBERED = re.compile(
    r"\[(\d{1,2})\]|(?:\b(?:paper|source|reference|result|number|no\.?)\s*|#)(\d{1,2})\b", re.I
)
_ORDINAL = re.compile(
    rf"\b(?:the\s+)?({'|'.join(_ORDINALS)})(?:\s+{_NOUN}\b|(?=\s*(?:[?.!,;:]|$)))", re.I
)
# "the one about causality", "the paper on LES", "the Grokfast paper"
_DESCRIBED = re.compile(
    rf"\bthe\s+{_NOUN}s?\s+(?:about|on|with|that|which|where|using|proposing|from|for)\s+"
    rf"(?P<after>[^?.!;]+)|\bthe\s+(?P<before>[\w\-]+(?:\s+[\w\-]+){{0,2}})\s+{_NOUN}\b",
    re.I,
)
_CHOICE = re.compile(
    r"\b(?:which|any)\s+(?:one|of\s+(?:them|these|those|the\s+(?:papers|above)))\b", re.I
)
_SINGULAR = re.compile(
    r"\b(?:(?:that|this|the\s+same)\s+(?:paper|one|work|study|article|method|model|approach|"
    r"technique|algorithm|framework)|the\s+authors|the\s+(?:paper|study|method|model|approach)"
    r"(?!\s+(?:that|which|where|on|about|from|by|with|in|for|using|proposing|showing))|it|its)\b",
    re.I,
)
_PLURAL = re.compile(r"\b(?:they|them|their|theirs|(?:these|those)(?:\s+papers)?|both)\b", re.I)
# An antecedent in the question itself ("a paper ... does it", "papers ... do they") makes
# a pronoun refer inside the question, not to the conversation.
_ANTECEDENT_ONE = re.compile(
    r"\b(?:a|an|any|one|some)\s+(?:[\w\-]+\s+){0,3}?(?:paper|work|study|method|model|"
    r"approach|article|network)\b",
    re.I,
)
_ANTECEDENT_MANY = re.compile(
    r"\b(?:papers|studies|methods|models|works|approaches|articles)\b", re.I
)
_PLURAL_PRONOUNS = frozenset(["they", "them", "their", "theirs", "these", "those", "both"])


def _has_antecedent(question: str, pronoun: re.Match[str]) -> bool:
    before = question[: pronoun.start()]
    plural = pronoun.group(0).split()[0].lower() in _PLURAL_PRONOUNS
    return bool((_ANTECEDENT_MANY if plural else _ANTECEDENT_ONE).search(before))


# Words that say what is asked, not what it is about: they never make a new topic.
_GENERIC_TEXT = """
dataset data model accuracy performance evaluate evaluated test tested compare compared
result score benchmark author find tell more detail
"""
_GENERIC = frozenset(_GENERIC_TEXT.split())


# A reference found in the question: its span (start, end) and the sources it names.
_Found = tuple[tuple[int, int], list[NumberedSource]]


def _pin(question: str, previous: Answer, topic: str) -> Rewrite | None:
    """Pinned papers for a reference to ``previous``'s sources, else None."""
    sources = {s.number: s for s in previous.sources}
    # After an answer that lists several papers, "the second one" counts them as listed
    # (cited order; the list skips papers that were not evidence); otherwise it counts
    # the numbered source cards.
    cited = dict.fromkeys(c.number for c in previous.citations if c.number in sources)
    listed = {i: sources[n] for i, n in enumerate(cited, start=1)} if len(cited) > 1 else sources
    for finder, among in ((_by_number, sources), (_by_ordinal, listed), (_by_description, sources)):
        found = finder(question, among)
        if found is not None:
            span, chosen = found
            return _pinned(question, span, chosen)
    choice = _CHOICE.search(question)
    if choice:
        which = "Which" if choice.start() == 0 else "which"
        query = f"{question[: choice.start()]}{which} paper on {topic}{question[choice.end() :]}"
        return Rewrite(
            query.strip(), [s.paper_id for s in previous.sources], "a choice among the sources"
        )
    return _by_pronoun(question, previous, sources)


def _by_number(question: str, sources: dict[int, NumberedSource]) -> _Found | None:
    matches = [m for m in _NUMBERED.finditer(question) if int(m.group(1) or m.group(2)) in sources]
    if not matches:
        return None
    numbers = dict.fromkeys(int(m.group(1) or m.group(2)) for m in matches)
    return (matches[0].start(), matches[-1].end()), [sources[n] for n in numbers]


def _by_ordinal(question: str, sources: dict[int, NumberedSource]) -> _Found | None:
    match = _ORDINAL.search(question)
    if not match:
        return None
    number = _ORDINALS[match.group(1).lower()]
    number = max(sources) if number == -1 else number
    if number not in sources:
        return None
    return (match.start(), match.end()), [sources[number]]


def _by_description(question: str, sources: dict[int, NumberedSource]) -> _Found | None:
    for match in _DESCRIBED.finditer(question):
        described = match.group("after") or match.group("before") or ""
        best = _best_match(described, list(sources.values()))
        if best is not None:
            return (match.start(), match.end()), [best]
    return None


def _best_match(description: str, sources: list[NumberedSource]) -> NumberedSource | None:
    """The one source whose title (mostly) and abstract share the description's words."""
    words = content_words(description) - _GENERIC
    if not words:
        return None

    def score(s: NumberedSource) -> float:
        title, abstract = content_words(s.title), content_words(s.abstract)
        hits = sum(2 * (w in title) + (w in abstract) for w in words)
        return hits / (3 * len(words))

    ranked = sorted(sources, key=score, reverse=True)
    top = score(ranked[0])
    # Half the words in the abstract and some in the title; and no tie with another source.
    if top < 0.34 or (len(ranked) > 1 and score(ranked[1]) >= top):
        return None
    return ranked[0]


def _by_pronoun(
    question: str, previous: Answer, sources: dict[int, NumberedSource]
) -> Rewrite | None:
    if previous.abstained:  # its sources are the nearest misses: "they" means no paper there
        return None
    cited = list(dict.fromkeys(c.number for c in previous.citations if c.number in sources))
    main = cited or [min(sources)]
    # The first reference is the one to name ("did they test it" -> "did <title> test it").
    found = [
        (match, chosen)
        for pattern, chosen in ((_SINGULAR, main[:1]), (_PLURAL, main))
        if (match := pattern.search(question)) and not _has_antecedent(question, match)
    ]
    if not found:
        return None
    match, chosen = min(found, key=lambda f: f[0].start())
    return _pinned(question, (match.start(), match.end()), [sources[n] for n in chosen])


def _pinned(question: str, span: tuple[int, int], chosen: list[NumberedSource]) -> Rewrite:
    """The question with the reference replaced by the papers' titles, and the pins."""
    start, end = span
    said = question[start:end]
    names = " and ".join(f"“{s.title}”" for s in chosen)
    lowered = said.lower()
    if lowered in ("its", "their", "theirs"):
        names = f"{names}'s"
    elif lowered == "the authors":
        names = f"the authors of {names}"
    query = f"{question[:start]}{names}{question[end:]}".strip()
    numbers = ", ".join(f"[{s.number}]" for s in chosen)
    return Rewrite(query, [s.paper_id for s in chosen], f"“{said}” = {numbers}")


def _changes_topic(question: str, user_turns: list[str], previous: Answer | None) -> bool:
    """A question with a subject of its own, mostly unlike the conversation's words.

    >>> _changes_topic("And what about graph neural networks for traffic forecasting?",
    ...                ["Is there a paper on PINNs for heat transfer?"], None)
    True
    >>> _changes_topic("What about turbulence?", ["Is there a paper on PINNs?"], None)
    False
    """
    own = content_words(_LEAD_IN.sub("", question)) - _GENERIC
    if len(own) < 3:
        return False
    context = content_words(" ".join(user_turns))
    if previous is not None:
        context |= content_words(" ".join(s.title for s in previous.sources))
    if len(own & context) * 2 >= len(own):  # mostly the same words: the same subject
        return False
    pronoun = _FOLLOW_UP.search(question)
    return pronoun is None or _has_antecedent(question, pronoun)
