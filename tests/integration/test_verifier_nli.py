"""The nli verifier's code path with a tiny cross-encoder built here (random weights: the
test checks loading, label order and verdict assembly, not judgement)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.scorer import SentenceScorer
from assistant.answering.verifiers import VerifierContext, create_verifier
from assistant.answering.verifiers.nli import NLIVerifier, read_labels
from assistant.core.errors import ConfigError
from assistant.core.settings import Settings
from assistant.index.embeddings import BUNDLED_MODEL, HashEmbedder, resolve_model_path
from tests.factories import source

PAPER = source(
    1,
    "split",
    "Predicting Thermoelectric Power Factor with Machine Learning",
    [
        "We used 80% of the data for training and 20% for testing.",
        "The bagging classifier reached the highest accuracy of 90%.",
    ],
)
GOOD = "The bagging classifier reached the highest accuracy of 90%."
# Not the usual order, so a verifier that assumed (entailment, neutral, contradiction) fails.
ID2LABEL = {0: "contradiction", 1: "entailment", 2: "neutral"}
TOKENIZER_FILES = [
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]


@pytest.fixture(scope="module")
def tiny_nli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("nli")
    bundled = resolve_model_path(BUNDLED_MODEL)
    for name in TOKENIZER_FILES:
        shutil.copy(bundled / name, folder / name)
    vocab_size = len((bundled / "vocab.txt").read_text(encoding="utf-8").splitlines())
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=3,
        id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def context() -> VerifierContext:
    scorer = SentenceScorer(HashEmbedder(), support_weight=0.5)
    return VerifierContext(scorer=scorer, idf=lambda word: 3.0, settings=Settings())


class Scripted:
    """Stands in for the cross-encoder: the same probabilities for every pair."""

    def __init__(self, probs: list[float]) -> None:
        self.probs = probs
        self.pairs: list[tuple[str, str]] = []

    def predict(self, pairs: list[tuple[str, str]], **kw: object) -> np.ndarray:
        self.pairs.extend(pairs)
        return np.array([self.probs] * len(pairs))


def test_the_tiny_model_loads_and_judges(tiny_nli: Path, real_models: None) -> None:
    verifier = create_verifier(f"nli:{tiny_nli}", context())
    assert isinstance(verifier, NLIVerifier)
    assert verifier.labels == {"entailment": 1, "neutral": 2, "contradiction": 0}
    verdicts = verifier.verify_many([(GOOD, PAPER), ("Training took 12 days.", PAPER)])
    assert len(verdicts) == 2
    for verdict in verdicts:
        assert verdict.verifier == "nli" and 0.0 <= verdict.score <= 1.0
        assert verdict.evidence
        assert verdict.supported or verdict.reason
    assert verdicts[1].check == "number"  # strict's number rule, whatever the model says


@pytest.mark.parametrize(
    ("probs", "supported", "reason"),
    [
        ([0.1, 0.8, 0.1], True, ""),
        ([0.7, 0.2, 0.1], False, "contradicts"),
        ([0.1, 0.3, 0.6], False, "does not state"),
    ],
)
def test_labels_follow_the_model_config(
    tiny_nli: Path, probs: list[float], supported: bool, reason: str
) -> None:
    model = Scripted(probs)
    verdict = NLIVerifier(context(), tiny_nli, model=model).verify(GOOD, PAPER)
    assert verdict.supported is supported and reason in verdict.reason
    assert verdict.score == pytest.approx(probs[1])
    assert model.pairs[0] == (GOOD, GOOD)  # premise: the best evidence span; hypothesis: claim
    assert len(model.pairs) <= 3


def test_a_number_failure_overrides_entailment(tiny_nli: Path) -> None:
    model = Scripted([0.0, 1.0, 0.0])
    verdict = NLIVerifier(context(), tiny_nli, model=model).verify(
        "The bagging classifier reached the highest accuracy of 75%.", PAPER
    )
    assert not verdict.supported and verdict.check == "number" and "75%" in verdict.reason


def test_missing_or_invalid_folders_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the folder"):
        create_verifier("nli", context())
    with pytest.raises(ConfigError, match="NLI model folder not found"):
        create_verifier(f"nli:{tmp_path / 'nope'}", context())
    with pytest.raises(ConfigError, match="no config.json"):
        create_verifier(f"nli:{tmp_path}", context())
    (tmp_path / "config.json").write_text(json.dumps({"id2label": {"0": "NEGATIVE"}}))
    with pytest.raises(ConfigError, match="missing: entailment"):
        read_labels(tmp_path)


def test_real_models_stay_blocked_in_tests(tiny_nli: Path) -> None:
    with pytest.raises(ConfigError, match="disabled"):
        create_verifier(f"nli:{tiny_nli}", context())
