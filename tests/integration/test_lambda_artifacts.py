"""The built Lambda artifacts import in a fresh interpreter, as the Lambda runtime would.

`infra.package` builds (and caches under build/lambda-host/, keyed on the pinned
requirements) the same code trees as `make package`, with the layer's packages for this
machine's Python instead of python3.12/arm64 wheels; `infra.artifact_check` imports each
Handler with only the code tree, the layer and boto3 on its path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.artifact_check import _PROBE, LAMBDA_LIKE_ENVIRONMENT, check_imports
from infra.local.dev_tokens import DEFAULT_DEV_JWT_SECRET
from infra.package import build, template_functions

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def manifest() -> dict[str, object]:
    return build(host=True)


def test_every_handler_imports_from_its_artifact(manifest: dict[str, object]) -> None:
    results = check_imports(manifest)
    assert {r.logical_id for r in results} == {f.logical_id for f in template_functions()}
    assert [f"{r.logical_id}: {r.detail}" for r in results if not r.ok] == []


def test_artifacts_hold_only_runtime_code(manifest: dict[str, object]) -> None:
    functions = manifest["functions"]
    assert isinstance(functions, dict)
    for logical_id, info in functions.items():
        code = Path(info["code"])
        tops = {p.name for p in code.iterdir()}
        assert tops <= {"agent_bridge", "tasks", "ops", "workflows"}, (logical_id, tops)
        for path in code.rglob("*"):
            assert not path.name.startswith(("test_", "conftest")), path
            if path.is_file():
                assert DEFAULT_DEV_JWT_SECRET not in path.read_text(errors="ignore"), path
    # Workflow tasks ship no chat, ops or action-group code.
    book = {m.split(".")[0] for m in functions["BookFunction"]["modules"]}
    assert book == {"tasks"}
    chat_modules = functions["ChatFunction"]["modules"]
    assert "agent_bridge.chat.local_agent" not in chat_modules


def test_the_probe_fails_without_the_layer(manifest: dict[str, object]) -> None:
    """The check can fail: without the dependency layer the action groups cannot import."""
    functions = manifest["functions"]
    assert isinstance(functions, dict)
    info = functions["SchedulingActionsFunction"]
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _PROBE,
            json.dumps([info["code"], manifest["runtime"]]),
            info["handler"],
        ],
        capture_output=True,
        text=True,
        env=LAMBDA_LIKE_ENVIRONMENT,
        check=False,
    )
    assert done.returncode != 0
    assert "No module named 'aws_lambda_powertools'" in done.stderr


def test_the_layer_pins_equal_the_projects_pins() -> None:
    """The code that runs locally runs with the same package versions on AWS."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    project = {
        d.split("==")[0].lower(): d.split("==")[1] for d in pyproject["project"]["dependencies"]
    }
    layer = {}
    for line in (root / "requirements-lambda.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            layer[name.lower()] = version
    for name, version in layer.items():
        if name in project:
            assert project[name] == version, name
    runtime_only = {"boto3", "botocore", "waitress", "pyyaml", "rich"}
    assert set(project) - set(layer) <= runtime_only


def test_every_function_ships_its_own_code_tree() -> None:
    for spec in template_functions():
        assert spec.code_uri == f"../build/lambda/functions/{spec.logical_id}", spec
