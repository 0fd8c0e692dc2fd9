"""``assistant ask`` with no configuration but the index folder: real models throughout."""

from __future__ import annotations

import pytest

from tests.cliutil import cli

PINN_Q = "Which papers address failure modes of physics-informed neural networks?"


@pytest.mark.slow
def test_cli_ask_with_no_configuration(real_index) -> None:  # noqa: ANN001
    """`assistant ask` with defaults (llamacpp, real embedder): only the index folder is set."""
    out = cli(["ask", PINN_Q], {"ASSISTANT_INDEX__PERSIST_DIR": str(real_index.index.persist_dir)})
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout and "[1]" in out.stdout
    assert "[llamacpp;" in out.stdout or "[extractive — fallback" in out.stdout
