"""How the assistant says what the collection does not hold: pure wording, no I/O.

An expert who cannot answer says precisely why: "The collection has *Liquid Time-constant
Networks* [1], but no abstract mentions drones." — naming the nearest real paper and the
missing thing — rather than a generic refusal. When nothing is close, it says so plainly.
The same care goes into the notes shown with an answer: what part of the question the
abstracts do not cover, and that matching is weaker for a question not in English.

The decision itself (what is missing, whether to abstain) is ``evidence.decide``'s; these
functions only word it. Every abstention starts with the ``NO_ANSWER`` sentinel, which the
UI and tests recognise.
"""

from __future__ import annotations

from assistant.answering.prompting import NO_ANSWER
from assistant.core.lang import ENGLISH, language_name
from assistant.core.types import NumberedSource


def abstention(sources: list[NumberedSource], missing: list[str]) -> str:
    """The abstention text: the nearest paper and the missing terms, when known.

    >>> near = NumberedSource(number=1, paper_id="p", title="Liquid Time-constant Networks",
    ...                       abstract="", score=1.0, passages=[], relevance=0.5)
    >>> abstention([near], ["drones"])[len(NO_ANSWER) + 1:]
    'The collection has *Liquid Time-constant Networks* [1], but no abstract mentions drones.'
    >>> abstention([], [])[len(NO_ANSWER) + 1:]
    'No paper in the collection is about it.'
    """
    if not sources:
        return f"{NO_ANSWER} No paper in the collection is about it."
    if missing:
        near = nearest(sources)
        return (
            f"{NO_ANSWER} The collection has {_cite(near)}, "
            f"but no abstract mentions {either(missing)}."
        )
    closest = " and ".join(_cite(s) for s in sources[:2])
    verb = "does" if len(sources[:2]) == 1 else "do"
    return f"{NO_ANSWER} The closest papers, {closest}, {verb} not answer it."


def partial_note(sources: list[NumberedSource], unmatched: list[str]) -> str | None:
    """A note for an answer that covers part of the question, or None.

    >>> s = NumberedSource(number=2, paper_id="p", title="PAIF", abstract="", score=1.0,
    ...                    passages=[], evidence=True)
    >>> partial_note([s], ["FMB"])
    'The answer draws on *PAIF* [2]; no abstract mentions FMB.'
    """
    evidence = [s for s in sources if s.evidence]
    if not unmatched or not evidence:
        return None
    cited = " and ".join(_cite(s) for s in evidence[:2])
    return f"The answer draws on {cited}; no abstract mentions {either(unmatched)}."


def language_note(language: str | None) -> str | None:
    """The caveat for a question not in English, or None for English.

    >>> language_note("de")
    'The question is in German and the abstracts are in English, so matching is weaker: check the quoted passages.'
    >>> language_note("en") is None
    True
    """  # noqa: E501 - a doctest's expected output is one line
    if not language or language == ENGLISH:
        return None
    return (
        f"The question is in {language_name(language)} and the abstracts are in English, "
        "so matching is weaker: check the quoted passages."
    )


def nearest(sources: list[NumberedSource]) -> NumberedSource:
    """The most relevant source (the first listed among equals)."""
    return max(sources, key=lambda s: (s.relevance or 0.0, -s.number))


def either(terms: list[str]) -> str:
    """ "a", "a or b", "a, b or c".

    >>> either(["sheep"]), either(["sheep", "goats", "beef"])
    ('sheep', 'sheep, goats or beef')
    """
    terms = list(dict.fromkeys(terms))
    if len(terms) <= 1:
        return "".join(terms)
    return f"{', '.join(terms[:-1])} or {terms[-1]}"


def _cite(source: NumberedSource) -> str:
    return f"*{source.title}* [{source.number}]"
