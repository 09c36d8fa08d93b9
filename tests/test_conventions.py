"""Conventions of docs/architecture.md that a reader relies on, checked over the source."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_layers import LAYERS, ROOT

METHOD_DECORATORS = {"require_GET", "require_POST", "require_http_methods", "require_safe"}


def _views() -> list[tuple[Path, ast.FunctionDef]]:
    paths = [path for app in LAYERS for path in sorted((ROOT / app).rglob("views*.py"))]
    return [
        (path, node)
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
    ]


def test_there_are_views_to_check() -> None:
    assert len(_views()) > 10


def test_role_required_is_outermost_then_the_method_decorator() -> None:
    """docs/architecture.md, "Conventions": @role_required(...) first, then the method."""
    wrong = []
    for path, view in _views():
        names = [ast.unparse(d).split("(")[0] for d in view.decorator_list]
        if "role_required" in names and (
            names[0] != "role_required" or len(names) < 2 or names[1] not in METHOD_DECORATORS
        ):
            wrong.append(f"{path.relative_to(ROOT)}: {view.name} {names}")
    assert not wrong, "put @role_required first, then the method decorator:\n" + "\n".join(wrong)
