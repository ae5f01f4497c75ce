"""The embedded local stack: each moto gap's workaround, and the resources of the template.

Everything here goes through boto3 to the local HTTP endpoint; executions run our ASL on
moto's Step Functions engine and our handlers in the local Lambda runtime (worker processes).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from infra.local import moto_gaps
from infra.local.lambda_runtime import ProcessRuntime
from infra.local.stack import LocalStack
from infra.local.template_loader import TemplateError, deploy_template, read_template
from tests.integration.workflow_helpers import history, wait_for_end

pytestmark = pytest.mark.integration


def create_machine(local_stack: LocalStack, definition: dict[str, Any]) -> str:
    sfn = local_stack.client("stepfunctions")
    arn: str = sfn.create_state_machine(
        name=f"test-{uuid.uuid4().hex[:10]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/pf360-scheduler-local-states",
    )["stateMachineArn"]
    return arn


def self_check_with(local_stack: LocalStack, prefix: str, variables: dict[str, str]) -> str:
    """A second self-check function with its own (bad) environment; returns its name.

    ENVIRONMENT is set unless `variables` says otherwise: a deployed function without it
    fails on that first (tasks/config.py), and these tests are about the other variables.
    """
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    local_stack.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda",
        Handler="tasks.handlers.self_check.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": {"ENVIRONMENT": "dev", **variables}},
    )
    return name


def self_check_arn(local_stack: LocalStack) -> str:
    assert local_stack.deployed is not None
    name = local_stack.deployed.functions["SelfCheckFunction"]
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


# --------------------------------------------------------------- resources from template


def test_tables_are_created_with_keys_and_ttl_from_the_template(local_stack: LocalStack) -> None:
    dynamodb = local_stack.client("dynamodb")
    template = read_template()
    assert local_stack.deployed is not None
    for logical_id, name in local_stack.deployed.tables.items():
        declared = template["Resources"][logical_id]["Properties"]
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == declared["KeySchema"]
        ttl = declared.get("TimeToLiveSpecification")
        described = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl:
            assert described["TimeToLiveStatus"] == "ENABLED"
            assert described["AttributeName"] == ttl["AttributeName"]
    assert set(local_stack.deployed.tables) >= {
        "SessionsTable",
        "FlowsTable",
        "NotesTable",
        "IdempotencyTable",
    }
    assert local_stack.deployed.tables["SessionsTable"] == "bedrock-sessions-dev"


def test_functions_get_handler_and_globals_environment(
    local_stack: LocalStack, sandbox: Any
) -> None:
    lambdas = local_stack.client("lambda")
    assert local_stack.deployed is not None
    config = lambdas.get_function_configuration(
        FunctionName=local_stack.deployed.functions["SelfCheckFunction"]
    )
    assert config["Handler"] == "tasks.handlers.self_check.handler"
    assert config["Timeout"] == 10
    variables = config["Environment"]["Variables"]
    assert variables["DYNAMODB_SESSION_TABLE"] == "bedrock-sessions-dev"
    assert variables["FLOWS_TABLE"] == "scheduler-flows-dev"
    assert variables["CUSTOMER_SCHEDULER_BASE_API_URL"] == sandbox.base_url
    assert variables["PF360_CREATED_AT_TIMEZONE"] == "Asia/Kolkata"


def test_state_machine_from_template_has_substitutions_resolved_and_runs_a_lambda(
    local_stack: LocalStack,
) -> None:
    sfn = local_stack.client("stepfunctions")
    assert local_stack.deployed is not None
    arn = local_stack.deployed.state_machines["SelfCheckStateMachine"]
    definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in definition
    assert self_check_arn(local_stack) in definition

    before = local_stack.lambda_runtime.invocations
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"echo": "ping"}))
    result = wait_for_end(sfn, execution["executionArn"])
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["ok"] is True
    assert output["echo"] == "ping"
    assert output["environment"] == "dev"
    assert output["use_real_api"] is True
    assert local_stack.lambda_runtime.invocations == before + 1


def test_template_loader_rejects_unknown_parameters_and_values(local_stack: LocalStack) -> None:
    with pytest.raises(TemplateError, match="NoSuchParameter"):
        deploy_template({"NoSuchParameter": "x"})
    with pytest.raises(TemplateError, match="Environment='moon'; allowed: dev, qa, staging, prod"):
        deploy_template({"Environment": "moon"})


# --------------------------------------------------------------- local Lambda runtime


def test_in_process_lambda_runs_the_handler_with_the_function_environment(
    local_stack: LocalStack,
) -> None:
    lambdas = local_stack.client("lambda")
    response = lambdas.invoke(
        FunctionName=self_check_arn(local_stack), Payload=json.dumps({"echo": 7})
    )
    assert "FunctionError" not in response
    payload = json.loads(response["Payload"].read())
    assert payload["echo"] == 7
    assert payload["function"] == "scheduler-self-check-dev"
    assert payload["tables"]["notes"] == "scheduler-notes-dev"


def test_in_process_lambda_reports_a_handler_error_in_lambda_shape(
    local_stack: LocalStack,
) -> None:
    lambdas = local_stack.client("lambda")
    name = self_check_with(local_stack, "broken-config", {"API_TIMEOUT": "abc"})
    response = lambdas.invoke(FunctionName=name, Payload=b"{}")
    assert response.get("FunctionError")
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ConfigurationInvalid"
    assert "API_TIMEOUT='abc'" in payload["errorMessage"]


def test_in_process_lambda_enforces_the_function_timeout() -> None:
    runtime = ProcessRuntime()

    class SlowFunction:
        function_name = "slow"
        function_arn = "arn:aws:lambda:us-east-1:123456789012:function:slow"
        memory_size = 128
        timeout = 1.0
        handler = "tests.integration.handlers_for_tests.sleep_handler"
        environment_vars = None

    try:
        warm, errored, _ = runtime.invoke(SlowFunction(), 0)  # start the environment
        assert not errored, warm
        started = time.monotonic()
        payload, errored, _ = runtime.invoke(SlowFunction(), 5)
        elapsed = time.monotonic() - started
    finally:
        runtime.shutdown()
    assert errored
    assert json.loads(payload)["errorType"] == "Sandbox.Timedout", payload
    assert elapsed < 4, f"cut off after {elapsed:.1f} s, not 1 s"  # not the handler's 5 s


# --------------------------------------------------------------- clock controls


def test_retry_waits_are_scaled_so_backoff_runs_without_real_minutes(
    local_stack: LocalStack,
) -> None:
    name = self_check_with(local_stack, "always-fails", {"CONFIRM_SCHEDULE_FLAG": "2"})
    arn = create_machine(
        local_stack,
        {
            "StartAt": "Check",
            "States": {
                "Check": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": name, "Payload": {}},
                    "Retry": [
                        {
                            "ErrorEquals": ["ConfigurationInvalid"],
                            "IntervalSeconds": 60,
                            "MaxAttempts": 2,
                            "BackoffRate": 2.0,
                        }
                    ],
                    "End": True,
                }
            },
        },
    )
    sfn = local_stack.client("stepfunctions")
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")
    result = wait_for_end(sfn, execution["executionArn"])
    elapsed = time.monotonic() - started
    assert result["status"] == "FAILED"
    assert result["error"] == "ConfigurationInvalid"
    scheduled = [e for e in history(sfn, execution["executionArn"]) if e["type"] == "TaskScheduled"]
    assert len(scheduled) == 3  # the first try and two retries (60 s, then 120 s declared)
    assert elapsed < 10, f"declared 180 s of backoff took {elapsed:.1f} s"


def test_callback_timeout_is_measured_on_the_virtual_clock(local_stack: LocalStack) -> None:
    arn = create_machine(
        local_stack,
        {
            "StartAt": "AwaitAnswer",
            "States": {
                "AwaitAnswer": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {
                        "FunctionName": self_check_arn(local_stack),
                        "Payload": {"echo.$": "$$.Task.Token"},
                    },
                    "TimeoutSeconds": 1800,
                    "End": True,
                }
            },
        },
    )
    sfn = local_stack.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")
    time.sleep(0.5)
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
    local_stack.clock.advance(1801)
    result = wait_for_end(sfn, execution["executionArn"], deadline_seconds=5)
    assert result["status"] == "FAILED"
    assert result["error"] == "States.Timeout"


def test_virtual_clock_wait_ends_early_when_set_and_late_only_on_advance() -> None:
    clock = moto_gaps.VirtualClock(tick_seconds=0.01)
    event = moto_gaps._RealEvent()
    started = time.monotonic()
    assert clock.wait(event, 0.05) is False
    assert time.monotonic() - started < 1
    event.set()
    assert clock.wait(event, 3600) is True
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_a_virtual_clock_wait_sleeps_until_set_or_advanced_without_looking_every_tick() -> None:
    """A parked execution's waits used to wake every 20 ms to look at the clock (thousands
    of wake-ups a second with a hundred parked executions). A wait now blocks until its
    event is set or the clock is advanced past its deadline."""
    import threading

    clock = moto_gaps.VirtualClock(tick_seconds=0.01)
    event = moto_gaps._RealEvent()
    wakeups = []
    original_wait = event._cond.wait  # type: ignore[attr-defined]

    def counting_wait(timeout: float | None = None) -> bool:
        wakeups.append(timeout)
        return bool(original_wait(timeout))

    event._cond.wait = counting_wait  # type: ignore[attr-defined]
    ended: list[bool] = []
    waiter = threading.Thread(target=lambda: ended.append(clock.wait(event, 3600)))
    waiter.start()
    time.sleep(0.3)  # 30 ticks
    assert not ended and len(wakeups) == 1
    clock.advance(1800)  # not yet due: waits on
    time.sleep(0.1)
    assert not ended and len(wakeups) == 2
    clock.advance(1801)
    waiter.join(timeout=5)
    assert ended == [False] and len(wakeups) == 2  # past its deadline: no wait again


# --------------------------------------------------------------- TTL


def test_ttl_sweep_deletes_only_expired_items(local_stack: LocalStack) -> None:
    dynamodb = local_stack.client("dynamodb")
    table = "bedrock-sessions-dev"
    now = int(time.time())
    expired, live = f"ttl-expired-{uuid.uuid4().hex}", f"ttl-live-{uuid.uuid4().hex}"
    dynamodb.put_item(
        TableName=table, Item={"session_id": {"S": expired}, "ttl": {"N": str(now - 10)}}
    )
    dynamodb.put_item(
        TableName=table, Item={"session_id": {"S": live}, "ttl": {"N": str(now + 600)}}
    )
    deleted = moto_gaps.sweep_expired_items(table, "ttl", now=now)
    assert deleted >= 1
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"session_id": {"S": expired}})
    assert "Item" in dynamodb.get_item(TableName=table, Key={"session_id": {"S": live}})


def test_ttl_sweep_keeps_an_item_renewed_after_it_was_scanned(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB deletes an expired item only if it is still expired: a session touched
    between the sweep's scan and its delete stays."""
    dynamodb = local_stack.client("dynamodb")
    table = "bedrock-sessions-dev"
    now = int(time.time())
    renewed = f"ttl-renewed-{uuid.uuid4().hex}"
    dynamodb.put_item(
        TableName=table, Item={"session_id": {"S": renewed}, "ttl": {"N": str(now - 10)}}
    )
    make_client = moto_gaps.boto3.client

    def sweeper_client(*args: Any, **kwargs: Any) -> Any:
        client = make_client(*args, **kwargs)

        def renew_first(params: dict[str, Any], **_: Any) -> None:
            if params["Key"]["session_id"]["S"] == renewed:
                dynamodb.update_item(
                    TableName=table,
                    Key={"session_id": {"S": renewed}},
                    UpdateExpression="SET #ttl = :later",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={":later": {"N": str(now + 600)}},
                )

        client.meta.events.register("provide-client-params.dynamodb.DeleteItem", renew_first)
        return client

    monkeypatch.setattr(moto_gaps.boto3, "client", sweeper_client)
    moto_gaps.sweep_expired_items(table, "ttl", now=now)
    monkeypatch.undo()
    assert "Item" in dynamodb.get_item(TableName=table, Key={"session_id": {"S": renewed}})


def test_the_stack_process_hands_the_gil_over_often(local_stack: LocalStack) -> None:
    """Responses are written by waitress's loop thread and read by callers' threads, next
    to CPU-bound moto handlers: the GIL changes hands every millisecond, not every 5."""
    import sys

    from infra.local.stack import GIL_SWITCH_SECONDS

    assert GIL_SWITCH_SECONDS < 0.005
    assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_SECONDS)


def test_moto_version_guard_names_the_pinned_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_gaps.moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match=r"moto 5\.2\.5.*9\.9\.9"):
        moto_gaps.check_moto_version()
