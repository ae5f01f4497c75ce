"""Every workaround of a moto gap, in one place, for moto 5.2.5 (the pinned version).

Each gap has its own test in tests/integration/test_moto_gaps.py (and the MockConfigFile
cases in test_mock_config.py); when moto is upgraded,
run those tests first and delete what moto now does itself.

| gap in moto 5.2.5                                  | workaround here                          |
|----------------------------------------------------|------------------------------------------|
| Lambda invoke needs Docker                         | `InProcessLambdaRuntime`: runs our       |
|                                                    | handlers in this process, with the       |
|                                                    | function's own environment and timeout   |
| Step Functions Retry sleeps in real time; task     | `VirtualClock`: retry waits scaled by a  |
| TimeoutSeconds waits real seconds                  | factor, task timeouts measured on a      |
|                                                    | clock that tests can advance             |
| SendTaskFailure drops `cause`                      | `install_send_task_failure_cause`: the   |
|                                                    | response handler passes it on            |
| mock config files: mocked-mode evaluation exists, | `install_mock_config_loader`: reads      |
| but the loader returns None and StartExecution    | SFN_MOCK_CONFIG and runs                 |
| never passes a test case                          | `stateMachineArn#TestCase` in mocked mode|
| DynamoDB TTL never deletes anything                | `sweep_expired_items`, run periodically  |
|                                                    | by the local stack                       |
| its CloudFormation mishandles state machines       | not patched: `template_loader` creates   |
|                                                    | the resources of infra/template.yaml     |
|                                                    | through the ordinary boto3 APIs          |
| Retry/Catch `States.ALL` (and States.TaskFailed)   | `install_strict_error_matching`: as AWS, |
| match States.Runtime and States.DataLimitExceeded  | neither is caught by a wildcard, and     |
|                                                    | States.Runtime is never caught at all    |
| a MockConfigFile `Throw` of `States.Timeout` (any  | `install_mocked_states_errors`: thrown   |
| `States.*`) is refused as a custom error name      | as that States error, as SFN Local does  |
| Wait states sleep in real time                     | `install_virtual_wait_states`: measured  |
|                                                    | on `VirtualClock`                        |

`make moto-gaps-proof` switches each workaround off in turn (tests/moto_gap_switch.py) and
checks that a test fails.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import moto
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.eval.callback import callback

from tasks.config import function_environment

MOTO_VERSION = "5.2.5"


def check_moto_version() -> None:
    """Refuse to patch a moto we have not checked these workarounds against."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"infra/local/moto_gaps.py was written for moto {MOTO_VERSION}, "
            f"but moto {moto.__version__} is installed; re-check each gap and its test"
        )


# --------------------------------------------------------------------------- clock


class VirtualClock:
    """Real time plus an offset that tests move forward, instead of sleeping.

    Waits on this clock poll in short real-time slices, so `advance(1800)` ends a
    30-minute task timeout within one tick.
    """

    def __init__(self, tick_seconds: float = 0.02, retry_wait_scale: float = 1.0) -> None:
        self.tick_seconds = tick_seconds
        self.retry_wait_scale = retry_wait_scale
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; every wait whose deadline passes ends at once."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return time.time() + self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Like `event.wait(timeout)`, with the timeout measured on this clock."""
        if timeout is None:
            return _RealEvent.wait(event)
        deadline = self.now() + max(timeout, 0.0)
        while True:
            remaining = deadline - self.now()
            if remaining <= 0:
                return event.is_set()
            if _RealEvent.wait(event, min(remaining, self.tick_seconds)):
                return True

    def sleep(self, seconds: float) -> None:
        self.wait(threading.Event(), seconds)

    def retry_sleep(self, seconds: float) -> None:
        """A Retry interval, scaled so that backoff is exercised without real minutes."""
        self.sleep(seconds * self.retry_wait_scale)


_RealEvent = threading.Event
CLOCK = VirtualClock()


class _VirtualClockEvent(threading.Event):
    """The Event moto's engine waits on for task timeouts and callbacks."""

    def wait(self, timeout: float | None = None) -> bool:
        return CLOCK.wait(self, timeout)


def install_virtual_clock() -> VirtualClock:
    """Route moto's Retry sleeps and task/callback timeouts through CLOCK."""
    retrier_decl.time = types.SimpleNamespace(sleep=CLOCK.retry_sleep)  # type: ignore[assignment]
    execute_state.threading = types.SimpleNamespace(Event=_VirtualClockEvent)  # type: ignore[assignment]
    callback.Event = _VirtualClockEvent  # type: ignore[misc]
    return CLOCK


# --------------------------------------------------------------------------- lambda


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that our handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


Handler = Callable[[Any, Any], Any]


def resolve_handler(handler: str) -> Handler:
    """'package.module.function' -> the function, imported from this checkout."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise ImportError(f"handler {handler!r} is not 'module.function'")
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ImportError(f"handler {handler!r}: {function_name} is not a function")
    return function  # type: ignore[no-any-return]


def _error_payload(error_type: str, message: str, trace: list[str] | None = None) -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": trace or []})


@dataclass
class InProcessLambdaRuntime:
    """Runs a function's handler in this process where moto would start a container.

    The handler sees the function's own environment variables (through
    `tasks.config.function_environment`) and is cut off after the function's Timeout,
    like Lambda. Errors come back in Lambda's shape, so Step Functions' Retry and Catch
    see `errorType` as the error name.
    """

    base_environ: Mapping[str, str] = field(default_factory=dict)
    invocations: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        with self._lock:
            self.invocations += 1
        environ = {**self.base_environ, **(function.environment_vars or {})}
        environ["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
        context = LambdaContext(
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=int(function.memory_size or 128),
            timeout_seconds=float(function.timeout or 3),
            log_group_name=f"/aws/lambda/{function.function_name}",
        )
        outcome: dict[str, tuple[str, bool]] = {}

        def run() -> None:
            try:
                handler = resolve_handler(str(function.handler))
                with function_environment(environ):
                    result = handler(event, context)
                outcome["result"] = (json.dumps(result, default=str), False)
            except Exception as exc:  # a handler error is the function's result
                trace = traceback.format_exception(exc)
                outcome["result"] = (_error_payload(type(exc).__name__, str(exc), trace), True)

        worker = threading.Thread(target=run, name=f"lambda-{function.function_name}", daemon=True)
        worker.start()
        worker.join(context.timeout_seconds)
        if "result" not in outcome:
            message = f"Task timed out after {context.timeout_seconds:.2f} seconds"
            return _error_payload("Sandbox.Timedout", message), True, ""
        payload, errored = outcome["result"]
        return payload, errored, ""


RUNTIME = InProcessLambdaRuntime()


def install_in_process_lambda(base_environ: Mapping[str, str]) -> InProcessLambdaRuntime:
    """Replace moto's Docker-based invoke with `RUNTIME` for every function."""
    RUNTIME.base_environ = dict(base_environ)

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        return RUNTIME.invoke(self, {} if event is None else event)

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    return RUNTIME


# --------------------------------------------------------------------------- callbacks


def install_send_task_failure_cause() -> None:
    """moto's SendTaskFailure handler reads `error` but drops `cause`; pass both on."""
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: StepFunctionResponse) -> EmptyResult:
        self.stepfunction_backend.send_task_failure(  # type: ignore[call-arg]
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]


# --------------------------------------------------------------------------- mock config

MOCK_CONFIG_ENV = "SFN_MOCK_CONFIG"
_pending_test_case = threading.local()


class MockConfigError(ValueError):
    """The MockConfigFile does not define what a `#TestCase` execution asks for."""


def load_mock_test_case(path: str, state_machine_name: str, test_case_name: str) -> Any:
    """Build moto's MockTestCase from a Step Functions Local MockConfigFile.json."""
    from moto.stepfunctions.parser.mocking.mock_config import (
        MockedResponseReturn,
        MockedResponseThrow,
        MockTestCase,
        StateMockedResponses,
    )

    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    machine = config.get("StateMachines", {}).get(state_machine_name)
    if machine is None:
        raise MockConfigError(f"{path}: no state machine {state_machine_name!r}")
    case = machine.get("TestCases", {}).get(test_case_name)
    if case is None:
        raise MockConfigError(f"{path}: {state_machine_name!r} has no test case {test_case_name!r}")
    states = []
    for state_name, response_name in case.items():
        definitions = config.get("MockedResponses", {}).get(response_name)
        if not definitions:
            raise MockConfigError(f"{path}: no mocked response {response_name!r}")
        responses: list[Any] = []
        for span, definition in definitions.items():
            first, _, last = span.partition("-")
            start, end = int(first), int(last or first)
            if "Return" in definition:
                responses.append(MockedResponseReturn(start, end, definition["Return"]))
            else:
                thrown = definition["Throw"]
                responses.append(
                    MockedResponseThrow(start, end, thrown["Error"], thrown.get("Cause", ""))
                )
        states.append(StateMockedResponses(state_name, response_name, responses))
    return MockTestCase(state_machine_name, test_case_name, states)


def install_mock_config_loader() -> None:
    """Run `StartExecution(stateMachineArn="<arn>#<TestCase>")` with the mocked responses
    of $SFN_MOCK_CONFIG, as Step Functions Local does."""
    from moto.stepfunctions.exceptions import InvalidName
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_start = StepFunctionsParserBackend.start_execution
    original_worker = Execution._get_start_execution_worker
    if getattr(original_start, "_mock_config_aware", False):
        return

    def start_execution(
        self: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: Any = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        arn, _, case_name = state_machine_arn.partition("#")
        if not case_name:
            return original_start(self, state_machine_arn, name, execution_input, trace_header)
        path = os.environ.get(MOCK_CONFIG_ENV)
        if not path:
            raise MockConfigError(f"{MOCK_CONFIG_ENV} is not set; cannot run test case {case_name}")
        machine = self.describe_state_machine(arn)
        try:
            _pending_test_case.value = load_mock_test_case(path, machine.name, case_name)
        except (MockConfigError, OSError, ValueError, KeyError) as error:
            raise InvalidName(
                f"Invalid mock test case name '{case_name}' for state machine "
                f"'{machine.name}': {error}"
            ) from None
        try:
            return original_start(self, arn, name, execution_input, trace_header)
        finally:
            _pending_test_case.value = None

    def get_start_execution_worker(self: Execution) -> Any:
        worker = original_worker(self)
        test_case = getattr(_pending_test_case, "value", None)
        if test_case is not None:
            worker._mock_test_case = test_case  # type: ignore[misc]
        return worker

    start_execution._mock_config_aware = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    Execution._get_start_execution_worker = get_start_execution_worker  # type: ignore[method-assign]


# --------------------------------------------------------------------------- TTL


def sweep_expired_items(
    table_name: str,
    ttl_attribute: str,
    *,
    now: float | None = None,
    endpoint_url: str | None = None,
) -> int:
    """Delete the items whose TTL attribute is in the past, as DynamoDB would (late).

    Readers must still check expiry themselves: AWS deletes expired items up to days
    late, and this sweep only runs every few seconds.
    """
    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    description = client.describe_table(TableName=table_name)["Table"]
    key_names = [k["AttributeName"] for k in description["KeySchema"]]
    cutoff = int(now if now is not None else time.time())
    deleted = 0
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table_name,
        FilterExpression="#ttl < :now",
        ExpressionAttributeNames={"#ttl": ttl_attribute},
        ExpressionAttributeValues={":now": {"N": str(cutoff)}},
    ):
        for item in page.get("Items", []):
            client.delete_item(TableName=table_name, Key={k: item[k] for k in key_names})
            deleted += 1
    return deleted


# --------------------------------------------------------------------------- strictness
#
# moto is more forgiving than AWS here; these make it as strict, so that an ASL that only
# works locally fails locally too.

# AWS: "A retry or catch on States.ALL won't catch States.Runtime errors" (they always fail
# the execution), and States.DataLimitExceeded "can't be caught by the States.ALL error
# type". States.TaskFailed (a wildcard for task errors) matches neither.
UNCATCHABLE_BY_WILDCARD = frozenset({"States.Runtime", "States.DataLimitExceeded"})
NEVER_CAUGHT = frozenset({"States.Runtime"})


def error_name_text(error_name: Any) -> str:
    """The text of one of moto's ErrorName objects (States.* or custom)."""
    return str(getattr(error_name, "error_name", "") or "")


def caught_by(error: str, error_equals: list[str]) -> bool:
    """Does a Retrier or Catcher with `ErrorEquals` take this error, as AWS decides?"""
    if error in NEVER_CAUGHT:
        return False
    if error in error_equals:
        return True
    if error in UNCATCHABLE_BY_WILDCARD:
        return False
    if "States.ALL" in error_equals:
        return True
    # States.TaskFailed "matches any known error name except for States.Timeout".
    return "States.TaskFailed" in error_equals and error != "States.Timeout"


def install_strict_error_matching() -> None:
    """Retry and Catch match error names as AWS does (see `caught_by`)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )

    if getattr(ErrorEqualsDecl._eval_body, "_strict", False):
        return

    def _eval_body(self: ErrorEqualsDecl, env: Any) -> None:
        error = error_name_text(env.stack.pop())
        names = [error_name_text(name) for name in self.error_names]
        env.stack.append(caught_by(error, names))

    _eval_body._strict = True  # type: ignore[attr-defined]
    ErrorEqualsDecl._eval_body = _eval_body  # type: ignore[method-assign]


def install_mocked_states_errors() -> None:
    """A MockConfigFile `Throw` may name a `States.*` error (e.g. `States.Timeout`), as on
    Step Functions Local; moto refuses any such name as an illegal custom error name."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import mock_eval_utils
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = mock_eval_utils._eval_mocked_response_throw
    if getattr(original, "_states_aware", False):
        return

    def _eval_mocked_response_throw(env: Any, mocked_response: Any) -> None:
        if not str(mocked_response.error).startswith("States."):
            original(env, mocked_response)
            return
        details = TaskFailedEventDetails(error=mocked_response.error, cause=mocked_response.cause)
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(
                    typ=StatesErrorNameType.from_name(mocked_response.error)
                ),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(taskFailedEventDetails=details),  # type: ignore[typeddict-item]
            )
        )

    _eval_mocked_response_throw._states_aware = True  # type: ignore[attr-defined]
    mock_eval_utils._eval_mocked_response_throw = _eval_mocked_response_throw


# --------------------------------------------------------------------------- Wait states


def install_virtual_wait_states() -> None:
    """moto's Wait state sleeps in real time; measure it on CLOCK instead, so a test moves
    a minutes-long Wait-and-recheck loop forward with `CLOCK.advance` (an execution that
    is stopped still ends its Wait at once)."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    if getattr(WaitFunction._wait_interval, "_virtual", False):
        return

    def _wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        deadline = CLOCK.now() + max(wait_seconds, 0)
        while env.is_running():
            remaining = deadline - CLOCK.now()
            if remaining <= 0:
                return
            _RealEvent.wait(env.program_state_event, min(remaining, CLOCK.tick_seconds))

    _wait_interval._virtual = True  # type: ignore[attr-defined]
    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
