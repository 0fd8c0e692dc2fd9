"""The strict verifier: each check on small hand-made papers, and the words of its reasons
(hash embedder, a BM25 index of a few sentences for word rarity: no model)."""

from __future__ import annotations

import pytest

from assistant.answering.scorer import SentenceScorer
from assistant.answering.verifiers import VerifierContext, create_verifier
from assistant.answering.verifiers.numbers import check_numbers, quantities
from assistant.answering.verifiers.strict import StrictVerifier, ranked_spans
from assistant.answering.verifiers.tuning import StrictTuning
from assistant.core.settings import Settings
from assistant.index.embeddings import HashEmbedder
from assistant.index.keyword import ChunkRow, KeywordIndex
from tests.factories import source

BESA = source(
    1,
    "besa",
    "BESA: Pruning Large Language Models with Blockwise Parameter-Efficient Sparsity",
    [
        "BESA prunes LLaMA models with 7B to 70B parameters on a single A100 GPU in five hours.",
        "It reaches 95% of the dense accuracy while removing half of the weights.",
        "The pruning schedule does not require retraining the model.",
        "BESA is more robust to calibration data than layer-wise pruning.",
        "BESA converges faster than SparseGPT on every tested model.",
    ],
)
SPLIT = source(
    2,
    "split",
    "Predicting Thermoelectric Power Factor with Machine Learning",
    [
        "We used 80% of the data for training and 20% for testing.",
        "The bagging classifier reached the highest accuracy of 90%.",
        "The error fell from 95% to 47% after feature selection.",
        "Training took 12 hours on a workstation.",
    ],
)
CARBS = source(
    3,
    "carbs",
    "Tune As You Scale: Hyperparameter Optimization For Compute Efficient Training",
    ["CARBS is a Bayesian optimization algorithm that performs local search near the frontier."],
)
# Other papers of the "corpus": they make 'genetic' a known word of some other abstract.
OTHERS = [
    "A variable length genetic algorithm tunes convolutional networks.",
    "Graph networks predict molecular properties on benchmark datasets.",
]


@pytest.fixture(scope="module")
def verifier() -> StrictVerifier:
    texts = [*OTHERS, *(s for p in (BESA, SPLIT, CARBS) for s in [p.title, p.abstract])]
    keyword = KeywordIndex([ChunkRow(str(i), t, {}) for i, t in enumerate(texts)])
    scorer = SentenceScorer(HashEmbedder(), support_weight=0.5)
    return StrictVerifier(VerifierContext(scorer=scorer, idf=keyword.idf, settings=Settings()))


def check(verifier: StrictVerifier, claim: str, paper=BESA):  # noqa: ANN001, ANN201
    return verifier.verify(claim, paper)


def test_a_copied_sentence_is_supported_with_its_evidence(verifier: StrictVerifier) -> None:
    claim = "BESA prunes LLaMA models with 7B to 70B parameters on a single A100 GPU in five hours."
    verdict = check(verifier, claim)
    assert verdict.supported and verdict.check is None and verdict.reason == ""
    assert verdict.evidence == claim and verdict.verifier == "strict"
    assert 0.5 < verdict.score <= 1.0


def test_the_title_counts_as_a_sentence(verifier: StrictVerifier) -> None:
    verdict = check(verifier, "BESA prunes large language models with blockwise sparsity.")
    assert verdict.supported, verdict.reason


def test_a_claim_combining_two_sentences_rests_on_both(verifier: StrictVerifier) -> None:
    claim = "The bagging classifier reached 90% accuracy, and training took 12 hours."
    verdict = check(verifier, claim, SPLIT)
    assert verdict.supported, verdict.reason
    assert "90%" in verdict.evidence and "12 hours" in verdict.evidence


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (
            "The bagging classifier reached the highest accuracy of 75%.",
            "the number 75% is not stated in the cited abstract",
        ),
        ("Training took 12 days on a workstation.", "not stated with 'days'"),
        (
            "The bagging classifier reached the highest accuracy, 80%, in the study.",
            "the number 80% is not stated with 'accuracy' in the cited abstract",
        ),
        (
            "The error fell from 47% to 95% after feature selection.",
            "the cited abstract gives 47% and 95% the other way round",
        ),
    ],
)
def test_numbers_must_be_stated_with_what_they_count(
    verifier: StrictVerifier, claim: str, reason: str
) -> None:
    verdict = check(verifier, claim, SPLIT)
    assert not verdict.supported and verdict.check == "number"
    assert reason in verdict.reason
    assert verdict.score <= 0.5


def test_a_number_word_matches_its_digits(verifier: StrictVerifier) -> None:
    assert check(verifier, "BESA prunes LLaMA models on one A100 GPU in 5 hours.").supported
    verdict = check(verifier, "BESA prunes LLaMA models on a single A100 GPU in twelve hours.")
    assert verdict.check == "number" and "twelve" in verdict.reason


@pytest.mark.parametrize(
    ("claim", "said"),
    [
        ("The pruning schedule requires retraining the model.", "says 'not' where the claim"),
        ("The schedule cannot work without retraining the model.", "the claim says 'cannot'"),
        (
            "BESA is less robust to calibration data than layer-wise pruning.",
            "the claim says 'less' where the cited abstract says 'more'",
        ),
    ],
)
def test_polarity_must_agree(verifier: StrictVerifier, claim: str, said: str) -> None:
    verdict = check(verifier, claim)
    assert not verdict.supported and verdict.check == "polarity"
    assert said in verdict.reason


def test_a_comparison_keeps_its_direction(verifier: StrictVerifier) -> None:
    verdict = check(verifier, "SparseGPT converges faster than BESA on every tested model.")
    assert not verdict.supported and verdict.check == "direction"
    assert "other way" in verdict.reason


def test_strong_words_the_evidence_lacks_are_an_overclaim(verifier: StrictVerifier) -> None:
    verdict = check(verifier, "It is guaranteed to reach 95% of the dense accuracy.")
    assert verdict.check == "overclaim" and "'guaranteed'" in verdict.reason
    # The evidence says "every": saying it too is no overclaim.
    assert check(verifier, "BESA converges faster than SparseGPT on every tested model.").supported


def test_a_quoted_title_must_be_the_cited_papers(verifier: StrictVerifier) -> None:
    verdict = check(verifier, 'The paper "Deep Sets for Point Clouds" prunes LLaMA models.')
    assert verdict.check == "title"
    assert "Deep Sets for Point Clouds" in verdict.reason and BESA.title in verdict.reason
    ok = check(verifier, f'"{BESA.title.lower()}" prunes LLaMA models with 7B to 70B parameters.')
    assert ok.check != "title"


@pytest.mark.parametrize(
    ("claim", "paper", "missing"),
    [
        ("BESA prunes LLaMA models evaluated on the QM9 benchmark.", BESA, "'QM9'"),
        (
            "CARBS is a variable length genetic algorithm that performs local search.",
            CARBS,
            "'variable length genetic'",
        ),
    ],
)
def test_names_and_terms_the_paper_lacks_fail(
    verifier: StrictVerifier,
    claim: str,
    paper,
    missing: str,  # noqa: ANN001
) -> None:
    verdict = check(verifier, claim, paper)
    assert not verdict.supported and verdict.check == "terms"
    assert missing in verdict.reason and "cited paper" in verdict.reason


def test_typos_and_stems_are_forgiven(verifier: StrictVerifier) -> None:
    verdict = check(verifier, "BESA prunnes LLaMA modles with 7B to 70B parameters in five hours.")
    assert verdict.supported, verdict.reason


def test_weak_support_fails_with_a_plain_reason() -> None:
    keyword = KeywordIndex([ChunkRow("0", BESA.abstract, {})])
    scorer = SentenceScorer(HashEmbedder(), support_weight=0.5)
    context = VerifierContext(scorer=scorer, idf=keyword.idf, settings=Settings())
    strict = StrictVerifier(context, StrictTuning(support_floor=0.95))
    verdict = strict.verify("BESA removes half of the weights of LLaMA models.", BESA)
    assert verdict.check == "support" and "does not say this" in verdict.reason


def test_empty_inputs_fail_cleanly(verifier: StrictVerifier) -> None:
    assert check(verifier, "   ").check == "support"
    empty = source(9, "e", "", [])
    assert verifier.verify("Anything at all.", empty).supported is False


def test_registry_and_batch(verifier: StrictVerifier) -> None:
    made = create_verifier("strict", verifier.context)
    assert isinstance(made, StrictVerifier) and made.name == "strict"
    verdicts = made.verify_many([("Training took 12 hours on a workstation.", SPLIT)] * 2)
    assert [v.supported for v in verdicts] == [True, True]


def test_pairs_must_beat_single_sentences_by_a_margin(verifier: StrictVerifier) -> None:
    sentences = [BESA.title, *BESA.passages]
    spans = ranked_spans(verifier.context.scorer, BESA.passages[1], sentences, pair_margin=0.05)
    assert spans[0].indices == (2,) and spans[0].text == BESA.passages[1]


def test_quantities_read_multipliers_units_and_words() -> None:
    found = quantities("a 3.8 billion parameter model, 7B weights, 5e-3 rate, six layers")
    assert [(q.value, q.unit[:1]) for q in found] == [
        (3.8e9, ["paramet"]),
        (7e9, ["weight"]),
        (0.005, ["rate"]),
        (6.0, ["layer"]),
    ]
    assert quantities("CIFAR-10 and FFHQ 64x64 with phi-3-mini") == []


def test_numbers_of_a_range_share_their_unit() -> None:
    ok = check_numbers("It saved between 7 and 11 Watts.", ["It saved 7 to 11 Watts."], [])
    assert ok.reason is None
    bad = check_numbers("It saved between 7 and 11 hours.", ["It saved 7 to 11 Watts."], [])
    assert bad.reason is not None and "7" in bad.reason
