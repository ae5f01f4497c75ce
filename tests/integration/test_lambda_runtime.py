"""The local Lambda runtime: execution environments as worker processes, like AWS's.

Through `lambda.invoke` on the local endpoint: one environment per concurrent invocation,
warm reuse, the function's own os.environ, throttling beyond the concurrency limit,
timeouts and memory limits that end the environment, logs per invocation, no orphans.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.awslambda.models import lambda_backends
from moto.core import DEFAULT_ACCOUNT_ID

from infra.local.lambda_runtime import CODE_CACHE, ProcessRuntime, Throttled, code_root
from infra.local.stack import LocalStack

pytestmark = pytest.mark.integration

HANDLERS = "tests.integration.handlers_for_tests"


def create_function(
    local_stack: LocalStack,
    handler: str,
    *,
    variables: dict[str, str] | None = None,
    timeout: int = 10,
    memory: int = 256,
) -> str:
    name = f"runtime-{uuid.uuid4().hex[:10]}"
    local_stack.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda",
        Handler=f"{HANDLERS}.{handler}",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Timeout=timeout,
        MemorySize=memory,
        Environment={"Variables": variables or {}},
    )
    return name


def invoke(lambdas: Any, name: str, event: Any, **extra: Any) -> tuple[dict[str, Any], Any]:
    response = lambdas.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **extra)
    return json.loads(response["Payload"].read()), response


def test_environments_are_processes_with_the_function_environment_reused_warm(
    local_stack: LocalStack,
) -> None:
    name = create_function(local_stack, "environment_handler", variables={"GREETING": "hi"})
    lambdas = local_stack.client("lambda")
    names = ["GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL", "_HANDLER"]
    first, _ = invoke(lambdas, name, {"names": names})
    second, _ = invoke(lambdas, name, {"names": names})

    assert first["pid"] != os.getpid()
    assert first["environ"] == {
        "GREETING": "hi",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_ENDPOINT_URL": local_stack.endpoint_url,
        "_HANDLER": f"{HANDLERS}.environment_handler",
    }
    # Warm: the same environment, its module state kept between invocations.
    assert second["pid"] == first["pid"]
    assert (first["invocations_here"], second["invocations_here"]) == (1, 2)
    assert 0 < second["remaining_ms"] <= 10_000
    stats = local_stack.lambda_runtime.stats[name]
    assert stats.cold_starts == 1
    assert stats.invocations == 2
    assert stats.init_ms and stats.init_ms[0] > 0
    figures = local_stack.lambda_runtime.figures()  # what `make load` reports per level
    assert figures["functions"][name]["cold_starts"] == 1
    assert figures["functions"][name]["invocations"] == 2
    assert figures["functions"][name]["init_ms_total"] == round(stats.init_ms[0], 1)
    assert figures["environments"] >= 1


def test_concurrent_invocations_each_get_their_own_environment(local_stack: LocalStack) -> None:
    name = create_function(local_stack, "environment_handler")
    lambdas = local_stack.client("lambda")
    invoke(lambdas, name, {})  # one warm environment
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: invoke(lambdas, name, {"sleep": 0.8})[0], range(3)))
    pids = {a["pid"] for a in answers}
    assert len(pids) == 3, answers
    assert all(a["invocations_here"] <= 2 for a in answers)
    assert local_stack.lambda_runtime.stats[name].cold_starts == 3


def test_beyond_the_concurrency_limit_an_invoke_is_throttled(local_stack: LocalStack) -> None:
    name = create_function(local_stack, "environment_handler")
    lambdas = local_stack.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    lambdas.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)

    def call(_: int) -> str:
        try:
            invoke(lambdas, name, {"sleep": 1.5})
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "ok"

    invoke(lambdas, name, {})  # start the one environment, so both calls race for it
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(call, range(2)))
    assert outcomes == ["TooManyRequestsException", "ok"]
    assert local_stack.lambda_runtime.stats[name].throttles == 1


def test_timeout_ends_the_environment_and_the_next_call_starts_a_new_one(
    local_stack: LocalStack,
) -> None:
    name = create_function(local_stack, "environment_handler", timeout=1)
    lambdas = local_stack.client("lambda")
    before, _ = invoke(lambdas, name, {})
    started = time.monotonic()
    timed_out, response = invoke(lambdas, name, {"sleep": 5})
    assert time.monotonic() - started < 4
    assert response.get("FunctionError")
    assert timed_out["errorType"] == "Sandbox.Timedout"
    assert timed_out["errorMessage"] == "Task timed out after 1.00 seconds"
    after, _ = invoke(lambdas, name, {})
    assert after["pid"] != before["pid"]
    assert after["invocations_here"] == 1


def test_memory_above_the_function_limit_ends_the_environment(local_stack: LocalStack) -> None:
    name = create_function(local_stack, "allocate_handler", memory=128)
    lambdas = local_stack.client("lambda")
    held, _ = invoke(lambdas, name, 1)
    assert held == {"held_mb": 1}
    over, response = invoke(lambdas, name, 200)
    assert response.get("FunctionError")
    assert over["errorType"] == "Runtime.OutOfMemory"
    fresh, _ = invoke(lambdas, name, 1)
    assert fresh == {"held_mb": 1}  # a new environment: the 201 MB are gone


def test_what_the_handler_prints_is_the_invocations_log(local_stack: LocalStack) -> None:
    name = create_function(local_stack, "environment_handler")
    lambdas = local_stack.client("lambda")
    marker = f"marker-{uuid.uuid4().hex}"
    _, response = invoke(lambdas, name, {"print": marker}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert marker in tail
    assert "REPORT RequestId:" in tail and "Max Memory Used:" in tail
    _other, response = invoke(lambdas, name, {"print": "something else"}, LogType="Tail")
    assert marker not in base64.b64decode(response["LogResult"]).decode()
    events = local_stack.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")
    assert any(marker in e["message"] for e in events["events"])


class _Function:
    function_name = "orphans"
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orphans"
    memory_size = 256
    timeout = 10
    handler = f"{HANDLERS}.environment_handler"
    environment_vars = None
    reserved_concurrency = 2


def test_shutdown_leaves_no_worker_processes() -> None:
    runtime = ProcessRuntime()
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: runtime.run(_Function(), {"sleep": 0.5}), range(2)))
        pids = {json.loads(a.payload)["pid"] for a in answers}
        assert len(pids) == 2
        assert runtime.environments() == 2
        with pytest.raises(Throttled), ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda _: runtime.run(_Function(), {"sleep": 0.5}), range(3)))
    finally:
        runtime.shutdown()
    assert runtime.environments() == 0
    deadline = time.monotonic() + 10
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                alive.discard(pid)
        time.sleep(0.05)
    assert not alive, f"still running: {alive}"


PROBE = """
import importlib.util
import os


def handler(event, context):
    return {
        "file": __file__,
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "importable": {
            name: importlib.util.find_spec(name) is not None
            for name in ("tests", "tasks", "agent_bridge", "boto3")
        },
    }
"""


def test_a_function_runs_from_its_code_package_not_from_the_checkout(
    local_stack: LocalStack,
) -> None:
    """As on Lambda, the handler is imported from the function's package; the checkout's
    other code (tests, the harness, our packages not in the zip) cannot be imported."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe_artifact.py", PROBE)
    name = f"runtime-{uuid.uuid4().hex[:10]}"
    lambdas = local_stack.client("lambda")
    lambdas.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda",
        Handler="probe_artifact.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=10,
        MemorySize=256,
    )
    answer, _ = invoke(lambdas, name, {})
    assert answer["file"].startswith(answer["task_root"] + os.sep), answer
    assert answer["importable"] == {
        "tests": False,
        "tasks": False,
        "agent_bridge": False,
        "boto3": True,
    }, answer


def test_the_template_functions_ship_and_run_their_packaged_code(local_stack: LocalStack) -> None:
    """Each deployed function's package is what `make package` stages for it: its handler's
    modules, never tests or the local harness; its environments import from there."""
    assert local_stack.deployed is not None
    backend = lambda_backends[DEFAULT_ACCOUNT_ID][local_stack.region]
    for logical_id, function_name in local_stack.deployed.functions.items():
        function = backend.get_function(function_name)
        root = code_root(function)
        assert root.is_relative_to(CODE_CACHE), (logical_id, root)
        files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        module = str(function.handler).rpartition(".")[0]
        assert module.replace(".", "/") + ".py" in files, (logical_id, sorted(files)[:10])
        assert not any(f.startswith(("tests/", "infra/")) for f in files), logical_id
        assert local_stack.lambda_runtime.environment_for(function)["LAMBDA_TASK_ROOT"] == str(root)
