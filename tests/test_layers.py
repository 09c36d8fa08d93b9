"""The apps form layers and imports only point down (docs/architecture.md, "Layers").

Every Python file of every app is parsed and each import of another app is
checked against LAYERS; TYPE_CHECKING imports count too, since a type names
what the code depends on. KNOWN_UPWARD lists the upward imports still being
removed: a new one fails the test, and so does an entry that no longer exists,
so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An app may import itself and any app before it in this list.
LAYERS = [
    "config",
    "accounts",
    "coaches",
    "engagements",
    "feedback",
    "scheduling",
    "nudges",
    "reports",
]

# (importing module, imported app) pairs not yet moved to their layer.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _modules(app: str) -> list[tuple[str, Path]]:
    return [
        (".".join(path.relative_to(ROOT).with_suffix("").parts), path)
        for path in sorted((ROOT / app).rglob("*.py"))
    ]


def _imported_apps(path: Path) -> set[str]:
    apps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        apps.update(name.split(".")[0] for name in names if name.split(".")[0] in LAYERS)
    return apps


def upward_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for rank, app in enumerate(LAYERS):
        for module, path in _modules(app):
            module = module.removesuffix(".__init__")
            found.update(
                (module, other) for other in _imported_apps(path) if LAYERS.index(other) > rank
            )
    return found


def test_every_app_is_in_a_layer() -> None:
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps - {"config"} <= set(LAYERS), f"put {apps - set(LAYERS)} into LAYERS"


def test_no_app_imports_one_above_it() -> None:
    new = upward_imports() - KNOWN_UPWARD
    assert not new, "imports that point up the layers (docs/architecture.md):\n" + "\n".join(
        f"  {module} imports {app}" for module, app in sorted(new)
    )


def test_known_upward_imports_are_still_there() -> None:
    gone = KNOWN_UPWARD - upward_imports()
    assert not gone, "remove these from KNOWN_UPWARD, they are fixed:\n" + "\n".join(
        f"  {module} -> {app}" for module, app in sorted(gone)
    )


@pytest.mark.parametrize("app", LAYERS)
def test_layer_test_sees_the_app(app: str) -> None:
    """Guards the test itself: an app with no modules found would pass vacuously."""
    if (ROOT / app).is_dir():
        assert _modules(app), f"no Python files found under {app}/"
