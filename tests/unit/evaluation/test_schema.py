"""The JSON schemas in eval/schema/ match the pydantic models (regenerate with
``python -m assistant.evaluation.schema``)."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation.schema import MODELS, SCHEMA_DIR, schema_text


@pytest.mark.parametrize("name", sorted(MODELS))
def test_written_schema_is_current(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.schema.json"
    assert path.is_file(), f"missing {path}: run python -m assistant.evaluation.schema"
    assert path.read_text(encoding="utf-8") == schema_text(MODELS[name])
    assert json.loads(path.read_text())["type"] == "object"
