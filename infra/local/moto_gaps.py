"""Every workaround of a moto gap, in one place, for moto 5.2.5 (the pinned version).

Each gap has its own test in tests/integration/test_moto_gaps.py; when moto is upgraded,
run those tests first and delete what moto now does itself.

| gap in moto 5.2.5                                  | workaround here                          |
|----------------------------------------------------|------------------------------------------|
| Lambda invoke needs Docker                         | `install_lambda_runtime`: execution      |
|                                                    | environments as worker processes         |
|                                                    | (infra/local/lambda_runtime.py), one     |
|                                                    | request at a time each, with the         |
|                                                    | function's environment, timeout, memory  |
|                                                    | and a concurrency limit (throttling)     |
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
| the engine parses the ASL at every execution and   | `install_engine_caches`: parse tree kept |
| makes a Lambda client per Task state (slow)        | per definition, one Lambda client reused |
| its CloudFormation mishandles state machines       | not patched: `template_loader` creates   |
|                                                    | the resources of infra/template.yaml     |
|                                                    | through the ordinary boto3 APIs          |
"""

from __future__ import annotations

import json
import os
import threading
import time
import types
from collections.abc import Mapping
from typing import Any

import boto3
import moto
from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.eval.callback import callback

from infra.local.lambda_runtime import ProcessRuntime, ThreadRuntime, Throttled

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

LAMBDA_RUNTIME_ENV = "LOCAL_LAMBDA_RUNTIME"  # "processes" (default) or "threads" (to compare)


class TooManyRequests(JsonRESTError):
    """Lambda's throttling answer: all of a function's environments are busy."""

    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)
        self.description = json.dumps(
            {
                "Type": "User",
                "message": message,
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            }
        )


LambdaRuntime = ProcessRuntime | ThreadRuntime
RUNTIME: LambdaRuntime = ProcessRuntime()


def install_lambda_runtime(
    base_environ: Mapping[str, str], *, kind: str | None = None, concurrency_limit: int = 0
) -> LambdaRuntime:
    """Replace moto's Docker-based invoke with local execution environments.

    `kind` "processes" (default): `lambda_runtime.ProcessRuntime`, a pool of worker
    processes per function; "threads": the old in-process model, only to show what it gets
    wrong. The handler's log goes to the function's log group, as on AWS.
    """
    global RUNTIME
    chosen = kind or os.environ.get(LAMBDA_RUNTIME_ENV, "processes")
    RUNTIME.shutdown()
    if chosen == "threads":
        RUNTIME = ThreadRuntime(base_environ=dict(base_environ))
    elif chosen == "processes":
        RUNTIME = ProcessRuntime(base_environ=dict(base_environ))
        if concurrency_limit > 0:
            RUNTIME.concurrency_limit = concurrency_limit
    else:
        raise ValueError(f"{LAMBDA_RUNTIME_ENV}={chosen!r}; allowed: processes, threads")

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        try:
            payload, errored, logs = RUNTIME.invoke(self, {} if event is None else event)
        except Throttled as throttled:
            raise TooManyRequests(str(throttled)) from None
        if logs:
            self.logs_backend.ensure_log_group(self.logs_group_name)
            self.save_logs(logs)
        return payload, errored, logs

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    return RUNTIME


# --------------------------------------------------------------------------- engine costs

_parsed_trees: dict[str, Any] = {}
_parsed_lock = threading.Lock()
_engine_clients: dict[tuple[str, str, int], Any] = {}


def install_engine_caches() -> None:
    """Cut the engine's per-execution costs (each was most of a chat turn's overhead).

    - moto parses the ASL definition (ANTLR) at every StartExecution: the parse tree is now
      kept per definition text, and each execution still gets fresh evaluation components
      built from it (`Preprocessor`), so no execution state is shared.
    - it creates a new boto3 Lambda client for every Task state: one client (thread-safe)
      per region and port is reused.
    """
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    parser_class = asl_parser.AmazonStateLanguageParser
    if getattr(parser_class.parse, "_tree_cached", False):
        return
    original_parse = parser_class.parse
    original_client_for = lambda_eval_utils.boto_client_for

    def parse(definition: str) -> tuple[Any, Any]:
        tree = _parsed_trees.get(definition)
        if tree is None:
            program, tree = original_parse(definition)  # raises on a bad definition
            with _parsed_lock:
                if len(_parsed_trees) > 256:
                    _parsed_trees.clear()
                _parsed_trees[definition] = tree
            return program, tree
        return Preprocessor().visit(tree), tree

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, int(moto_server_port()))
        client = _engine_clients.get(key)
        if client is None:
            client = _engine_clients[key] = original_client_for(region, service, state_credentials)
        return client

    parse._tree_cached = True  # type: ignore[attr-defined]
    parser_class.parse = staticmethod(parse)  # type: ignore[method-assign]
    lambda_eval_utils.boto_client_for = client_for


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
