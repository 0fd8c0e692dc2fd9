"""The architecture of docs/architecture.md, checked: imports point one way (the
import-linter contracts in pyproject.toml) and no function or class grows too long to read."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from assistant.core.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "assistant"
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 150


def test_import_contracts_are_kept() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = [c["name"] for c in config["tool"]["importlinter"]["contracts"]]
    assert contracts, "pyproject.toml declares no import-linter contracts"
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for name in contracts:
        assert f"{name} KEPT" in report, report
    assert f"Contracts: {len(contracts)} kept, 0 broken." in report, report


def definitions(path: Path) -> list[tuple[str, str, int]]:
    """(kind, qualified name, lines) of every function and class in a module."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                kind = "class" if isinstance(child, ast.ClassDef) else "function"
                name = f"{prefix}{child.name}"
                found.append((kind, name, child.end_lineno - child.lineno + 1))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return found


def test_functions_and_classes_stay_short() -> None:
    limits = {"function": MAX_FUNCTION_LINES, "class": MAX_CLASS_LINES}
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}: {kind} {name} has {lines} lines (max {limits[kind]})"
        for path in sorted(PACKAGE.rglob("*.py"))
        for kind, name, lines in definitions(path)
        if lines > limits[kind]
    ]
    assert not offenders, "too long to read in one go:\n" + "\n".join(offenders)
