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

from assistant.answering.scorer import SentenceScorer
from assistant.core.text import split_sentences
from assistant.core.types import Citation, NumberedSource

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


_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[-*•])\s+")


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


class _Checkable:
    """A source's number and identity with the sentences a claim may rest on."""

    def __init__(self, source: NumberedSource) -> None:
        self.number, self.paper_id, self.title = source.number, source.paper_id, source.title
        self.sentences = [source.title, *(split_sentences(source.abstract) or source.passages)]


def check_citations(
    text: str,
    sources: list[NumberedSource],
    scorer: SentenceScorer,
    threshold: float,
    repoint_margin: float = 0.15,
) -> tuple[str, list[Citation]]:
    """Clean, repair and score the citations of an answer. Returns the new text.

    Lines are kept (models like lists); each sentence of each line is one claim.
    """
    # Support is judged against the whole abstract, and the title counts too:
    # "<its title> [2]" is a supported claim about paper 2.
    by_number = {s.number: _Checkable(s) for s in sources}
    citations: list[Citation] = []
    seen: set[str] = set()
    lines = []
    for line in _AFTER_STOP.sub(r"\2\1", text).splitlines():
        kept = _check_line(line, by_number, scorer, (threshold, repoint_margin), seen, citations)
        if kept:
            lines.append(kept)
    return "\n".join(lines), citations


def _check_line(
    line: str,
    by_number: dict[int, _Checkable],
    scorer: SentenceScorer,
    cutoffs: tuple[float, float],
    seen: set[str],
    citations: list[Citation],
) -> str:
    threshold, repoint_margin = cutoffs
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
            elif (
                best[0] not in numbers and best[1] - max(s for _, s, _ in scored) >= repoint_margin
            ):
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
    claim: str, sources: list[_Checkable], scorer: SentenceScorer
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
