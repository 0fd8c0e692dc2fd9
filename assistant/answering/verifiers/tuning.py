"""Every tunable number of the claim verifiers, in one place, with how it was chosen.

Tuned by hand on the a*** claims of eval/claims.jsonl (the tuning half) with the real
all-MiniLM-L6-v2 embedder and the shipped corpus; the b*** claims are held out. Rerun
``assistant eval-claims eval/claims.jsonl --output DIR`` after changing any of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StrictTuning:
    # -- evidence span and support --
    # Support = w × cosine + (1 − w) × word overlap of the span (w is
    # answer.support_semantic_weight). Below this the span does not say what the claim says.
    support_floor: float = 0.45
    # A pair of sentences must beat a single sentence by this much to become the span.
    pair_margin: float = 0.05
    # A failed claim's score is its span support times this (< 1, so a failed claim never
    # outranks a passed one with the same support).
    failed_score_scale: float = 0.5

    # -- numbers --
    # Words right after a number that may name what it counts ("six previously proposed
    # explanation methods"); the first must be next to the number in the abstract if the
    # abstract uses it at all ("510 Holstein cows" where it says "510 cows" fails).
    unit_words: int = 4
    # Content words on each side of a claim's number that say what it is about.
    claim_number_reach: int = 3
    # ... and of an abstract's number (wider: a paraphrase moves words around).
    evidence_number_reach: int = 8

    # -- polarity and direction --
    negation_scope: int = 5  # tokens after "not"/"without" that it applies to
    # Other sentences sharing this share of the claim's words must agree on negation too.
    negation_overlap: float = 0.3
    opposite_reach: int = 3  # tokens between "less"/"more" and the word it qualifies
    direction_reach: int = 5  # content words on each side of "than"/"outperforms"

    # -- titles and terms --
    # difflib ratio for a misspelt word to count as the paper's word (beyond sharing the
    # first four letters): "netwrok"/"network" is 0.86, "multimod"/"multistep" 0.59.
    typo_ratio: float = 0.8
    title_match: float = 0.8  # difflib ratio at which a quoted title is the paper's
    # A run of this many adjacent content words the paper lacks but other abstracts use
    # is a term from another paper ("variable length genetic algorithm").
    max_missing_phrase: int = 1
    # ... unless it rephrases words of the evidence: cosine of the phrase to its closest
    # 1-3 word n-gram of the span. Paraphrases scored 0.39-0.51 on the tuning claims,
    # swapped terms 0.19-0.38 (one 0.44, caught as a name): set above the swaps.
    rephrase_similarity: float = 0.45
    # The rarity-weighted share of the claim's content words the paper must contain.
    min_term_coverage: float = 0.5


STRICT = StrictTuning()
