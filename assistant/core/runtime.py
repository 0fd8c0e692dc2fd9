"""Process-wide environment, set once at start-up (when ``assistant`` is first imported).

The product is offline: no model hub, no telemetry, no analytics. Libraries read these
variables when they are first imported, so they are set before anything else loads.
A value the user set explicitly is kept.
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # sentence-transformers / transformers: never reach the hub
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TRANSFORMERS_VERBOSITY": "error",  # weight-loading chatter is noise in a CLI
    "TOKENIZERS_PARALLELISM": "false",  # quiet fork warnings from the tokenizer
}


def configure_environment() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
