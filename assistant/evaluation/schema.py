"""JSON schemas of the evaluation files, written to ``eval/schema/`` so other tools can
read questions, result records and reports without this package.

    python -m assistant.evaluation.schema        # rewrite eval/schema/*.schema.json
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from assistant.core.settings import PROJECT_ROOT
from assistant.evaluation.questions import Question
from assistant.evaluation.records import EvalRecord, Report

SCHEMA_DIR = PROJECT_ROOT / "eval" / "schema"
MODELS: dict[str, type[BaseModel]] = {"question": Question, "record": EvalRecord, "report": Report}


def schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, model in MODELS.items():
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(model), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_schemas():
        print(written)
