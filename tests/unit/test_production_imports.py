"""Production code never imports the local harness (the local side composes production)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.package import PackagingError, module_closure

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("agent_bridge", "tasks", "workflows", "ops")
FORBIDDEN = ("infra.local", "infra", "tests")


def imported_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def offending_imports(package_dirs: list[Path]) -> list[str]:
    found = []
    for package_dir in package_dirs:
        for path in sorted(package_dir.rglob("*.py")):
            for name in imported_names(path):
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_production_packages_never_import_the_local_harness() -> None:
    assert offending_imports([ROOT / name for name in PRODUCTION]) == []


def test_the_check_sees_an_import_of_infra_local(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        "import importlib\n"
        "def f():\n"
        "    from infra.local.dev_tokens import dev_secret\n"
        "    importlib.import_module('infra.local.stack')\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = offending_imports([package])
    finally:
        ROOT = saved
    assert found == [
        "pkg/mod.py imports infra.local.dev_tokens",
        "pkg/mod.py imports infra.local.dev_tokens.dev_secret",
        "pkg/mod.py imports infra.local.stack",
    ]


def test_packaging_refuses_a_handler_that_reaches_the_harness() -> None:
    # The chat server is the local composition; no Lambda may ship it.
    with pytest.raises(PackagingError, match="must not import the local harness"):
        module_closure("infra.local.chat_server")
    assert not any(
        m.startswith("infra") for m in module_closure("agent_bridge.chat.lambda_handler")
    )
