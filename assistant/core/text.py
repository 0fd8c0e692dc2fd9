"""Small text helpers shared by ingestion, evidence selection and citation checks."""

from __future__ import annotations

import re

# A sentence ends at . ! or ? followed by space and an upper-case letter, digit or bracket,
# unless the period belongs to a common abbreviation. A closing quote may follow the stop.
_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[A-Z0-9(\[\"'“‘])")
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Eq|Ref|Sec|approx|resp|w\.r\.t|Dr|Prof|No|i\.i\.d)\.|"
    r"\b[A-Z]\.)$"
)
_WORD = re.compile(r"[a-z0-9][a-z0-9\-]+")
_STOPWORD_TEXT = """
a an and are as at be been being but by can could did do does for from had has have
how in into is it its of on or our over paper papers propose proposed show shows
such than that the their them then there these they this those through to under
using use used via was we were what when where which while who whom why will with
within without would also based both each more most other same some new results
method methods study approach work
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences.

    >>> split_sentences("We use e.g. PINNs. Results improve by 5%. (See Fig. 2.)")
    ['We use e.g. PINNs.', 'Results improve by 5%.', '(See Fig. 2.)']
    """
    parts = _BOUNDARY.split(text.strip())
    sentences: list[str] = []
    for part in parts:
        if sentences and _ABBREV.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return [s.strip() for s in sentences if s.strip()]


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning, crudely stemmed (plural 's' dropped)."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 3:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 4 else word)
    return words


def overlap(claim: str, evidence: str) -> float:
    """Share of the claim's content words that the evidence contains (0..1)."""
    claim_words = content_words(claim)
    if not claim_words:
        return 0.0
    return len(claim_words & content_words(evidence)) / len(claim_words)


def covers(word: str, vocabulary: set[str]) -> bool:
    """Whether ``vocabulary`` has ``word``, forgiving typos that keep the first 4 letters.

    >>> covers("netwrok", {"network", "graph"}), covers("lidar", {"light"})
    (True, False)
    """
    if word in vocabulary:
        return True
    return len(word) >= 5 and any(
        v.startswith(word[:4]) and abs(len(v) - len(word)) <= 3 for v in vocabulary
    )
