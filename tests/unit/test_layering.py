"""The layering rule: app/ and db/ never import Qt or ui/, so services run headless (CLI, hubs, tests)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "shiboken6", "ui")
SOURCES = sorted(p for pkg in ("app", "db") for p in (ROOT / pkg).rglob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):  # includes imports nested in functions (lazy imports count too)
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.append((node.lineno, node.args[0].value))
    return out


def _forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


def test_sources_found():
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"app/services.py", "app/problems.py", "db/store.py", "db/changes.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_qt_or_ui_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [f"{path.relative_to(ROOT)}:{line} imports {mod}" for line, mod in _imports(tree) if _forbidden(mod)]
    assert not bad, "\n".join(bad)


def test_checker_catches_violations():
    src = "import PySide6.QtCore\nfrom ui.errors import show_error\ndef f():\n    import shiboken6\n" \
          "import importlib\nimportlib.import_module('ui.views')\nfrom uikit import x\nfrom . import ui\n"
    found = [m for _, m in _imports(ast.parse(src)) if _forbidden(m)]
    assert found == ["PySide6.QtCore", "ui.errors", "shiboken6", "ui.views"]


def test_importing_services_does_not_load_qt():
    code = ("import sys; import app.services, app.stats, app.workbench, db.store, db.changes; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'ui')); "
            "print(','.join(bad))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
