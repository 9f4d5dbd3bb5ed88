"""The package's structure: every import points down the layers declared in pyproject.toml
([tool.importlinter]), so there is no import circle and no reaching back up the data flow."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.files import PROJECT_ROOT


def test_no_package_imports_one_above_it() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists() and shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed: pip install -e '.[test]'")
    done = subprocess.run([str(lint) if lint.exists() else "lint-imports", "--no-cache"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_every_package_init_only_re_exports() -> None:
    """Code lives in named modules; importing a package costs no more than what it re-exports."""
    import ast

    for init in sorted((PROJECT_ROOT / "harness").rglob("__init__.py")):
        body = ast.parse(init.read_text()).body
        for node in body:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            names = [getattr(t, "id", "") for t in node.targets] if isinstance(node, ast.Assign) else []
            exports = names in (["__all__"], ["__version__"])
            assert docstring or exports or isinstance(node, (ast.Import, ast.ImportFrom)), \
                f"{init.relative_to(PROJECT_ROOT)}:{node.lineno} holds code; move it into a named module"
