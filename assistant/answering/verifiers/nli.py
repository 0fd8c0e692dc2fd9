"""The ``nli`` verifier: a local natural-language-inference cross-encoder judges whether
the cited abstract entails the claim.

Point it at a folder holding a sentence-transformers ``CrossEncoder`` trained for NLI
(three labels: entailment, neutral, contradiction), for example one saved with::

    from sentence_transformers import CrossEncoder
    CrossEncoder("cross-encoder/nli-deberta-v3-small").save("/models/nli-deberta-v3-small")

on a machine with network access, then copied here, and choose it with the verifier spec
``nli:/models/nli-deberta-v3-small`` (setting ``answer.verifier``, or
``assistant verify ... --verifier nli:/models/nli-deberta-v3-small``). Nothing is ever
downloaded: the folder must hold ``config.json``, the weights and the tokenizer files.
The label order is read from the model's ``config.json`` (``id2label``), so models that
order their labels differently work alike.

The premise is each of the best evidence spans (chosen as the strict verifier chooses
them: the best sentence or pair of sentences, the title counting as one); the claim is
supported when entailment wins for one of them and strict's number rule passes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

import assistant.index.embeddings as embeddings
from assistant.answering.verifiers.base import VerifierContext
from assistant.answering.verifiers.strict import StrictVerifier, number_span
from assistant.core.errors import ConfigError
from assistant.core.types import NumberedSource, Verdict

SPANS_JUDGED = 3  # best evidence spans given to the model per claim
_LABELS = ("entailment", "neutral", "contradiction")


def read_labels(folder: Path) -> dict[str, int]:
    """Which output index is entailment, neutral and contradiction, from ``config.json``."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ConfigError(
            f"NLI model folder {folder} has no config.json: it must be a saved "
            "sentence-transformers CrossEncoder (see assistant/answering/verifiers/nli.py)"
        )
    try:
        id2label = json.loads(config_file.read_text(encoding="utf-8")).get("id2label") or {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"NLI model folder {folder}: unreadable config.json ({exc})") from exc
    index = {str(label).lower(): int(i) for i, label in id2label.items()}
    missing = [label for label in _LABELS if label not in index]
    if missing:
        raise ConfigError(
            f"NLI model in {folder} has labels {sorted(index)}; an NLI cross-encoder "
            f"needs {', '.join(_LABELS)} (missing: {', '.join(missing)})"
        )
    return {label: index[label] for label in _LABELS}


def load_cross_encoder(folder: Path) -> Any:
    if not embeddings.ALLOW_REAL_MODELS:
        raise ConfigError("real models are disabled in unit tests")
    from sentence_transformers import CrossEncoder  # heavy: import on use

    try:
        return CrossEncoder(str(folder), device="cpu", local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"could not load the NLI model in {folder}: {exc}") from exc


class NLIVerifier:
    """Entailment by a local cross-encoder over the best evidence spans."""

    name = "nli"

    def __init__(self, context: VerifierContext, folder: Path, model: Any = None) -> None:
        self.labels = read_labels(folder)
        self.model = model if model is not None else load_cross_encoder(folder)
        self._strict = StrictVerifier(context)
        self._lock = threading.Lock()  # torch inference from several UI threads at once

    def verify(self, claim: str, paper: NumberedSource) -> Verdict:
        return self.verify_many([(claim, paper)])[0]

    def verify_many(self, items: list[tuple[str, NumberedSource]]) -> list[Verdict]:
        plans = []
        pairs: list[tuple[str, str]] = []
        for claim, paper in items:
            sentences, spans = self._strict.spans(claim, paper)
            chosen, number_reason = number_span(claim, spans, sentences)
            judged = list(dict.fromkeys([s.text for s in ([chosen] if chosen else []) + spans]))
            judged = judged[:SPANS_JUDGED]
            plans.append((len(pairs), judged, number_reason))
            pairs.extend((premise, claim) for premise in judged)
        probs = self._predict(pairs)
        return [
            self._verdict(probs[start : start + len(judged)], judged, reason)
            for start, judged, reason in plans
        ]

    def _predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, 3))
        with self._lock:
            scores = self.model.predict(pairs, apply_softmax=True, show_progress_bar=False)
        return np.asarray(scores, dtype=np.float64).reshape(len(pairs), -1)

    def _verdict(self, probs: np.ndarray, judged: list[str], number_reason: str | None) -> Verdict:
        if not judged:
            return self._fail("", 0.0, "support", "there is no claim or no abstract to check")
        entail = probs[:, self.labels["entailment"]]
        best = int(np.argmax(entail))
        winner = int(np.argmax(probs[best]))
        score, evidence = float(entail[best]), judged[best]
        if number_reason:  # strict's number rule stays on top
            return self._fail(evidence, score, "number", number_reason)
        if winner == self.labels["entailment"]:
            return Verdict(
                supported=True, score=round(score, 4), evidence=evidence, verifier=self.name
            )
        said = "contradicts" if winner == self.labels["contradiction"] else "does not state"
        return self._fail(
            evidence, score, "nli", f"the NLI model judged that the cited abstract {said} this"
        )

    def _fail(self, evidence: str, score: float, check: str, reason: str) -> Verdict:
        return Verdict(
            supported=False, score=round(score, 4), evidence=evidence,
            reason=reason, check=check, verifier=self.name,
        )  # fmt: skip


def create(context: VerifierContext, arg: str | None) -> NLIVerifier:
    if not arg:
        raise ConfigError(
            "the 'nli' verifier needs the folder of a local NLI cross-encoder, "
            "e.g. nli:/models/nli-deberta-v3-small"
        )
    folder = Path(arg).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"NLI model folder not found: {folder} (verifier spec nli:{arg})")
    return NLIVerifier(context, folder)
