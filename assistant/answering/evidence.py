"""Evidence selection and the abstention decision: one rule, in one place.

Every retrieved paper is numbered. From each, the sentences most relevant to the
standalone query are chosen; a paper whose best sentence is below the relevance floor is
not evidence. With no evidence, or when the question names something no top paper
mentions (a near miss: "Was the Euclid anomaly detector tested on JWST?"), the assistant
abstains, and ``Decision.missing_terms`` says what was missing so the answer can say so.

A term is *missing* when it is rare in the collection (in at most one chunk), absent from
the top papers (typos, abbreviations, acronym expansions and hyphenated compounds whose
parts appear all count as present), and it matters to the question: it is a name-like
token (JWST, QM9, LightGBM), or taking it out of the query brings the query closer to the
evidence (it pulls the question away from what the abstracts say). Generic words a
question may use freely ("remember", "looking") barely move the query, so they never
count. Questions not in English are judged on meaning alone: English word matching cannot
be used against them (``core.lang``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.answering.scorer import SentenceScorer
from assistant.core.lang import ENGLISH, detect_language
from assistant.core.settings import AnswerSettings
from assistant.core.text import content_words, covers, split_sentences
from assistant.core.types import NumberedSource, PaperHit

# Tokens as written (Unicode letters, digits, inner hyphens, dots and apostrophes), so a
# missing term is reported as the user wrote it ("Ti-6Al-4V", "JWST").
_TOKEN = re.compile(r"[^\W_][\w\-.'’]*[^\W_]|[^\W_]")
_REGARDING = " (regarding:"  # rewrite.py's topic suffix: the earlier turn's words
# Hyphen suffixes that add no subject of their own ("Hopfield-type", "SIREN-style").
_SUFFIXES = frozenset(
    [
        "type",
        "based",
        "style",
        "like",
        "free",
        "driven",
        "aware",
        "specific",
        "level",
        "scale",
        "wise",
        "related",
        "order",
    ]
)
_UNSEEN = "\x00never-indexed"  # idf of a word in no chunk: the idf ceiling
# Words so vague that no abstract needs them ("... or something else?").
_FILLER = frozenset(["something", "else", "anything", "someone", "thing", "things", "way", "ways"])


@dataclass(frozen=True)
class Decision:
    """The numbered sources of one answer and whether to answer at all."""

    sources: list[NumberedSource]
    best_relevance: float
    coverage: float
    missing_terms: list[str] = field(default_factory=list)
    """Terms of the question no top paper mentions that made it abstain (as written)."""
    unmatched_terms: list[str] = field(default_factory=list)
    """Rarer terms no top paper mentions that did not decide alone (for a partial note)."""
    language: str = ENGLISH

    @property
    def evidence(self) -> list[NumberedSource]:
        return [s for s in self.sources if s.evidence]

    @property
    def abstain(self) -> bool:
        return not self.evidence


def coverage(query: str, hits: list[PaperHit], idf: Callable[[str], float], top: int = 3) -> float:
    """IDF-weighted share of the query's content words found in the top papers' text.

    >>> hit = PaperHit(rank=1, paper_id="p", title="PINNs for heat", abstract="PINN heat flow",
    ...                sources=[], score=1.0, passages=[])
    >>> coverage("PINNs for drone control", [hit], idf=lambda w: 1.0)
    0.3333333333333333
    """
    words = content_words(query)
    if not words or not hits:
        return 0.0
    vocabulary: set[str] = set()
    for hit in hits[:top]:
        vocabulary |= content_words(f"{hit.title} {hit.abstract}")
    weights = {w: idf(w) for w in words}
    found = sum(wt for w, wt in weights.items() if covers(w, vocabulary))
    return found / (sum(weights.values()) or 1.0)


def decide(
    query: str,
    hits: list[PaperHit],
    scorer: SentenceScorer,
    idf: Callable[[str], float],
    cfg: AnswerSettings,
    language: str | None = None,
) -> Decision:
    """Number the hits, choose each paper's evidence sentences, and decide to abstain.

    ``language`` is the question's ISO 639-1 code; detected from ``query`` when None.
    """
    language = language or detect_language(query)
    english = language == ENGLISH
    # Across languages the word-overlap part of relevance cannot match (English abstracts):
    # only its semantic share is available, so the floor shrinks by that share.
    floor = cfg.abstain_threshold * (1.0 if english else cfg.relevance_semantic_weight)
    sources, best = _number(query, hits, scorer, floor, cfg)
    cov = coverage(query, hits, idf, cfg.coverage_papers)
    missing: list[str] = []
    unmatched: list[str] = []
    if english and any(s.evidence for s in sources):
        missing, unmatched = missing_terms(query, hits[: cfg.coverage_papers], scorer, idf, cfg)
    low_coverage = english and best < cfg.coverage_waived_above and cov < cfg.min_coverage
    if missing or low_coverage:
        # The question names things the top papers never mention: nothing is evidence.
        sources = [s.model_copy(update={"evidence": False}) for s in sources]
    return Decision(sources, best, cov, missing, unmatched, language)


def _number(
    query: str, hits: list[PaperHit], scorer: SentenceScorer, floor: float, cfg: AnswerSettings
) -> tuple[list[NumberedSource], float]:
    """The numbered sources with their evidence sentences, and the best relevance."""
    per_paper = [split_sentences(h.abstract) for h in hits]
    scores = iter(scorer.relevance(query, [s for sentences in per_paper for s in sentences]))
    sources: list[NumberedSource] = []
    best, chosen = 0.0, 0
    for number, (hit, sentences) in enumerate(zip(hits, per_paper, strict=True), start=1):
        ranked = sorted(
            zip([next(scores) for _ in sentences], sentences, strict=True),
            key=lambda p: p[0],
            reverse=True,
        )
        top = ranked[0][0] if ranked else 0.0
        best = max(best, top)
        is_evidence = top >= floor and chosen < cfg.prompt_papers
        chosen += is_evidence
        passages = (
            [s for _, s in ranked[: cfg.context_sentences]]
            if is_evidence
            else [p.text for p in hit.passages]
        )
        sources.append(numbered(number, hit, passages, is_evidence, top))
    return sources, best


def missing_terms(
    query: str,
    hits: list[PaperHit],
    scorer: SentenceScorer,
    idf: Callable[[str], float],
    cfg: AnswerSettings,
) -> tuple[list[str], list[str]]:
    """Terms of ``query`` that ``hits`` never mention: (decisive, the other rare ones).

    Decisive: name-like, or removing it from the query raises the query's best relevance
    to the hits' sentences by ``cfg.near_miss_shift``; or, together, the rare absent terms
    shift it by ``cfg.near_miss_shift_all`` ("sheep, goats or beef" each move it a little).
    """
    candidates = _absent_terms(query, hits, idf)
    if not candidates:
        return [], []
    sentences = [s for h in hits for s in split_sentences(h.abstract)]
    base = max(scorer.relevance(query, sentences), default=0.0)
    shift = {t: _shift(query, [t], sentences, scorer, base) for t, _ in candidates}
    missing = [t for t, named in candidates if named or shift[t] >= cfg.near_miss_shift]
    if not missing:
        together = _shift(query, [t for t, _ in candidates], sentences, scorer, base)
        if together >= cfg.near_miss_shift_all:
            missing = [t for t, _ in candidates if shift[t] > 0]
    half = cfg.near_miss_shift / 2
    unmatched = [t for t, _ in candidates if t not in missing and shift[t] >= half]
    return missing, unmatched


def _absent_terms(
    query: str, hits: list[PaperHit], idf: Callable[[str], float]
) -> list[tuple[str, bool]]:
    """(term as written, name-like) for rare terms the hits' text does not contain."""
    text = " ".join(f"{h.title} {h.abstract} {h.authors or ''}" for h in hits)
    vocabulary = content_words(text)
    # Rare: in at most one chunk (idf within log 2 of an unseen word's).
    rare = idf(_UNSEEN) - math.log(2) - 1e-9
    found: list[tuple[str, bool]] = []
    for token in _TOKEN.findall(query.split(_REGARDING)[0]):
        token = re.sub(r"['’]s$", "", token)
        words = content_words(token)
        if len(words) != 1:
            continue
        word = next(iter(words))
        if word in _FILLER or idf(word) < rare or present(word, vocabulary):
            continue
        named = _name_like(token)
        if named and _expanded(token, text):
            continue
        if token not in (t for t, _ in found):
            found.append((token, named))
    return found


def _shift(
    query: str, terms: list[str], sentences: list[str], scorer: SentenceScorer, base: float
) -> float:
    """How much the query's best relevance rises without ``terms``."""
    without = query
    for term in terms:
        without = without.replace(term, " ")
    without = " ".join(without.split())
    if not without or not sentences:
        return 0.0
    return max(scorer.relevance(without, sentences)) - base


def present(word: str, vocabulary: set[str]) -> bool:
    """Whether ``vocabulary`` has ``word``, as written, misspelt by one letter, cut short
    ("activ." for activation), or as the parts of a hyphenated compound.

    >>> present("widht", {"width"}), present("rep", {"representation"})
    (True, True)
    >>> present("spider-web", {"spider", "web"}), present("hopfield-type", {"hopfield"})
    (True, True)
    >>> present("drone", {"flight", "control"})
    False
    """
    if covers(word, vocabulary):
        return True
    if len(word) >= 3 and any(v.startswith(word) for v in vocabulary):
        return True
    if len(word) >= 5 and any(_one_edit(word, v) for v in vocabulary):
        return True
    parts = [_stem(p) for p in word.split("-") if len(p) >= 3 and p not in _SUFFIXES]
    return "-" in word and bool(parts) and all(present(p, vocabulary) for p in parts)


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 4 else word


def _one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours (same first letter)."""
    if abs(len(a) - len(b)) > 1 or a[0] != b[0] or a == b:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) == 1 or (swapped and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _name_like(token: str) -> bool:
    """An acronym, code or product name: JWST, QM9, 3-NOP, LightGBM, SiLU.

    >>> [_name_like(t) for t in ("JWST", "QM9", "LightGBM", "Thailand", "drone")]
    [True, True, True, False, False]
    """
    core = token.replace("-", "")
    mixed = any(c.isdigit() for c in core) and any(c.isalpha() for c in core)
    return mixed or sum(c.isupper() for c in core) >= 2


def _expanded(token: str, text: str) -> bool:
    """Whether an acronym's letters start consecutive words of ``text`` (DFT = density
    functional theory), so the paper names it in full.

    >>> _expanded("DFT", "we use density functional theory"), _expanded("JWST", "Euclid")
    (True, False)
    """
    if not token.replace("-", "").isalpha():
        return False
    letters = [c.lower() for c in token if c.isalpha()]
    words = [w for w in re.split(r"[\s\-/()]+", text.lower()) if w]
    n = len(letters)
    return n >= 2 and any(
        [w[0] for w in words[i : i + n]] == letters for i in range(len(words) - n + 1)
    )


def numbered(
    number: int,
    hit: PaperHit,
    passages: list[str],
    evidence: bool = False,
    relevance: float | None = None,
) -> NumberedSource:
    """A search hit as the answer's ``[number]`` source."""
    return NumberedSource(
        number=number,
        paper_id=hit.paper_id,
        title=hit.title,
        abstract=hit.abstract,
        score=hit.score,
        passages=passages,
        evidence=evidence,
        relevance=None if relevance is None else round(relevance, 4),
        authors=hit.authors,
        year=hit.year,
        url=hit.url,
        origin=hit.sources,
    )
