"""The installed llama.cpp build runs the bundled model correctly: the check `make install`
uses to keep or replace the AMX build, run as the Makefile runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.backends.llamacpp import bundled_model_path


@pytest.mark.skipif(bundled_model_path() is None, reason="bundled model not installed")
def test_the_installed_build_passes_its_check() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.backends.llamacpp_check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("llamacpp_check: ok")


def test_a_wrong_completion_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the Makefile relies on to fall back: a wrong answer is a non-zero exit."""
    from assistant.backends import llamacpp_check

    class Broken:  # a build whose kernels compute garbage
        def __init__(self, **_: object) -> None:
            pass

        def __call__(self, prompt: str, **_: object) -> dict:
            return {"choices": [{"text": " banana"}]}

    import llama_cpp

    monkeypatch.setattr(llama_cpp, "Llama", Broken)
    monkeypatch.setattr(
        "assistant.backends.llamacpp.bundled_model_path", lambda: llamacpp_check.__file__
    )
    assert llamacpp_check.main() == 1
