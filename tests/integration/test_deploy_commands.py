"""`make deploy` and `make rollback-code` (infra/deploy.py), without an AWS account.

deploy: the commands it would run carry the environment file's stack, region and every
template parameter; without credentials it stops before building anything. rollback-code:
on the local stack (moto's Lambda versions and aliases), every function's `live` alias
moves to the version before, and nothing moves when one function cannot.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from infra import deploy
from infra.local.stack import LocalStack
from infra.local.template_loader import read_template

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def without_credentials() -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **keep,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_deploy_without_credentials_stops_at_once_with_a_sentence(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "infra.deploy", "--env", "qa", "deploy"],
        cwd=ROOT,
        env=without_credentials(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("No AWS credentials found: nothing was built or deployed.")
    assert completed.stdout == ""  # no build step started


def test_deploy_dry_run_passes_every_parameter_of_the_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert deploy.main(["--env", "qa", "deploy", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    sam_deploy = next(line for line in lines if " deploy " in line and "--stack-name" in line)
    assert "--stack-name pf360-scheduler-qa" in sam_deploy
    assert "--region us-east-1" in sam_deploy
    overrides = deploy.deploy_commands(deploy.read_env_file("qa"))[0]
    overrides = overrides[overrides.index("--parameter-overrides") + 1 : overrides.index("--tags")]
    # SAM CLI accepts Key="value" for every value, empty ones and ones with commas included.
    assert all(re.fullmatch(r'[A-Za-z0-9]+="[^"]*"', item) for item in overrides), overrides
    assert sorted(item.split("=", 1)[0] for item in overrides) == sorted(
        read_template()["Parameters"]
    )
    assert 'CustomerSchedulerBaseApiUrl="https://api.qa.projectsforce.com"' in overrides
    assert 'AlarmEmail=""' in overrides
    assert lines[-1].endswith("-m infra.flagctl --env qa init")


def test_an_unknown_environment_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["--env", "production", "deploy", "--dry-run"]) == 2
    assert "There is no environment 'production'; known: dev, prod, qa, staging." in (
        capsys.readouterr().err
    )


def code(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", text)
    return buffer.getvalue()


def published(local_stack: LocalStack, name: str, versions: int) -> None:
    """A function with `versions` published versions and `live` at the newest."""
    lambdas = local_stack.client("lambda")
    lambdas.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda",
        Handler="handler.handler",
        Code={"ZipFile": code("v1")},
    )
    last = ""
    for number in range(1, versions + 1):
        if number > 1:
            lambdas.update_function_code(FunctionName=name, ZipFile=code(f"v{number}"))
        last = lambdas.publish_version(FunctionName=name)["Version"]
    lambdas.create_alias(FunctionName=name, Name=deploy.ALIAS, FunctionVersion=last)


def test_rollback_code_moves_every_alias_to_the_previous_version(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = f"t{uuid.uuid4().hex[:6]}"
    names = [f"scheduler-book-{env}", f"scheduling-actions-{env}"]
    for name in names:
        published(local_stack, name, versions=3)
    monkeypatch.setattr(deploy, "function_names", lambda environment: names)
    monkeypatch.setattr(deploy, "read_env_file", lambda environment: {"region": "us-east-1"})

    moves = deploy.rollback_code(env, endpoint_url=local_stack.endpoint_url)
    assert [(m.function, m.from_version, m.to_version) for m in moves] == [
        (names[0], "3", "2"),
        (names[1], "3", "2"),
    ]
    lambdas = local_stack.client("lambda")
    for name in names:
        assert lambdas.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"

    # One function without an older version: nothing moves, and the sentence says why.
    lonely = f"scheduler-finish-{env}"
    published(local_stack, lonely, versions=1)
    monkeypatch.setattr(deploy, "function_names", lambda environment: [*names, lonely])
    with pytest.raises(deploy.DeployError, match="there is no older version"):
        deploy.rollback_code(env, endpoint_url=local_stack.endpoint_url)
    for name in names:
        assert lambdas.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"


def test_rollback_code_knows_the_templates_functions() -> None:
    names = deploy.function_names("prod")
    assert "scheduling-actions-prod" in names and "scheduler-book-prod" in names
    functions = [
        r for r in read_template()["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(names) == len(functions)
