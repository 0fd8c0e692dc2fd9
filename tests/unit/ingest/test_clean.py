"""Normalising LaTeX-ish escapes and whitespace."""

from __future__ import annotations

import pytest

from assistant.ingest.clean import normalize_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (r"Schr\"odinger", "Schrödinger"),
        (r"Schr\"{o}dinger", "Schrödinger"),
        (r"H{\"o}lder", "Hölder"),
        (r"85\%", "85%"),
        (r"{\em smooth} maps", "smooth maps"),
        (r"Polyak-{\L}ojasiewicz", "Polyak-Łojasiewicz"),
        (r"Poincar\'e", "Poincaré"),
        (r"Monge-Amp\`ere", "Monge-Ampère"),
        (r"O\'Connell", "O'Connell"),
        (r"w.r.t.\ new", "w.r.t. new"),
        (r"{\lambda}opt with \varepsilon>0$", "λopt with ε>0"),
        ("  spaced \t out\n", "spaced out"),
    ],
)
def test_normalize_latex(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean
