"""The word rules of the strict verifier: polarity, comparison direction, overclaiming,
quoted titles and distinctive terms (the number rule is in ``numbers.py``).

Each rule compares a claim with an evidence span (one or two sentences of the cited
abstract, or the whole paper for terms) and returns ``None`` when it passes or a reason a
user can read when it fails. No model is involved, so each is testable alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answering.verifiers.numbers import is_number_word
from assistant.answering.verifiers.tuning import STRICT
from assistant.answering.verifiers.words import (
    Token,
    content_stems,
    is_content,
    matches,
    stem,
    tokenize,
)

# -- polarity --------------------------------------------------------------------------------
_NEGATIONS = {
    "not", "no", "never", "without", "cannot", "none", "neither", "nor", "lack", "lacks",
    "lacking", "unable", "fail", "fails", "failed", "absence",
}  # fmt: skip
# Opposites as word prefixes: a claim using one side where the evidence uses the other,
# about the same thing, says the opposite.
# Words of one quality dimension share a pair, so "worse" contradicts "better" and
# "improves" alike (a word in two pairs would only ever be matched to the first).
_OPPOSITES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (
        ("improv", "enhanc", "boost", "better", "stronger", "superior", "outperform"),
        ("degrad", "wors", "hurt", "harm", "impair", "weaker", "inferior", "underperform"),
    ),
    (("increas", "grow", "rais", "widen", "expand"), ("decreas", "reduc", "shrink", "narrow")),
    (("succeed", "success"), ("fail",)),
    (("more", "greater"), ("less", "fewer")),
    (("higher",), ("lower",)),
    (("faster", "accelerat", "quicker", "speed"), ("slower", "slow", "delay")),
    (("larger", "bigger"), ("smaller",)),
    (("robust", "resilien"), ("vulnerab", "fragil")),
    (("stable", "stabil"), ("unstable", "instabil", "destabil")),
    (("wide", "widely"), ("little", "narrow")),
    (("tight", "concentrat"), ("loose",)),
    (("significant",), ("insignificant",)),
    (("easier",), ("harder",)),
    (("positive",), ("negative",)),
    (("consistent",), ("inconsistent",)),
    (("efficien",), ("inefficien",)),
]


def _is_negation(token: Token) -> bool:
    return token.low in _NEGATIONS or token.low.endswith(("n't", "n’t"))


def _negations(tokens: list[Token], shared: set[str], tight: bool = False) -> list[str]:
    """Negations that apply to a word both texts talk about. ``tight``: the negated word
    itself is shared, or two shared words are in its scope ("not suffer from" — but not
    "without affecting the abilities of SFT" for a claim that only names SFT)."""
    found = []
    for i, tok in enumerate(tokens):
        if _is_negation(tok):
            scope = [t for t in tokens[i + 1 : i + 1 + STRICT.negation_scope] if is_content(t)]
            hits = [stem(t.text) in shared for t in scope]
            if (hits and hits[0]) or sum(hits) >= (2 if tight else 1):
                found.append(tok.text)
    return found


def _side(word: str) -> int | None:
    """Which side of which opposite pair a word is on (``2n`` or ``2n + 1``)."""
    for n, (ups, downs) in enumerate(_OPPOSITES):
        up, down = word.startswith(ups), word.startswith(downs)
        if up != down:
            return 2 * n + (0 if up else 1)
    return None


def _qualifiers(tokens: list[Token], shared: set[str]) -> dict[str, dict[int, str]]:
    """For each shared word, the opposite-pair sides of the words right around it."""
    sides = [_side(t.low) for t in tokens]
    reach = STRICT.opposite_reach
    out: dict[str, dict[int, str]] = {}
    for i, tok in enumerate(tokens):
        word = stem(tok.text)
        if word not in shared or sides[i] is not None:
            continue
        for j in range(max(0, i - reach), min(len(tokens), i + reach + 1)):
            side = sides[j]
            if side is not None:
                out.setdefault(word, {})[side] = tokens[j].text
    return out


def check_polarity(claim: str, evidence: str) -> str | None:
    """Negations and opposite words must agree with the evidence about the same thing."""
    claim_tokens, ev_tokens = tokenize(claim), tokenize(evidence)
    shared = content_stems(claim_tokens) & content_stems(ev_tokens)
    failed = _negation_mismatch(claim_tokens, ev_tokens, shared)
    if failed:
        return failed
    claim_q, ev_q = _qualifiers(claim_tokens, shared), _qualifiers(ev_tokens, shared)
    for word, sides in claim_q.items():
        theirs = ev_q.get(word, {})
        for side, mine in sides.items():
            other = theirs.get(side ^ 1)
            if other and side not in theirs:
                return f"the claim says '{mine}' where the cited abstract says '{other}'"
    return None


def _negation_mismatch(
    claim_tokens: list[Token], ev_tokens: list[Token], shared: set[str], tight: bool = False
) -> str | None:
    ours = _negations(claim_tokens, shared, tight)
    theirs = _negations(ev_tokens, shared, tight)
    if len(ours) % 2 == len(theirs) % 2:
        return None
    if len(ours) > len(theirs):
        return f"the claim says '{ours[0]}' where the cited abstract does not"
    return f"the cited abstract says '{theirs[0]}' where the claim does not"


def check_negations_elsewhere(claim: str, sentences: list[str]) -> str | None:
    """A negation must also agree with the other sentences about the claim's subject
    ("does not suffer from CO" two sentences after the best match)."""
    claim_tokens = tokenize(claim)
    mine = content_stems(claim_tokens)
    if not mine:
        return None
    for sentence in sentences:
        ev_tokens = tokenize(sentence)
        shared = mine & content_stems(ev_tokens)
        if len(shared) / len(mine) >= STRICT.negation_overlap:
            failed = _negation_mismatch(claim_tokens, ev_tokens, shared, tight=True)
            if failed:
                return failed
    return None


# -- comparison direction --------------------------------------------------------------------
_PIVOTS = ("than", "outperform", "surpass", "beat", "exceed")


def _comparisons(tokens: list[Token]) -> list[tuple[set[str], set[str]]]:
    out = []
    for i, tok in enumerate(tokens):
        if tok.low.startswith(_PIVOTS):
            left, right = _reach(tokens, i, -1), _reach(tokens, i, 1)
            if left and right:
                out.append((left, right))
    return out


def _reach(tokens: list[Token], i: int, step: int) -> set[str]:
    words: set[str] = set()
    j = i + step
    while 0 <= j < len(tokens) and len(words) < STRICT.direction_reach:
        if tokens[j].low in (";", ":"):
            break
        if is_content(tokens[j]):
            words.add(stem(tokens[j].text))
        j += step
    return words


def check_direction(claim: str, evidence: str) -> str | None:
    """ "A beats B" must not be "B beats A": fail when words of both sides of a claim's
    comparison sit on the other side in the evidence and no comparison keeps them all."""
    theirs = _comparisons(tokenize(evidence))
    for left, right in _comparisons(tokenize(claim)):
        only_left, only_right = left - right, right - left
        verdicts = []
        for ev_left, ev_right in theirs:
            ev_only_left, ev_only_right = ev_left - ev_right, ev_right - ev_left
            a, b = only_left & ev_only_right, only_right & ev_only_left
            kept = bool(only_left & ev_only_left and only_right & ev_only_right)
            verdicts.append((kept and not (a or b), (a, b)))
        if any(ok for ok, _ in verdicts):
            continue
        for _, (a, b) in verdicts:
            if a and b:
                return (
                    "the comparison goes the other way in the cited abstract "
                    f"('{min(b)}' and '{min(a)}' are swapped)"
                )
    return None


# -- overclaiming ----------------------------------------------------------------------------
# Universal or strong words, grouped by what the evidence must say to back them.
_STRONG = {
    "all": "all", "every": "every", "any": "any", "always": "always", "never": "never",
    "guarantee": "guarantee", "guarantees": "guarantee", "guaranteed": "guarantee",
    "prove": "prove", "proves": "prove", "proven": "prove", "proved": "prove",
    "proof": "prove", "provably": "prove", "completely": "completely",
    "entirely": "completely", "fully": "completely", "perfectly": "completely",
    "universally": "all", "frontier-scale": "frontier",
}  # fmt: skip


def check_overclaim(claim: str, evidence: str) -> str | None:
    """A universal or strong word the evidence does not use is an overclaim."""
    backed = {_STRONG[t.low] for t in tokenize(evidence) if t.low in _STRONG}
    for tok in tokenize(claim):
        group = _STRONG.get(tok.low)
        if group and group not in backed:
            return f"the claim says '{tok.text}', which the cited abstract does not support"
    return None


# -- quoted titles ---------------------------------------------------------------------------
_QUOTED = re.compile(r"\"([^\"]{4,})\"|“([^”]{4,})”|\*\*([^*]{4,})\*\*|__([^_]{4,})__")


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def check_title(claim: str, title: str, abstract: str) -> str | None:
    """A quoted or bolded title in the claim must be the cited paper's own title.

    A quoted phrase the abstract itself contains is a quotation, not a title.
    """
    title_key, abstract_key = _key(title), _key(abstract)
    for m in _QUOTED.finditer(claim):
        quoted = _key(next(g for g in m.groups() if g))
        n = len(quoted.split())
        if n < 2 or quoted in abstract_key or quoted in title_key:
            continue
        head = " ".join(title_key.split()[:n])  # "Deep Sets" for "Deep Sets: ..."
        ratio = max(
            difflib.SequenceMatcher(None, quoted, title_key).ratio(),
            difflib.SequenceMatcher(None, quoted, head).ratio(),
        )
        if ratio < STRICT.title_match:
            named = m.group(0).strip('*_“”"')
            return f'the claim names the paper "{named}", but cites "{title}"'
    return None


# -- distinctive terms -----------------------------------------------------------------------
# Words about the paper rather than its content ("the authors find"), as stems.
_META = {
    "author", "studi", "report", "find", "found", "abstract", "paper", "research", "present",
    "introduc", "show", "demonstr", "result", "experi", "propos", "develop", "evalu", "work",
    "use", "method", "approach", "new", "base",
}  # fmt: skip
_BREAKS = {",", ";", ":", "(", ")", ".", "[", "]"}


@dataclass(frozen=True)
class Terms:
    """How the claim's words are covered by the cited paper."""

    names: list[str]  # names (QM9, DoRA, Bayesian) the paper never mentions
    missing: list[str]  # other content words it does not use
    phrase: list[str]  # the longest run of adjacent missing words the corpus knows
    coverage: float  # rarity-weighted share of the claim's words the paper uses


def _is_name(tokens: list[Token], i: int) -> bool:
    text = tokens[i].text
    if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
        return True  # A100, QM9, LLaMA-7B
    if any(c.isupper() for c in text[1:]):
        return True  # DoRA, FINEST, ModelNet
    opening = i == 0 or tokens[i - 1].text in {".", "!", "?", ":", '"', "“", "("}
    return text[0].isupper() and not opening


def paper_vocabulary(text: str) -> set[str]:
    """Stems of a paper's words and of their hyphen parts, and its acronyms' letters
    ("reinforcement learning" gives "rl")."""
    tokens = [t for t in tokenize(text) if t.text[0].isalnum()]
    vocab = {stem(t.text) for t in tokens} | {stem(t.text.replace("-", "")) for t in tokens}
    vocab |= {stem(p) for t in tokens for p in re.split(r"[-'’]", t.text) if p}
    # A plural acronym ("RNNs") names the same thing as the singular one.
    vocab |= {t.low[:-1] for t in tokens if t.text.endswith("s") and t.text[:-1].isupper()}
    words = [t.low for t in tokens if t.text[0].isalpha()]
    for i in range(len(words)):
        for n in range(2, 6):
            if i + n <= len(words):
                vocab.add("".join(w[0] for w in words[i : i + n]))
    return vocab


def _covered(token: Token, vocab: set[str]) -> bool:
    joined = stem(token.text.replace("-", ""))  # "pretrained" for "pre-trained"
    if matches(stem(token.text), vocab) or joined in vocab or token.low.rstrip("s") in vocab:
        return True
    parts = [p for p in token.text.split("-") if p and not p.isdigit()]
    return len(parts) > 1 and all(matches(stem(p), vocab) for p in parts)


def check_terms(claim: str, paper_text: str, idf: Callable[[str], float]) -> Terms:
    """Which of the claim's content words the paper lacks, weighted by rarity."""
    tokens, vocab = tokenize(claim), paper_vocabulary(paper_text)
    absent = idf("\x00never-a-word")  # the idf of a word the corpus never uses
    names, missing, run, longest = [], [], [], []
    total = covered = 0.0
    for i, tok in enumerate(tokens):
        if tok.text in _BREAKS or tok.text[0].isdigit():
            run = []
        if not is_content(tok) or is_number_word(tok) or stem(tok.text) in _META:
            continue
        weight = idf(tok.low[:-1] if tok.low.endswith("s") and len(tok.low) > 4 else tok.low)
        total += weight
        if _covered(tok, vocab):
            covered, run = covered + weight, []
        elif _is_name(tokens, i):
            names.append(tok.text)
        else:
            missing.append(tok.text)
            # A word no abstract uses is rephrasing, not a term ("step by step": once).
            if weight < absent - 1e-9 and tok.low not in (w.lower() for w in run):
                run.append(tok.text)
                longest = max(longest, list(run), key=len)
    return Terms(names, missing, longest, covered / total if total else 1.0)
