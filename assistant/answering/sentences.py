"""Streaming text -> complete sentences, so each can be verified before it is shown.

A sentence is complete when a sentence boundary (``core.text.split_sentences``) or a line
break follows it. What is left when the stream ends is complete only if it ends with a
stop (and markers): an answer cut off by the token limit ("fundamental sub [4]") never
ends mid-word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.core.text import split_sentences

# "Claim. [1] Next" -> "Claim [1]. Next": keep a marker with the sentence it follows.
_AFTER_STOP = re.compile(r"([.!?][\"”’]?)((?:\s*\[\d[\d,;\s–-]*\])+)")
_FINISHED = re.compile(r"[.!?][\"”’)]?(?:\s*\[\d[\d,;\s–-]*\])*\s*$")


def finished(sentence: str) -> bool:
    """Whether a sentence ends with a stop (markers may follow it).

    >>> finished("PINNs fail [2]."), finished("PINNs fail. [2]"), finished("fundamental sub [4]")
    (True, True, False)
    """
    return bool(_FINISHED.search(sentence))


class SentenceStream:
    """Feed text pieces; get back the sentences that are complete.

    >>> s = SentenceStream()
    >>> s.feed("PINNs fail on stiff PDEs [1]. A fix")
    ['PINNs fail on stiff PDEs [1].']
    >>> s.feed(" is R3 sampling [2]. Trunc")
    ['A fix is R3 sampling [2].']
    >>> s.close()
    []
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        text = _AFTER_STOP.sub(r"\2\1", self._buffer)
        lines = text.split("\n")
        done: list[str] = []
        for line in lines[:-1]:
            done.extend(split_sentences(line))
        parts = split_sentences(lines[-1])
        # The last part may still grow; a boundary is only certain once text follows it.
        done.extend(parts[:-1])
        self._buffer = parts[-1] if parts else ""
        return done

    def close(self) -> list[str]:
        """The rest, if it is a finished sentence; an unfinished fragment is dropped."""
        rest, self._buffer = _AFTER_STOP.sub(r"\2\1", self._buffer).strip(), ""
        return [s for s in split_sentences(rest) if finished(s)]


def sentences_of(pieces: Iterator[str]) -> Iterator[str]:
    """Complete sentences from a stream of pieces, as soon as each is complete."""
    stream = SentenceStream()
    for piece in pieces:
        yield from stream.feed(piece)
    yield from stream.close()
