"""Running the ``assistant`` command in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from assistant.core.settings import PROJECT_ROOT, Settings


def cli(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m assistant ARGS`` from the project root, with ``env`` added."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


def index_env(settings: Settings) -> dict[str, str]:
    """The environment that points the command at the index of ``settings``."""
    return {
        "ASSISTANT_INDEX__PERSIST_DIR": str(settings.index.persist_dir),
        "ASSISTANT_INDEX__EMBEDDER": settings.index.embedder,
    }
