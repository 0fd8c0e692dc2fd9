"""Making citations trustworthy whatever the model wrote.

A small model cites badly, so the pipeline guarantees the citations instead:
1. markers pointing outside the retrieved set are removed;
2. a sentence without a marker gets one when it clearly matches a retrieved abstract, and
   is dropped when nothing supports it (every claim shown carries a citation);
3. a marker pointing at the wrong paper is moved to the paper that clearly supports it;
4. every citation is scored against the abstract it cites (semantic similarity to its
   best sentence, blended with word overlap) and flagged unsupported below a threshold.
Output is also made safe to render: images, ``javascript:`` links and HTML are removed.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from assistant.embeddings import Embedder
from assistant.text import overlap, split_sentences
from assistant.types import Citation

# A wrong marker is re-pointed when another source supports the claim this much better.
REPOINT = 0.15
# What a citation marker is, for every module: [1], [1, 2], [1-3], [2; 4].
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
_MARKER = re.compile(r"\s*" + MARKER.pattern)  # with the space before it, for removal
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\(\s*([^)\s]*)[^)]*\)")
# "Claim. [1] Next" -> "Claim [1]. Next": keep a marker with the sentence it follows.
_AFTER_STOP = re.compile(r"([.!?][\"”’]?)((?:\s*\[\d[\d,;\s–-]*\])+)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_BAD_SCHEME = re.compile(r"(?i)\b(?:javascript|vbscript|data):")
# Models invent URLs; none of ours come from the model, so bare URLs are dropped.
_URL = re.compile(r"(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+")


@dataclass(frozen=True)
class SourceText:
    number: int
    paper_id: str
    title: str
    sentences: list[str]


class SentenceScorer:
    """Cosine similarity between sentences, with an LRU cache of embeddings."""

    def __init__(self, embedder: Embedder, cache_size: int = 20000) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            fresh = self.embedder.embed(missing)
            with self._lock:
                for text, vec in zip(missing, fresh, strict=True):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))

    def relevance(self, query: str, sentences: list[str]) -> list[float]:
        """Query-to-sentence relevance: mostly semantic, partly lexical."""
        if not sentences:
            return []
        vecs = self.vectors([query, *sentences])
        cos = vecs[1:] @ vecs[0]
        return [
            0.7 * float(c) + 0.3 * overlap(query, s) for c, s in zip(cos, sentences, strict=True)
        ]

    def support(self, claim: str, sentences: list[str]) -> tuple[float, str]:
        """How well ``sentences`` support ``claim`` (0..1) and the best sentence."""
        if not sentences or not claim.strip():
            return 0.0, ""
        vecs = self.vectors([claim, *sentences])
        cos = vecs[1:] @ vecs[0]
        scores = [
            0.5 * max(0.0, float(c)) + 0.5 * overlap(claim, s)
            for c, s in zip(cos, sentences, strict=True)
        ]
        best = int(np.argmax(scores))
        # Small models invent figures ("510 cattle", "2.1%"): a number the cited abstract
        # never states scales the support down, whatever the wording overlap.
        found = numbers_found(claim, " ".join(sentences))
        return round(min(1.0, scores[best] * found), 4), sentences[best]


_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[-*•])\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def numbers_found(claim: str, evidence: str) -> float:
    """Share of the claim's numbers that the evidence also states (1.0 if it has none).

    >>> numbers_found("510 cows, 11 W", "we saved 11 W on 12 GPUs")
    0.5
    """
    wanted = set(_NUMBER.findall(claim))
    if not wanted:
        return 1.0
    return len(wanted & set(_NUMBER.findall(evidence))) / len(wanted)


def sanitize(text: str) -> str:
    """Remove what must never render from model output: images, scripted links, HTML."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(
        lambda m: m.group(1) if _BAD_SCHEME.match(m.group(2) or "") else m.group(0), text
    )
    text = _TAG.sub("", text)
    text = _URL.sub("", text)
    return _BAD_SCHEME.sub("", text)


def parse_markers(body: str) -> list[int]:
    numbers: list[int] = []
    for group in _MARKER.findall(body):
        for part in re.split(r"\s*[,;]\s*", group):
            bounds = [int(x) for x in re.split(r"\s*[–-]\s*", part) if x]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 10:
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
    return list(dict.fromkeys(numbers))


def check_citations(
    text: str, sources: list[SourceText], scorer: SentenceScorer, threshold: float
) -> tuple[str, list[Citation]]:
    """Clean, repair and score the citations of an answer. Returns the new text.

    Lines are kept (models like lists); each sentence of each line is one claim.
    """
    by_number = {s.number: s for s in sources}
    citations: list[Citation] = []
    seen: set[str] = set()
    lines = []
    for line in _AFTER_STOP.sub(r"\2\1", text).splitlines():
        kept = _check_line(line, by_number, scorer, threshold, seen, citations)
        if kept:
            lines.append(kept)
    return "\n".join(lines), citations


def _check_line(
    line: str,
    by_number: dict[int, SourceText],
    scorer: SentenceScorer,
    threshold: float,
    seen: set[str],
    citations: list[Citation],
) -> str:
    sources = list(by_number.values())
    out_sentences: list[str] = []
    for sentence in split_sentences(line):
        # A list bullet ("2) ...", "- ...") is layout, not part of the claim.
        claim = _LIST_ITEM.sub("", _MARKER.sub("", sentence).strip())
        key = re.sub(r"\W+", " ", claim.lower()).strip()
        # Small models loop and emit bare list numbers: drop repeats and wordless bits.
        if key in seen or not re.search(r"[^\W\d_]", claim):
            continue
        seen.add(key)
        numbers = [n for n in parse_markers(sentence) if n in by_number]
        scored = [(n, *scorer.support(claim, by_number[n].sentences)) for n in numbers]
        best = _best_source(claim, sources, scorer)
        if best is not None and best[1] >= threshold:
            if not scored:
                scored = [best]  # an uncited claim that an abstract clearly supports
            elif best[0] not in numbers and best[1] - max(s for _, s, _ in scored) >= REPOINT:
                scored = [best]  # the model cited the wrong paper; cite the right one
        if not scored:
            continue  # a claim no retrieved abstract supports is not shown as an answer
        for number, support, snippet in scored:
            src = by_number[number]
            citations.append(
                Citation(
                    number=number,
                    paper_id=src.paper_id,
                    title=src.title,
                    snippet=snippet,
                    support=support,
                    supported=support >= threshold,
                    claim=claim,
                )
            )
        out_sentences.append(_with_markers(claim, [n for n, _, _ in scored]))
    return " ".join(out_sentences)


def _best_source(
    claim: str, sources: list[SourceText], scorer: SentenceScorer
) -> tuple[int, float, str] | None:
    best = None
    for src in sources:
        support, snippet = scorer.support(claim, src.sentences)
        if best is None or support > best[1]:
            best = (src.number, support, snippet)
    return best


def _with_markers(claim: str, numbers: list[int]) -> str:
    if not numbers:
        return claim
    marks = "".join(f"[{n}]" for n in numbers)
    if claim and claim[-1] in ".!?" and claim[0] not in '"“':
        return f"{claim[:-1].rstrip()} {marks}{claim[-1]}"
    return f"{claim} {marks}"
