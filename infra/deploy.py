"""Deploy one environment from infra/envs/<env>.json, or roll its code back one version.

    python -m infra.deploy --env qa deploy            # make deploy ENV=qa
    python -m infra.deploy --env qa deploy --dry-run  # print the commands, run nothing
    python -m infra.deploy --env prod rollback-code   # make rollback-code ENV=prod

`deploy` checks for AWS credentials before anything slow, then runs `sam deploy` with the
environment file's stack name, region and every template parameter (no prompts, no
samconfig.toml to drift), and publishes the environment's initial flag document once
(infra/flagctl.py init). Every deploy publishes a new version of each function behind its
`live` alias (AutoPublishAlias); `rollback-code` points each alias at the version before.
Flags are never changed by a deploy: use `make rollback` / `make rollout` for those.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.flagctl import FlagError, read_env_file

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
ALIAS = "live"
NO_CREDENTIALS = (
    "No AWS credentials found: nothing was built or deployed. Sign in first (e.g. "
    "`aws sso login --profile <profile>` and `export AWS_PROFILE=<profile>`), then run "
    "the command again."
)


class DeployError(Exception):
    """A deploy step that cannot go on; the message is the sentence to print."""


def has_credentials(region: str | None) -> bool:
    return boto3.session.Session(region_name=region).get_credentials() is not None


def sam_executable() -> str:
    """The SAM CLI: `make sam`'s own venv first, else one on PATH."""
    local = ROOT / ".venv-sam" / "bin" / "sam"
    if local.exists():
        return str(local)
    found = shutil.which("sam")
    if found is None:
        raise DeployError("The AWS SAM CLI is not installed; run `make sam` (or install it).")
    return found


def deploy_commands(env_file: Mapping[str, Any], sam: str = "sam") -> list[list[str]]:
    """The deploy command for one environment (what --dry-run prints).

    The artifacts are `make package`'s (build/lambda/, the template's CodeUri and layer).
    """
    # Quoted, as SAM CLI's --parameter-overrides needs for empty values and for values
    # with commas or spaces (TenantTimezones, AlarmEmail="").
    parameters = []
    for key, value in env_file["parameters"].items():
        if '"' in str(value):
            raise DeployError(f"{key} in the environment file must not contain a double quote.")
        parameters.append(f'{key}="{value}"')
    deploy = [
        sam,
        "deploy",
        "--template-file",
        str(TEMPLATE.relative_to(ROOT)),
        "--stack-name",
        str(env_file["stack_name"]),
        "--region",
        str(env_file["region"]),
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
        "--resolve-s3",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        *parameters,
        "--tags",
        f"Environment={env_file['parameters']['Environment']}",
        "Project=pf360-scheduler",
    ]
    return [deploy]


def flags_init_command(environment: str) -> list[str]:
    return [sys.executable, "-m", "infra.flagctl", "--env", environment, "init"]


PLACEHOLDER = ".invalid"  # RFC 2606: a value that must be replaced before a deploy


def check(environment: str) -> int:
    """Before anything slow: credentials, and no placeholder left in the environment file."""
    env_file = read_env_file(environment)
    if not has_credentials(env_file.get("region")):
        raise DeployError(NO_CREDENTIALS)
    unset = [k for k, v in env_file["parameters"].items() if PLACEHOLDER in str(v)]
    if unset:
        raise DeployError(
            f"Set {', '.join(unset)} in infra/envs/{environment}.json first (they still "
            "hold placeholders); nothing was built or deployed."
        )
    return 0


def deploy(environment: str, *, dry_run: bool) -> int:
    env_file = read_env_file(environment)
    commands = [*deploy_commands(env_file), flags_init_command(environment)]
    if dry_run:
        for command in commands:
            print(" ".join(shlex.quote(part) for part in command))
        return 0
    check(environment)
    sam = sam_executable()
    commands = [*deploy_commands(env_file, sam), flags_init_command(environment)]
    environ = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    for command in commands:
        print("+ " + " ".join(shlex.quote(part) for part in command), flush=True)
        completed = subprocess.run(command, cwd=ROOT, env=environ, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise DeployError(
                f"`{Path(command[0]).name} {command[1]}` failed (exit {completed.returncode}); "
                "the steps before it are done, nothing after it ran."
            )
    print(f"{environment}: deployed stack {env_file['stack_name']}.")
    return 0


# ---------------------------------------------------------------------------- code rollback


@dataclass
class AliasMove:
    function: str
    from_version: str
    to_version: str


def function_names(environment: str) -> list[str]:
    """The template's function names in this environment (`!Sub name-${Environment}`)."""
    from infra.local.template_loader import read_template

    names = []
    for resource in read_template(TEMPLATE)["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        name = resource.get("Properties", {}).get("FunctionName", {})
        if isinstance(name, dict) and "Fn::Sub" in name and isinstance(name["Fn::Sub"], str):
            names.append(name["Fn::Sub"].replace("${Environment}", environment))
    return names


def previous_versions(lambdas: Any, names: Sequence[str]) -> list[AliasMove]:
    """For each function, its alias's version and the published version before it."""
    moves = []
    for name in names:
        try:
            current = str(lambdas.get_alias(FunctionName=name, Name=ALIAS)["FunctionVersion"])
        except ClientError as error:
            raise DeployError(
                f"{name} has no '{ALIAS}' alias ({error.response['Error']['Code']}); "
                "deploy this template once (it publishes versions) before rolling code back."
            ) from error
        versions: list[int] = []
        for page in lambdas.get_paginator("list_versions_by_function").paginate(FunctionName=name):
            versions += [int(v["Version"]) for v in page["Versions"] if v["Version"].isdigit()]
        older = [v for v in versions if current.isdigit() and v < int(current)]
        if not older:
            raise DeployError(
                f"{name}: '{ALIAS}' is at version {current}; there is no older version."
            )
        moves.append(AliasMove(name, current, str(max(older))))
    return moves


def rollback_code(
    environment: str, *, endpoint_url: str | None = None, region: str | None = None
) -> list[AliasMove]:
    """Point every function's alias at its previous version (all checked before any moves)."""
    env_file = read_env_file(environment)
    region = region or env_file.get("region")
    if not has_credentials(region):
        raise DeployError(NO_CREDENTIALS.replace("built or deployed", "changed"))
    lambdas = boto3.client("lambda", region_name=region, endpoint_url=endpoint_url)
    moves = previous_versions(lambdas, function_names(environment))
    for move in moves:
        lambdas.update_alias(
            FunctionName=move.function, Name=ALIAS, FunctionVersion=move.to_version
        )
    return moves


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="dev, qa, staging or prod")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="the environment file and AWS credentials, nothing else")
    run = commands.add_parser("deploy", help="sam deploy with infra/envs/<env>.json")
    run.add_argument("--dry-run", action="store_true", help="print the commands only")
    back = commands.add_parser("rollback-code", help="aliases to the previous versions")
    back.add_argument("--endpoint-url", default=None, help="e.g. the local stack's endpoint")
    back.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return check(args.env)
        if args.command == "deploy":
            return deploy(args.env, dry_run=args.dry_run)
        moves = rollback_code(args.env, endpoint_url=args.endpoint_url, region=args.region)
        for move in moves:
            print(f"{move.function}: {ALIAS} {move.from_version} -> {move.to_version}")
        return 0
    except (DeployError, FlagError) as error:
        print(str(error), file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"AWS refused the change: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
