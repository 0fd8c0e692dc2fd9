"""Tokens and word matching shared by the verifier rules.

Words are compared by their Snowball stem (PyStemmer, already used by the BM25 index),
forgiving typos that keep the first letters (``core.text.covers``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from assistant.answering.verifiers.tuning import STRICT
from assistant.core.text import covers

_TOKEN = re.compile(
    r"\d+(?:[x×]\d+)+"  # a size such as 64x64: neither a number nor a term
    r"|\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?"  # a number: 2,190  81.73  5e-3
    r"|[A-Za-z][A-Za-z0-9]*(?:['’\-][A-Za-z0-9]+)*"  # a word or name: CIFAR-10, doesn't
    r"|[^\w\s]"
)
# LaTeX left in abstracts: "a merely \sim0.6 point" -> "~ 0.6".
_LATEX_APPROX = re.compile(r"\\?\b(?:sim|approx)(?=\d)")

# Function words. Unlike ``core.text.STOPWORDS`` (tuned for retrieval) this keeps words
# such as "method", "results" or "new", which can be what a number counts. Connectives
# and light verbs ("rather", "among", "makes", "comes out") are here too: a paraphrase
# uses them freely, so they are neither terms nor the context of a number.
_FILLER_TEXT = """
    a an and are as at be been being but by can could did do does for from had has have
    how in into is it its of on or our over such than that the their them then there these
    they this those through to under via was we were what when where which while who whom
    why will with within would also both each more most other same some i e g et al
    about around roughly approximately nearly only just up least average total somewhere
    almost it's s rather among together far out once enough instead namely still often
    even well yet thus hence however therefore whereas despite although though since
    because unlike like per across along upon onto toward towards beyond behind against
    between much many very quite so too here now whole
    make makes made making come comes came get gets got give gives giving gave take takes
    took keep keeps kept let lets put puts go goes went become becomes became bring brings
    brought stay stays stayed seem seems tend tends turn turns
"""
FILLER = frozenset(_FILLER_TEXT.split())


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - PyStemmer ships no type information
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Lower-cased Snowball stem; a possessive "'s" is dropped first."""
    low = word.lower().replace("’", "'")
    if low.endswith("'s"):
        low = low[:-2]
    return _stemmer().stemWord(low)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    text = _LATEX_APPROX.sub("~", text)
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def is_word(token: Token) -> bool:
    return token.text[0].isalpha()


def is_content(token: Token) -> bool:
    """A word that carries meaning (not a number, function word or punctuation)."""
    low = token.low
    return low[0].isalpha() and len(low) > 1 and low not in FILLER


def content_stems(tokens: Iterable[Token]) -> set[str]:
    return {stem(t.text) for t in tokens if is_content(t)}


def matches(word: str, stems: set[str]) -> bool:
    """Whether a stemmed ``word`` is among ``stems``, forgiving typos.

    ``core.text.covers`` keeps the first four letters; a close spelling is required too,
    or "multimodal" would pass for "multistep".

    >>> matches("netwrok", {"network"}), matches("multimod", {"multistep"})
    (True, False)
    """
    if word in stems:
        return True
    if not covers(word, stems):
        return False
    near = [v for v in stems if v[:4] == word[:4]]
    return any(SequenceMatcher(None, word, v).ratio() >= STRICT.typo_ratio for v in near)
