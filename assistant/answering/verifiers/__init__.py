"""Claim verifiers: ``verify(claim, paper) -> Verdict``, chosen by name (``strict``,
``llm``, ``nli``) through one registry, the same way backends are."""

from assistant.answering.verifiers.base import (
    VERIFIERS,
    Verifier,
    VerifierContext,
    available_verifiers,
    create_verifier,
)

__all__ = ["VERIFIERS", "Verifier", "VerifierContext", "available_verifiers", "create_verifier"]
