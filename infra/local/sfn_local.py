"""`make sfn-local`: the MockConfigFile cases on Step Functions Local (Docker), where Docker exists.

Runs `amazon/aws-stepfunctions-local` with SFN_MOCK_CONFIG=infra/local/MockConfigFile.json
and a Lambda endpoint serving our handlers (the embedded stack's Lambda runtime), then
the same cases `make test` runs on the embedded engine. AWS marks Step Functions Local as
unsupported; it stays an option, not the default. Without a Docker engine it stops at once.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

import boto3

from infra.local import mock_cases
from infra.local.stack import LocalStack

IMAGE = "amazon/aws-stepfunctions-local"
CONTAINER = "pf360-sfn-local"
MOCK_CONFIG_IN_CONTAINER = "/home/StepFunctionsLocal/MockConfigFile.json"
NO_DOCKER_EXIT = 2


def docker_problem() -> str | None:
    """Why Docker cannot be used here, or None when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 15 s"
    if probe.returncode != 0:
        detail = (probe.stderr or probe.stdout).strip().splitlines()
        return "no Docker engine is running" + (f" ({detail[-1]})" if detail else "")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sfn-port", type=int, default=8083)
    parser.add_argument("--lambda-port", type=int, default=5015)
    args = parser.parse_args(argv)

    problem = docker_problem()
    if problem is not None:
        print(
            f"make sfn-local needs Docker, but {problem}.\n"
            "The same MockConfigFile cases run on the embedded engine in `make test` "
            "(tests/integration/test_mock_config.py); nothing else needs Docker.",
            file=sys.stderr,
        )
        return NO_DOCKER_EXIT

    stack = LocalStack(host="0.0.0.0", port=args.lambda_port).start()
    try:
        subprocess.run(
            [
                "docker", "run", "-d", "--rm", "--name", CONTAINER,
                "-p", f"{args.sfn_port}:8083",
                "--add-host", "host.docker.internal:host-gateway",
                "-e", f"LAMBDA_ENDPOINT=http://host.docker.internal:{args.lambda_port}",
                "-e", "AWS_DEFAULT_REGION=us-east-1",
                "-e", f"SFN_MOCK_CONFIG={MOCK_CONFIG_IN_CONTAINER}",
                "-v", f"{mock_cases.MOCK_CONFIG_PATH}:{MOCK_CONFIG_IN_CONTAINER}:ro",
                IMAGE,
            ],
            check=True,
            timeout=300,
        )  # fmt: skip
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=f"http://127.0.0.1:{args.sfn_port}",
            region_name="us-east-1",
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                sfn.list_state_machines()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        local = stack.client("stepfunctions")
        assert stack.deployed is not None
        definitions = {
            name: local.describe_state_machine(
                stateMachineArn=stack.deployed.state_machines[logical_id]
            )["definition"]
            for name, logical_id in mock_cases.MACHINES.items()
        }
        arns = mock_cases.install_case_machines(
            sfn, definitions, "arn:aws:iam::123456789012:role/DummyRole"
        )
        results = mock_cases.run_all(sfn, arns)
    finally:
        subprocess.run(["docker", "stop", CONTAINER], capture_output=True, check=False, timeout=60)
        stack.stop()

    for result in results:
        verdict = "ok  " if result.passed else "FAIL"
        print(f"{verdict} {result.machine}#{result.case}: {result.status} {result.problems or ''}")
    failed = [r for r in results if not r.passed]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
