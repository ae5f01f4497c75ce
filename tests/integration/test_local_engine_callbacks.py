"""The local engine's `lambda:invoke.waitForTaskToken` with Retry and Catch, as AWS documents it.

A task that waits for its token is a Lambda invocation (that may fail like any Lambda task)
followed by a wait for SendTaskSuccess / SendTaskFailure / the state's timeout. On AWS:
- a function error fails the task with the function's `errorType`, before any wait, and
  Retry / Catch apply to it as to a plain `lambda:invoke` task;
- a retry re-invokes the function, handing it a new task token, and waits again; the
  previous attempt's token is refused (moto 5.2.5 reused one token and its spent answer for
  every attempt: `moto_gaps.install_token_per_attempt`);
- SendTaskFailure's `error` is the task's error name: Retry re-runs the task (function
  and wait) and Catch takes it, with `Error`/`Cause` in the ResultPath;
- a wait longer than TimeoutSeconds fails the task with `States.Timeout`, which Catch on
  States.Timeout or States.ALL takes (States.TaskFailed does not match it).
These checks are what the production workflows rely on when a fetch task parks.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.local.stack import LocalStack

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/pf360-scheduler-local-states"
LAMBDA_ROLE = "arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda"


@pytest.fixture(scope="module")
def park_function(local_stack: LocalStack) -> str:
    name = f"park-{uuid.uuid4().hex[:10]}"
    arn: str = local_stack.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=LAMBDA_ROLE,
        Handler="tests.integration.handlers_for_tests.park_handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Timeout=10,
        MemorySize=256,
    )["FunctionArn"]
    return arn


def parking_machine(
    function_arn: str, *, fail_below: int, retry: list[dict[str, Any]], timeout: int = 1800
) -> dict[str, Any]:
    return {
        "StartAt": "Await",
        "States": {
            "Await": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": function_arn,
                    "Payload": {
                        "token.$": "$$.Task.Token",
                        "attempt.$": "$$.State.RetryCount",
                        "fail_below": fail_below,
                    },
                },
                "TimeoutSeconds": timeout,
                "Retry": retry,
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}
                ],
                "ResultPath": "$.answer",
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def start(local_stack: LocalStack, definition: dict[str, Any]) -> str:
    sfn = local_stack.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"callbacks-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input="{}")
    return str(started["executionArn"])


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )["events"]
    return events


def tokens_when_parked(sfn: Any, execution_arn: str, attempts: int) -> list[str]:
    """The token of each attempt, once `attempts` invocations returned (TaskSubmitted)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = history(sfn, execution_arn)
        if sum(1 for e in events if e["type"] == "TaskSubmitted") >= attempts:
            time.sleep(0.2)  # the engine starts waiting once the invocation returned
            return [
                json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
                for e in events
                if e["type"] == "TaskScheduled"
            ]
        time.sleep(0.05)
    raise AssertionError(f"fewer than {attempts} attempts parked: {history(sfn, execution_arn)}")


def ended_yet(sfn: Any, execution_arn: str) -> str | None:
    status = str(sfn.describe_execution(executionArn=execution_arn)["status"])
    return None if status == "RUNNING" else status


def ended(sfn: Any, execution_arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{execution_arn} still running")


def test_a_function_error_is_retried_then_the_retry_waits_for_its_token(
    local_stack: LocalStack, park_function: str
) -> None:
    sfn = local_stack.client("stepfunctions")
    retry = [{"ErrorEquals": ["ParkFailed"], "IntervalSeconds": 1, "MaxAttempts": 2}]
    execution = start(local_stack, parking_machine(park_function, fail_below=1, retry=retry))
    tokens = tokens_when_parked(sfn, execution, attempts=1)
    assert len(tokens) == 2  # the failed attempt and its retry, which parked
    failed = [e for e in history(sfn, execution) if e["type"] == "TaskFailed"]
    assert failed[0]["taskFailedEventDetails"]["error"] == "ParkFailed"
    assert ended_yet(sfn, execution) is None  # parked: waiting for the token
    sfn.send_task_success(taskToken=tokens[-1], output=json.dumps({"date": "2026-12-01"}))
    done = ended(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["answer"] == {"date": "2026-12-01"}


def test_a_function_error_beyond_its_retries_is_caught_before_any_wait(
    local_stack: LocalStack, park_function: str
) -> None:
    sfn = local_stack.client("stepfunctions")
    retry = [{"ErrorEquals": ["ParkFailed"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    execution = start(local_stack, parking_machine(park_function, fail_below=5, retry=retry))
    done = ended(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    caught = json.loads(done["output"])["caught"]
    assert caught["Error"] == "ParkFailed"
    types = [e["type"] for e in history(sfn, execution)]
    assert types.count("TaskScheduled") == 2  # the first attempt and one retry
    assert "TaskSubmitted" not in types  # it never waited


def test_send_task_failure_is_retried_as_the_task_error_then_caught(
    local_stack: LocalStack, park_function: str
) -> None:
    sfn = local_stack.client("stepfunctions")
    retry = [{"ErrorEquals": ["Superseded"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    execution = start(local_stack, parking_machine(park_function, fail_below=0, retry=retry))
    (first,) = tokens_when_parked(sfn, execution, attempts=1)
    sfn.send_task_failure(taskToken=first, error="Superseded", cause="a newer flow")
    tokens = tokens_when_parked(sfn, execution, attempts=2)
    assert len(tokens) == 2 and tokens[1] != first  # re-invoked with a new token, parked
    assert ended_yet(sfn, execution) is None  # and waits for its own answer
    with pytest.raises(ClientError) as refused:
        sfn.send_task_success(taskToken=first, output="{}")
    assert refused.value.response["Error"]["Code"] == "InvalidToken"
    sfn.send_task_failure(taskToken=tokens[1], error="Superseded", cause="again")
    done = ended(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["caught"] == {"Error": "Superseded", "Cause": "again"}


def test_a_wait_past_its_timeout_is_states_timeout_which_task_failed_does_not_match(
    local_stack: LocalStack, park_function: str
) -> None:
    sfn = local_stack.client("stepfunctions")
    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 3}]
    execution = start(
        local_stack, parking_machine(park_function, fail_below=0, retry=retry, timeout=60)
    )
    (token,) = tokens_when_parked(sfn, execution, attempts=1)
    local_stack.clock.advance(61)
    done = ended(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["caught"]["Error"] == "States.Timeout"
    types = [e["type"] for e in history(sfn, execution)]
    assert types.count("TaskScheduled") == 1  # not retried: TaskFailed excludes States.Timeout
    assert "TaskTimedOut" in types
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=token, output="{}")
