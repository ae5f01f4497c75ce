"""Every workaround of a moto gap, in one place, for moto 5.2.5 (the pinned version).

Each gap has its own test in tests/integration/test_moto_gaps.py (and the MockConfigFile
cases in test_mock_config.py); when moto is upgraded,
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
| the engine parses the ASL and builds its program   | `install_engine_caches`: one program per |
| at every execution and makes a Lambda client per   | definition, shared by its executions;    |
| Task state (slow)                                  | one Lambda client reused                 |
| its CloudFormation mishandles state machines       | not patched: `template_loader` creates   |
|                                                    | the resources of infra/template.yaml     |
|                                                    | through the ordinary boto3 APIs          |
| AppConfig: no environments, deployment strategies, | `install_appconfig_gaps`: adds them to   |
| deployments, ListApplications, ListHostedConfig-   | moto's server (section "AppConfig"), so  |
| urationVersions, and no AppConfig Data API         | Powertools' AppConfigStore reads flags   |
| (StartConfigurationSession/GetLatestConfiguration) | as on AWS                                |
| Retry/Catch `States.ALL` (and States.TaskFailed)   | `install_strict_error_matching`: as AWS, |
| match States.Runtime and States.DataLimitExceeded  | neither is caught by a wildcard, and     |
|                                                    | States.Runtime is never caught at all    |
| a MockConfigFile `Throw` of `States.Timeout` (any  | `install_mocked_states_errors`: thrown   |
| `States.*`) is refused as a custom error name      | as that States error, as SFN Local does  |
| Wait states sleep in real time                     | `install_virtual_wait_states`: measured  |
|                                                    | on `VirtualClock`                        |
| a Retry of a `.waitForTaskToken` task reuses the   | `install_token_per_attempt`: a new token |
| token and its spent answer: the retry fails at     | per attempt, the previous one refused    |
| once instead of waiting again                      |                                          |
| jsonpath_ng rebuilds its parser for every path;    | `install_engine_caches` (parsed once);   |
| the server lists its package dir per request;      | `install_dispatch_cache` (once per host);|
| DynamoDB items serialized alias by alias (slow)    | `install_fast_attribute_values`          |
| DynamoDB requests are not isolated: two            | `install_isolated_dynamodb_requests`: one|
| conditional writes can both pass their conditions  | DynamoDB request at a time, as DynamoDB  |
| before either writes                               | isolates single-item writes              |
| its server (werkzeug's development server) closes  | `KeepAliveMotoServer`: the same app on   |
| every connection: a new TCP connection and thread  | waitress, HTTP/1.1 keep-alive, a pool of |
| per AWS call                                       | threads                                  |
| UpdateItem parses its expressions twice and walks  | `install_fast_update_item`: a shape moto |
| the tree ten times per call (10-15 ms)             | accepted is applied by its plan (section |
|                                                    | "DynamoDB UpdateItem")                   |

`make moto-gaps-proof` switches each workaround off in turn (tests/moto_gap_switch.py) and
checks that a test fails.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import threading
import time
import types
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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

    A wait on this clock blocks until its event is set or its deadline passes, like
    `Event.wait`; `advance()` (and `reset()`) wake every wait in progress so that it measures
    its deadline again: `advance(1800)` ends a 30-minute task timeout at once. (Waits used to
    wake every 20 ms to look at the clock: with a hundred parked executions, thousands of
    wake-ups a second in the stack process.)
    """

    def __init__(self, tick_seconds: float = 0.02, retry_wait_scale: float = 1.0) -> None:
        self.tick_seconds = tick_seconds  # only for an event without a condition to notify
        self.retry_wait_scale = retry_wait_scale
        self._offset = 0.0
        self._moves = 0  # how many times advance() or reset() moved the clock
        self._lock = threading.Lock()
        # id(event) -> (event, how many waits on it are in progress)
        self._waiting: dict[int, tuple[threading.Event, int]] = {}

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; every wait whose deadline passes ends at once."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            self._moves += 1
            moved = time.time() + self._offset
        self._wake_waits()
        return moved

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._moves += 1
        self._wake_waits()

    def _wake_waits(self) -> None:
        with self._lock:
            waiting = [event for event, _ in self._waiting.values()]
        for event in waiting:
            condition = getattr(event, "_cond", None)
            if condition is not None:
                with condition:
                    condition.notify_all()

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Like `event.wait(timeout)`, with the timeout measured on this clock."""
        if timeout is None:
            return _RealEvent.wait(event)
        deadline = self.now() + max(timeout, 0.0)
        # CPython's Event waits on its `_cond`: advance() notifies it, and the wait below
        # returns (unset) to measure the deadline again. Without one, look every tick.
        slice_limit = self.tick_seconds if getattr(event, "_cond", None) is None else None
        with self._lock:
            _, waits = self._waiting.get(id(event), (event, 0))
            self._waiting[id(event)] = (event, waits + 1)
        try:
            while True:
                with self._lock:
                    remaining = deadline - (time.time() + self._offset)
                    moves = self._moves
                if remaining <= 0:
                    return event.is_set()
                woken = _RealEvent.wait(event, min(remaining, slice_limit or remaining))
                # Woken by set() (perhaps cleared again since: a pulse), or by the clock
                # moving: then measure the deadline again.
                if woken and (event.is_set() or self._moves == moves):
                    return True
        finally:
            with self._lock:
                _, waits = self._waiting[id(event)]
                if waits > 1:
                    self._waiting[id(event)] = (event, waits - 1)
                else:
                    del self._waiting[id(event)]

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

_programs: dict[str, tuple[Any, Any]] = {}  # definition -> (program, parse tree)
_programs_lock = threading.Lock()
_engine_clients: dict[tuple[str, str, int], Any] = {}


def _ready_to_share(program: Any) -> Any:
    """Make a program safe to evaluate by several executions at once.

    moto's program components are immutable after the Preprocessor builds them: every
    execution keeps its state in its own `Environment` (its stack, heap, context object,
    history). The one attribute set later is `EvalComponent.heap_key` (a random id, made on
    first use, that names the component's slot in the execution's heap, e.g. a Retry's
    attempt count): two executions making it at once could each read the other's id and
    lose their counts, so every component's key is made here, before any execution runs.
    """
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        node = pending.pop()
        if id(node) in seen or isinstance(node, (str, bytes, int, float, bool)) or node is None:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            _ = node.heap_key
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, (list, tuple, set, frozenset)):
            pending.extend(node)
        elif type(node).__module__.startswith("moto.stepfunctions.parser.asl") and hasattr(
            node, "__dict__"
        ):
            pending.extend(vars(node).values())
    return program


def shared_program(definition: str) -> Any | None:
    """The program the executions of `definition` share, once one has been built (tests)."""
    with _programs_lock:
        entry = _programs.get(definition)
    return entry[0] if entry else None


def install_engine_caches() -> None:
    """Cut the engine's per-execution costs (each was most of a chat turn's overhead).

    - moto parses the ASL definition (ANTLR, ~200 ms for the booking machine) and builds
      the execution's program from the parse tree (moto's Preprocessor, ~20 ms holding the
      GIL) at every StartExecution, in the execution's thread before its first state: the
      program is built once per definition text and shared by its executions (see
      `_ready_to_share`: its components are immutable, each execution's state lives in its
      own Environment);
    - every JSONPath a state evaluates (`InputPath`, `Parameters` `.$` fields, `ResultPath`,
      `OutputPath`, Choice variables) is parsed by jsonpath_ng, which builds its PLY parser
      tables anew for each one (~1 ms a path, over half of the engine's time per state):
      each path text is parsed once and its (immutable) expression reused; what it finds
      and how results are written is jsonpath_ng's, unchanged;
    - it creates a new boto3 Lambda client for every Task state: one client (thread-safe)
      per region and port is reused.
    """
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.utils import json_path

    parser_class = asl_parser.AmazonStateLanguageParser
    if getattr(parser_class.parse, "_tree_cached", False):
        return
    original_parse = parser_class.parse
    original_client_for = lambda_eval_utils.boto_client_for

    def parse(definition: str) -> tuple[Any, Any]:
        with _programs_lock:
            entry = _programs.get(definition)
        if entry is not None:
            return entry
        program, tree = original_parse(definition)  # raises on a bad definition
        entry = (_ready_to_share(program), tree)
        with _programs_lock:
            if len(_programs) > 256:  # e.g. one-off test machines: keep it bounded
                _programs.clear()
            return _programs.setdefault(definition, entry)

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, int(moto_server_port()))
        client = _engine_clients.get(key)
        if client is None:
            client = _engine_clients[key] = original_client_for(region, service, state_credentials)
        return client

    parse._tree_cached = True  # type: ignore[attr-defined]
    parser_class.parse = staticmethod(parse)  # type: ignore[method-assign]
    lambda_eval_utils.boto_client_for = client_for
    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = functools.lru_cache(maxsize=4096)(result_path.parse)


# The largest answer Lambda returns from a RequestResponse invoke (moto's own check).
MAX_INVOKE_PAYLOAD_BYTES = 6_000_000


class InProcessLambdaClient:
    """The engine's Lambda client, invoking through moto's Lambda backend in this process.

    moto's engine runs in the local stack's own process, yet invoked each task's function
    through a boto3 client over HTTP to that same process: building and signing the
    request, the loopback round trip, the server's thread hand-off and Flask's routing
    (1.8 ms of every booking turn, measured, before the function had started). On AWS the
    service calls Lambda internally. A plain invoke (FunctionName, Payload, Qualifier) now
    goes straight to what moto's Invoke handler calls, `LambdaBackend.invoke`, with that
    handler's answer shape: status 200, `FunctionError` when the function failed, the
    payload as a stream, and its 6 MB limit. moto's errors (unknown function, throttling)
    become the ClientError the HTTP call raised (code, message, HTTP status), which the
    engine turns into `Lambda.<code>` as before. Anything else goes over HTTP unchanged.
    """

    PLAIN = frozenset({"FunctionName", "Payload", "Qualifier"})

    def __init__(self, client: Any, region: str) -> None:
        self._client = client
        self._region = region

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def invoke(self, **parameters: Any) -> dict[str, Any]:
        if not set(parameters) <= self.PLAIN:
            return self._client.invoke(**parameters)  # type: ignore[no-any-return]
        import io
        import sys

        from botocore.exceptions import ClientError
        from moto.awslambda.models import lambda_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        name = str(parameters["FunctionName"])
        parts = name.split(":")
        account = parts[4] if name.startswith("arn:") and len(parts) > 4 else DEFAULT_ACCOUNT_ID
        payload = parameters.get("Payload") or b""
        body = payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
        request_id = str(uuid.uuid4())
        response_headers: dict[str, str] = {}
        try:
            answer = lambda_backends[account][self._region].invoke(
                name, parameters.get("Qualifier"), body, {}, response_headers
            )
        except JsonRESTError as error:
            raise ClientError(
                {
                    "Error": {"Code": error.error_type, "Message": error.message},
                    "ResponseMetadata": {"HTTPStatusCode": error.code, "RequestId": request_id},
                },
                "Invoke",
            ) from None
        raw = answer.encode("utf-8") if isinstance(answer, str) else bytes(answer or b"")
        response: dict[str, Any] = {
            "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": request_id},
            "StatusCode": 200,
        }
        if sys.getsizeof(raw) > MAX_INVOKE_PAYLOAD_BYTES:
            raw = json.dumps(
                {
                    "errorMessage": "Response payload size exceeded maximum allowed payload "
                    "size (6291556 bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            ).encode("utf-8")
            response["FunctionError"] = "Unhandled"
        elif "x-amz-function-error" in response_headers:
            response["FunctionError"] = response_headers["x-amz-function-error"]
        response["Payload"] = io.BytesIO(raw)
        return response


def install_engine_invokes_in_process() -> None:
    """The engine's Lambda tasks invoke through InProcessLambdaClient (after
    install_engine_caches, whose one client per region it wraps)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    client_for = lambda_eval_utils.boto_client_for
    if getattr(client_for, "_in_process", False):
        return
    wrapped: dict[int, InProcessLambdaClient] = {}

    def in_process_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        client = client_for(region, service, state_credentials)
        if service != "lambda":
            return client
        key = id(client)
        if key not in wrapped or wrapped[key]._client is not client:
            wrapped[key] = InProcessLambdaClient(client, region)
        return wrapped[key]

    in_process_client_for._in_process = True  # type: ignore[attr-defined]
    lambda_eval_utils.boto_client_for = in_process_client_for


# --------------------------------------------------------------------------- server

# Every call in flight holds one of the server's threads, and a Lambda invocation holds one
# while its function runs, whose own AWS calls need threads too: far more threads than
# calls can ever be in flight (functions x their concurrency limit, twice), so none waits.
SERVER_THREADS = 512
SERVER_CONNECTION_LIMIT = 4096
SERVER_IDLE_SECONDS = 60  # an idle keep-alive connection is closed after this (clients reopen)


def task_flushed_channel() -> type | None:
    """waitress's HTTPChannel without its busy loop while a request is being served.

    waitress's main loop asks every channel `writable()` before each poll: True whenever
    the channel holds output. A task thread appends its response there and sends it itself
    (send_bytes=1), but if the loop looks in between, it polls for POLLOUT, the socket is
    writable at once, the output is the task's to send, and the loop comes straight back:
    measured at 72 loop turns per request with four in-process clients (the engine's, the
    benchmark's) and bursts of 4-34 ms per chat turn, each turn taking the GIL from the very
    thread that would end the burst. While a task runs, its output is its own to send,
    unless it has reached the high watermark (then the task waits for the loop to drain
    it); when the task ends, the channel is writable again and the loop sends what is left.
    """
    from waitress.channel import HTTPChannel

    class TaskFlushedChannel(HTTPChannel):
        def writable(self) -> bool:
            if (
                self.requests
                and not (self.will_close or self.close_when_flushed)
                and self.total_outbufs_len < self.adj.outbuf_high_watermark
            ):
                return False
            return bool(super().writable())

    return TaskFlushedChannel


class KeepAliveMotoServer:
    """moto's WSGI app (every service, every workaround here) on waitress, with keep-alive.

    moto's `ThreadedMotoServer` runs werkzeug's development server, which answers every
    request with `Connection: close` and then lingers up to 10 ms reading what the client
    may still send: each AWS call opened a new TCP connection and started a new server
    thread. waitress keeps connections open (HTTP/1.1) and serves from a pool of threads.
    Same interface as ThreadedMotoServer (start, get_host_and_port, stop); `app` is the
    WSGI app served, which a benchmark may wrap (e.g. to count calls).
    """

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.app: Any = DomainDispatcherApplication(create_backend_app)
        self._ip_address, self._port = ip_address, port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def start(self) -> None:
        from waitress.server import create_server

        _raise_open_files_limit(SERVER_CONNECTION_LIMIT + 1024)
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._server = create_server(
            self._serve,
            host=self._ip_address,
            port=self._port,
            threads=SERVER_THREADS,
            connection_limit=SERVER_CONNECTION_LIMIT,
            channel_timeout=SERVER_IDLE_SECONDS,
            asyncore_use_poll=True,  # select() stops at 1024 descriptors
            clear_untrusted_proxy_headers=True,
            ident="moto",
        )
        channel = task_flushed_channel()
        if channel is not None:
            self._server.channel_class = channel
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="moto-server", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):  # the sockets `stop()` closes under the loop
            if not self._stopping.is_set():
                raise

    def get_host_and_port(self) -> tuple[str, int]:
        assert self._server is not None, "Make sure to call start() first"
        return str(self._server.effective_host), int(self._server.effective_port)

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.close()
            self._server.task_dispatcher.shutdown(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._server is not None:
            for channel in list(self._server._map.values()):  # open keep-alive connections
                with contextlib.suppress(OSError):
                    channel.close()


def _raise_open_files_limit(wanted: int) -> None:
    """Keep-alive connections stay open: allow enough descriptors (up to the hard limit)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# --------------------------------------------------------------------------- request dispatch


def install_fast_random_strings() -> None:
    """moto draws every response's 52-character request id (and other random names) one
    character at a time, 52 `Random.choice` calls: 0.1 ms of every AWS call's server time.
    The same characters from the same generator (so a seeded moto stays reproducible, though
    with other values than before) in one `Random.choices` call."""
    import string

    from moto.moto_api._internal.moto_random import MotoRandom

    if getattr(MotoRandom.get_random_string, "_one_draw", False):
        return

    def get_random_string(
        self: MotoRandom, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        text = "".join(self.choices(pool, k=length))
        return text.lower() if lower_case else text

    get_random_string._one_draw = True  # type: ignore[attr-defined]
    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]


def install_dispatch_cache() -> None:
    """Per-request costs of moto's dispatch.

    moto's server resolves the backend of every request by listing its own package
    directory (`list_of_moto_modules`: a listdir and ~200 stats) and trying every service's
    URL patterns, under one lock: remember the answer per host name (it depends on
    nothing else). Which host a request names is still worked out per request, as moto
    does (from its signature, target header, body or path)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, "_cached", False):
        return
    resolved: dict[str | None, Any] = {}

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        try:
            return resolved[host]
        except KeyError:
            if len(resolved) > 1024:  # e.g. S3 virtual-host bucket names: keep it bounded
                resolved.clear()
            backend = resolved[host] = original(self, host)
            return backend

    get_backend_for_host._cached = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]

    # Then, for every call, it lists the response class's methods (`inspect.getmembers`
    # over ~200 attributes) to see whether the action is one: remembered per class, and
    # listed again if any class of its MRO has gained or lost an attribute since.
    from moto.core import responses

    original_names = responses.method_names_from_class
    listed: dict[tuple[Any, ...], list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        key = (clazz, *(len(vars(k)) for k in clazz.__mro__))
        names = listed.get(key)
        if names is None:
            names = listed[key] = original_names(clazz)
        return names

    responses.method_names_from_class = method_names_from_class


# --------------------------------------------------------------------------- DynamoDB responses

_SCALAR_TYPES = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_SET_TYPES = ("SS", "NS")


class _NotPlain(Exception):
    """An AttributeValue the fast path leaves to moto's serializer (binary, unexpected)."""


def plain_attribute_value(value: Any) -> Any:
    """The JSON of one DynamoDB AttributeValue as moto's serializer writes it, for the types
    whose JSON is the value itself (S, N, BOOL, NULL, SS, NS, and M / L of those); anything
    else (B, BS, a malformed value) raises _NotPlain."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _NotPlain
    ((kind, inner),) = value.items()
    scalar = _SCALAR_TYPES.get(kind)
    if scalar is not None:
        if type(inner) is not scalar:
            raise _NotPlain
        return {kind: inner}
    if kind in _SET_TYPES:
        if not isinstance(inner, list) or any(type(x) is not str for x in inner):
            raise _NotPlain
        return {kind: list(inner)}
    if kind == "M" and isinstance(inner, dict):
        return {"M": {str(k): plain_attribute_value(v) for k, v in inner.items()}}
    if kind == "L" and isinstance(inner, list):
        return {"L": [plain_attribute_value(v) for v in inner]}
    raise _NotPlain


def install_fast_attribute_values() -> None:
    """moto serializes every DynamoDB response through the service model, member by member,
    trying several attribute-name aliases per member: for an item of ~40 attribute values
    that is over half of a GetItem's or UpdateItem's server time. An AttributeValue whose JSON
    is the value itself (S, N, BOOL, NULL, SS, NS, M and L of those) is now written as is;
    anything else (binary values) still goes through moto's serializer. The JSON is the
    same either way (tests/integration/test_moto_gaps.py compares them)."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure
    if getattr(original, "_fast_attribute_values", False):
        return

    def _serialize_type_structure(
        self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if shape.name == "AttributeValue" and value is not None:
            service = getattr(getattr(self, "operation_model", None), "service_model", None)
            if getattr(service, "service_name", None) == "dynamodb":
                try:
                    plain = plain_attribute_value(value)
                except _NotPlain:
                    pass
                else:
                    if key:
                        serialized[self.get_serialized_name(shape, key)] = plain
                    else:
                        serialized.update(plain)
                    return
        original(self, serialized, value, shape, key)

    _serialize_type_structure._fast_attribute_values = True  # type: ignore[attr-defined]
    _serialize_type_structure._original = original  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]


# --------------------------------------------------------------------------- DynamoDB UpdateItem

# moto parses an UpdateItem's UpdateExpression twice and its ConditionExpression twice, deep-
# copies the item twice, and validates the expression through ten tree walks (each copying
# the tree first): 10-15 ms per call for the checkpoint's writes, against 1-2 ms for a
# GetItem. What that work decides depends only on the expression, its names, the placeholders
# of its values and their types, and the table's key schema, except where noted below. So
# once moto's own path has accepted a request of one such shape, the shape's *plan* (which
# top-level attribute each SET, ADD and REMOVE writes, in moto's order) applies later
# requests of that shape directly. A first sighting, an unsuccessful one, anything outside
# the plan's grammar (nested paths, functions, arithmetic, DELETE, ADD to a set, legacy
# Expected/AttributeUpdates), a table with a stream or a changed key schema, and an empty
# string for an index key attribute go through moto unchanged. The rest follows moto step by
# step with moto's own parts (its condition parser, key checks, item creation, number
# addition, size limit and errors, ReturnValues), so answers, items and errors are the same
# (tests/integration/test_moto_gap_fast_update.py runs a corpus through both paths).


@dataclass(frozen=True)
class UpdatePlan:
    """What an accepted UpdateExpression does to an item, in the order moto applies it.

    `actions`: ("SET" | "ADD" | "REMOVE", attribute name, value placeholder or None).
    `index_key_sets`: (the name as written, placeholder) of each SET of an attribute that is
    a key of the table or an index: moto refuses an empty string or binary there, so such a
    request goes through moto. `schema`: the table's keys and attribute definitions the plan
    was accepted with."""

    actions: tuple[tuple[str, str, str | None], ...]
    index_key_sets: tuple[tuple[str, str], ...]
    schema: tuple[Any, ...]


# (table, expression, condition, names, (placeholder, type) of each value) -> plan, or None
# when moto accepted the shape but the plan's grammar does not cover it.
UPDATE_PLANS: dict[tuple[Any, ...], UpdatePlan | None] = {}
# How many requests took a plan (answered or refused by it) and how many moto's path.
UPDATE_PLAN_STATS = {"planned": 0, "moto": 0}


def update_shape(body: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The key a plan is kept under, or None for a request that always goes through moto."""
    expression = body.get("UpdateExpression")
    if not isinstance(expression, str) or body.get("AttributeUpdates") or "Expected" in body:
        return None
    names = body.get("ExpressionAttributeNames")
    values = body.get("ExpressionAttributeValues")
    value_types: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    if values is not None:
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            return None
        value_types = tuple(sorted((str(p), tuple(v)) for p, v in values.items()))
    if names is not None and not isinstance(names, dict):
        return None
    shape = (
        body.get("TableName"),
        expression,
        body.get("ConditionExpression"),
        None if names is None else tuple(sorted(names.items())),
        value_types,
    )
    try:
        hash(shape)
    except TypeError:
        return None
    return shape


def table_schema(table: Any) -> tuple[Any, ...]:
    """What moto's expression validators read from the table (a changed one voids plans)."""
    return (
        tuple(table.table_key_attrs),
        tuple((a["AttributeName"], a["AttributeType"]) for a in table.attr),
        tuple(table.attribute_keys),
    )


def compile_update_plan(
    expression: str,
    names: Mapping[str, str],
    values: Mapping[str, Mapping[str, Any]],
    table: Any,
) -> UpdatePlan | None:
    """The plan of an expression moto has accepted, from moto's own parse tree put in moto's
    order (`normalize`); None for anything beyond SET attr = :value, ADD attr :number and
    REMOVE attr on top-level attributes."""
    from moto.dynamodb.parsing import ast_nodes
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    ast: Any = ast_nodes  # moto marks the module `type: ignore`

    tree = UpdateExpressionParser.make(expression.strip())
    tree.normalize()
    index_keys = set(table.attribute_keys)
    actions: list[tuple[str, str, str | None]] = []
    index_key_sets: list[tuple[str, str]] = []
    for action in tree.children or []:
        path = action.children[0]
        if type(path) is not ast.UpdateExpressionPath or len(path.children) != 1:
            return None
        element = path.children[0]
        if type(element) is ast.ExpressionAttribute:
            name = element.get_attribute_name()
        elif type(element) is ast.ExpressionAttributeName:
            name = names[element.get_attribute_name_placeholder()]
        else:
            return None
        written = element.children[0]
        kind = type(action)
        if kind is ast.UpdateExpressionSetAction:
            value = action.children[1]
            if (
                type(value) is not ast.UpdateExpressionValue
                or len(value.children) != 1
                or type(value.children[0]) is not ast.ExpressionAttributeValue
            ):
                return None
            placeholder = value.children[0].get_value_name()
            actions.append(("SET", name, placeholder))
            if written in index_keys:
                index_key_sets.append((written, placeholder))
        elif kind is ast.UpdateExpressionAddAction:
            value = action.children[1]
            if type(value) is not ast.ExpressionAttributeValue:
                return None
            placeholder = value.get_value_name()
            if list(values[placeholder]) != ["N"]:
                return None
            actions.append(("ADD", name, placeholder))
        elif kind is ast.UpdateExpressionRemoveAction and len(action.children) == 1:
            actions.append(("REMOVE", name, None))
        else:
            return None
    return UpdatePlan(tuple(actions), tuple(index_key_sets), table_schema(table))


def _plan_applies(plan: UpdatePlan, table: Any, values: Mapping[str, Any]) -> bool:
    """False where moto would decide differently than when it accepted the plan."""
    if table.stream_shard is not None or table_schema(table) != plan.schema:
        return False
    for _, placeholder in plan.index_key_sets:
        value = values[placeholder]
        kind = next(iter(value))  # as moto's DynamoType reads it
        if kind in ("S", "B") and not value[kind]:
            return False
    return True


def _execute_plan(plan: UpdatePlan, item: Any, values: Mapping[str, Any]) -> None:
    """moto's UpdateExpressionExecutor for the plan's grammar, action by action, with its
    item size check (LimitedSizeDict: the size before a write plus the written attribute,
    over 405000 bytes, fails that write and leaves the earlier ones) kept as a running sum
    instead of re-measuring the whole item at every write."""
    from moto.dynamodb.exceptions import IncorrectDataType, ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    attrs = item.attrs
    size: int | None = None  # measured at the first write, as moto measures at each write
    for kind, name, placeholder in plan.actions:
        if kind == "REMOVE":
            removed = attrs.pop(name, None)
            if removed is not None and size is not None:
                size -= bytesize(name) + removed.size()
            continue
        assert placeholder is not None
        new = DynamoType(values[placeholder])
        if kind == "ADD":
            existing = attrs.get(name)
            if existing is None:
                existing = DynamoType({"N": "0"})
            if existing.type != "N":
                raise IncorrectDataType()
            new = existing + new
        if size is None:
            size = item.size()
        written = bytesize(name) + new.size()
        if size + written > 405000:
            raise ItemSizeTooLarge
        old = attrs.get(name)
        dict.__setitem__(attrs, name, new)
        size += written - (bytesize(name) + old.size() if old is not None else 0)


def _apply_update_plan(handler: Any, plan: UpdatePlan) -> Any:
    """moto's DynamoHandler.update_item and DynamoDBBackend.update_item in their order, with
    the expression work replaced by the plan; None (before anything is read or written) where
    the plan does not apply."""
    from moto.dynamodb.comparisons import create_condition_expression_parser
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        ItemSizeTooLarge,
        ItemSizeToUpdateTooLarge,
        MockValidationException,
        ProvidedKeyDoesNotExist,
    )
    from moto.dynamodb.responses import DynamoResult

    body = handler.body
    name = body["TableName"]
    key = body["Key"]
    return_values = body.get("ReturnValues", "NONE")
    backend = handler.dynamodb_backend
    table = backend.get_table(name)
    if not _plan_applies(plan, table, body.get("ExpressionAttributeValues") or {}):
        return None
    UPDATE_PLAN_STATS["planned"] += 1
    if not all(k in table.attribute_keys for k in key):
        raise ProvidedKeyDoesNotExist
    hash_value, range_value = backend.get_keys_value(table, key)
    item = table.get_item(hash_value, range_value)
    if return_values not in ("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
        raise MockValidationException("Return values set to invalid value")
    names = body.get("ExpressionAttributeNames", {})
    values = handler._get_expr_attr_values()
    condition = create_condition_expression_parser(
        body.get("ConditionExpression"), names, values
    ).parse()
    # The plan never changes a value in place, so the item's JSON before the update needs
    # no copy of the item.
    existing_attributes = (
        item.to_json()["Attributes"] if item is not None and return_values != "NONE" else {}
    )
    if not condition.expr(item):
        if body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and item is not None:
            raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
        raise ConditionalCheckFailed
    if item is None:
        data: dict[str, Any] = {table.hash_key_attr: {hash_value.type: hash_value.value}}
        if range_value:
            data[table.range_key_attr] = {range_value.type: range_value.value}
        table.put_item(data)
        item = table.get_item(hash_value, range_value)
    try:
        _execute_plan(plan, item, values)
    except ItemSizeTooLarge:
        raise ItemSizeToUpdateTooLarge() from None

    if return_values == "NONE":
        return DynamoResult({"ConsumedCapacity": {"TableName": name, "CapacityUnits": 0.5}})
    item_dict = item.to_json()
    item_dict["ConsumedCapacity"] = {"TableName": name, "CapacityUnits": 0.5}
    if return_values == "ALL_OLD":
        if existing_attributes:
            item_dict["Attributes"] = existing_attributes
        else:
            item_dict.pop("Attributes", None)
    elif return_values == "UPDATED_OLD":
        new_attributes = item_dict["Attributes"]
        unchanged = {
            k for k in existing_attributes if existing_attributes[k] == new_attributes.get(k)
        }
        changed = set(existing_attributes).union(new_attributes).difference(unchanged)
        updated = {k: v for k, v in existing_attributes.items() if k in changed}
        if updated:
            item_dict["Attributes"] = updated
        else:
            item_dict.pop("Attributes", None)
    elif return_values == "UPDATED_NEW":
        item_dict["Attributes"] = handler._build_updated_new_attributes(
            existing_attributes, item_dict["Attributes"]
        )
    return DynamoResult(item_dict)


def install_fast_update_item() -> None:
    """UpdateItem requests of a shape moto has accepted before are applied by their plan
    (above) instead of being parsed and validated again."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.update_item
    if getattr(original, "_fast_update_item", False):
        return

    def update_item(self: DynamoHandler) -> Any:
        shape = update_shape(self.body)
        plan = UPDATE_PLANS.get(shape) if shape is not None else None
        if plan is not None:
            result = _apply_update_plan(self, plan)
            if result is not None:
                return result
        UPDATE_PLAN_STATS["moto"] += 1
        result = original(self)
        if shape is None:
            return result
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        # Learned now: a shape moto accepted for the first time, or again after the table's
        # keys changed (a plan learned before no longer applies).
        if shape not in UPDATE_PLANS or (plan is not None and plan.schema != table_schema(table)):
            if len(UPDATE_PLANS) > 1024:  # generated expressions: keep it bounded
                UPDATE_PLANS.clear()
            UPDATE_PLANS[shape] = compile_update_plan(
                self.body["UpdateExpression"],
                self.body.get("ExpressionAttributeNames") or {},
                self.body.get("ExpressionAttributeValues") or {},
                table,
            )
        return result

    update_item._fast_update_item = True  # type: ignore[attr-defined]
    update_item._original = original  # type: ignore[attr-defined]
    DynamoHandler.update_item = update_item  # type: ignore[method-assign]


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


def install_execution_scan_guard() -> None:
    """moto's StartExecution lists a new execution before it starts it: until `start()` has
    run, its status and its worker are None. SendTaskSuccess and SendTaskFailure find a
    token's execution by scanning every execution's status, so one arriving in that window
    for another execution failed with a 500 (`None.value`; seen under `make load`, the
    client's retry hid it). On AWS an execution is RUNNING from the moment it is listed.
    An execution being started now reads as RUNNING, and the scan for a task token passes
    over it (it cannot hold a token before its worker exists)."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def status(self: Execution) -> str:
        current = self.exec_status or ExecutionStatus.RUNNING
        return str(current.value)

    def get_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list[Any]:
        found = []
        for machine in list(self.state_machines):
            for execution in list(machine.executions):
                if getattr(execution, "exec_worker", None) is None:
                    continue  # still being started by another request
                if execution_status is None or execution_status == execution.status:
                    found.append(execution)
        return found

    Execution.status = property(status)  # type: ignore[assignment,method-assign]
    StepFunctionsParserBackend._get_executions = get_executions  # type: ignore[method-assign]


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
            try:  # only if still expired: a session touched since the scan stays
                client.delete_item(
                    TableName=table_name,
                    Key={k: item[k] for k in key_names},
                    ConditionExpression="#ttl < :now",
                    ExpressionAttributeNames={"#ttl": ttl_attribute},
                    ExpressionAttributeValues={":now": {"N": str(cutoff)}},
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue
            deleted += 1
    return deleted


# --------------------------------------------------------------------------- DynamoDB isolation

# One DynamoDB request at a time. moto keeps no lock per item: two conditional writes in
# flight at once can both pass their conditions before either writes (two flows claiming
# one checkpoint, two bookings both "first"), and a read can see an update half applied.
# DynamoDB makes each single-item write atomic and isolated, and its conditions are checked
# against the item as it is when the write is applied. moto's DynamoDB work is pure CPU under
# the GIL, so serializing its requests costs nothing that was not already serialized.
DYNAMODB_REQUESTS = threading.RLock()


def install_isolated_dynamodb_requests() -> None:
    """Every DynamoDB request (reads, writes, conditions, transactions) runs whole, alone."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_isolated", False):
        return

    def call_action(self: DynamoHandler) -> Any:
        with DYNAMODB_REQUESTS:
            return original(self)

    call_action._isolated = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


# --------------------------------------------------------------------------- AppConfig
# moto 5.2.5 has AppConfig's applications, configuration profiles and hosted configuration
# versions, but no environments, deployment strategies or deployments, no ListApplications
# or ListHostedConfigurationVersions, and no AppConfig Data API (StartConfigurationSession,
# GetLatestConfiguration) that Powertools' AppConfigStore reads flags through. This section
# adds them to moto's server, as strict as AWS where our code could notice: unknown ids are
# ResourceNotFoundException, a second deployment while one is in progress on the environment
# is ConflictException, a poll token works once (BadRequestException after), and an
# environment with no deployment yet has nothing to read. Gradual delivery to a percentage of
# clients is not modelled: a deployment is delivered to every reader when it starts.

APPCONFIG_PREDEFINED_STRATEGIES: dict[str, dict[str, Any]] = {
    "AppConfig.AllAtOnce": {"duration": 0, "growth": 100.0, "type": "LINEAR", "bake": 10},
    "AppConfig.Linear50PercentEvery30Seconds": {
        "duration": 1,
        "growth": 50.0,
        "type": "LINEAR",
        "bake": 1,
    },
    "AppConfig.Canary10Percent20Minutes": {
        "duration": 20,
        "growth": 10.0,
        "type": "EXPONENTIAL",
        "bake": 10,
    },
}
_IN_PROGRESS = ("DEPLOYING", "BAKING")


class AppConfigGapError(Exception):
    """An AWS-shaped AppConfig error: its name becomes the botocore error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass
class AppConfigDeployment:
    application_id: str
    environment_id: str
    number: int
    profile_id: str
    profile_name: str
    version: str
    strategy_id: str
    strategy: dict[str, Any]
    description: str
    started_at: float
    state: str = "DEPLOYING"
    completed_at: float | None = None

    def refresh(self, now: float) -> None:
        """DEPLOYING -> BAKING -> COMPLETE as the strategy's minutes pass on CLOCK."""
        if self.state not in _IN_PROGRESS:
            return
        deployed_at = self.started_at + 60 * self.strategy["duration"]
        done_at = deployed_at + 60 * self.strategy["bake"]
        if now >= done_at:
            self.state, self.completed_at = "COMPLETE", done_at
        elif now >= deployed_at:
            self.state = "BAKING"

    def to_json(self) -> dict[str, Any]:
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_at))
        body: dict[str, Any] = {
            "ApplicationId": self.application_id,
            "EnvironmentId": self.environment_id,
            "DeploymentStrategyId": self.strategy_id,
            "ConfigurationProfileId": self.profile_id,
            "DeploymentNumber": self.number,
            "ConfigurationName": self.profile_name,
            "ConfigurationLocationUri": "hosted",
            "ConfigurationVersion": self.version,
            "Description": self.description,
            "DeploymentDurationInMinutes": self.strategy["duration"],
            "GrowthType": self.strategy["type"],
            "GrowthFactor": self.strategy["growth"],
            "FinalBakeTimeInMinutes": self.strategy["bake"],
            "State": self.state,
            "PercentageComplete": 100.0 if self.state != "DEPLOYING" else 0.0,
            "StartedAt": started,
        }
        if self.completed_at is not None:
            body["CompletedAt"] = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.completed_at)
            )
        return body


@dataclass
class AppConfigGaps:
    """The state moto lacks: environments, strategies, deployments, data sessions."""

    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body
    deployments: dict[tuple[str, str], list[AppConfigDeployment]] = field(default_factory=dict)
    tokens: dict[str, tuple[tuple[str, str, str], str]] = field(default_factory=dict)
    latest_configuration_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lookups (ids or names, as the data API accepts both) --------------------------

    def backend(self) -> Any:
        from moto.appconfig.models import appconfig_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
        return appconfig_backends[DEFAULT_ACCOUNT_ID][region or "us-east-1"]

    def application(self, identifier: str) -> Any:
        for app in self.backend().applications.values():
            if identifier in (app.id, app.name):
                return app
        raise AppConfigGapError(
            "ResourceNotFoundException", f"Application {identifier} not found", 404
        )

    def environment(self, app_id: str, identifier: str) -> dict[str, Any]:
        for env in self.environments.values():
            if env["ApplicationId"] == app_id and identifier in (env["Id"], env["Name"]):
                return env
        raise AppConfigGapError(
            "ResourceNotFoundException", f"Environment {identifier} not found", 404
        )

    def profile(self, app: Any, identifier: str) -> Any:
        for profile in app.config_profiles.values():
            if identifier in (profile.id, profile.name):
                return profile
        raise AppConfigGapError(
            "ResourceNotFoundException", f"Configuration profile {identifier} not found", 404
        )

    def strategy(self, identifier: str) -> tuple[str, dict[str, Any]]:
        if identifier in APPCONFIG_PREDEFINED_STRATEGIES:
            return identifier, APPCONFIG_PREDEFINED_STRATEGIES[identifier]
        for strategy in self.strategies.values():
            if identifier in (strategy["Id"], strategy["Name"]):
                return strategy["Id"], {
                    "duration": strategy["DeploymentDurationInMinutes"],
                    "growth": strategy["GrowthFactor"],
                    "type": strategy["GrowthType"],
                    "bake": strategy["FinalBakeTimeInMinutes"],
                }
        raise AppConfigGapError(
            "ResourceNotFoundException", f"Deployment strategy {identifier} not found", 404
        )

    def history(self, app_id: str, env_id: str) -> list[AppConfigDeployment]:
        found = self.deployments.setdefault((app_id, env_id), [])
        now = CLOCK.now()
        for deployment in found:
            deployment.refresh(now)
        return found

    # -- control plane -------------------------------------------------------------------

    def create_environment(self, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.application(app_id)
        name = str(body.get("Name") or "")
        if not 1 <= len(name) <= 64:
            raise AppConfigGapError("BadRequestException", "Name must be 1-64 characters")
        env: dict[str, Any] = {
            "ApplicationId": app_id,
            "Id": uuid.uuid4().hex[:7],
            "Name": name,
            "Description": str(body.get("Description") or ""),
            "State": "READY_FOR_DEPLOYMENT",
            "Monitors": list(body.get("Monitors") or []),
        }
        self.environments[env["Id"]] = env
        return env

    def create_strategy(self, body: dict[str, Any]) -> dict[str, Any]:
        for required in ("Name", "DeploymentDurationInMinutes", "GrowthFactor"):
            if body.get(required) is None:
                raise AppConfigGapError("BadRequestException", f"{required} is required")
        duration, growth = int(body["DeploymentDurationInMinutes"]), float(body["GrowthFactor"])
        bake = int(body.get("FinalBakeTimeInMinutes") or 0)
        if not (0 <= duration <= 1440 and 1.0 <= growth <= 100.0 and 0 <= bake <= 1440):
            raise AppConfigGapError(
                "BadRequestException", "duration/bake must be 0-1440 min, growth 1-100"
            )
        strategy: dict[str, Any] = {
            "Id": uuid.uuid4().hex[:7],
            "Name": str(body["Name"]),
            "Description": str(body.get("Description") or ""),
            "DeploymentDurationInMinutes": duration,
            "GrowthType": str(body.get("GrowthType") or "LINEAR"),
            "GrowthFactor": growth,
            "FinalBakeTimeInMinutes": bake,
            "ReplicateTo": str(body.get("ReplicateTo") or "NONE"),
        }
        self.strategies[strategy["Id"]] = strategy
        return strategy

    def start_deployment(self, app_id: str, env_id: str, body: dict[str, Any]) -> dict[str, Any]:
        app = self.application(app_id)
        env = self.environment(app.id, env_id)
        profile = self.profile(app, str(body.get("ConfigurationProfileId") or ""))
        strategy_id, strategy = self.strategy(str(body.get("DeploymentStrategyId") or ""))
        version = str(body.get("ConfigurationVersion") or "")
        if not version.isdigit() or int(version) not in profile.config_versions:
            raise AppConfigGapError(
                "BadRequestException", f"Configuration version {version} does not exist"
            )
        history = self.history(app.id, env["Id"])
        if any(d.state in _IN_PROGRESS for d in history):
            raise AppConfigGapError(
                "ConflictException",
                "An in-progress deployment already exists for this environment",
                409,
            )
        deployment = AppConfigDeployment(
            application_id=app.id,
            environment_id=env["Id"],
            number=len(history) + 1,
            profile_id=profile.id,
            profile_name=profile.name,
            version=version,
            strategy_id=strategy_id,
            strategy=strategy,
            description=str(body.get("Description") or ""),
            started_at=CLOCK.now(),
        )
        deployment.refresh(CLOCK.now())
        history.append(deployment)
        return deployment.to_json()

    def get_deployment(self, app_id: str, env_id: str, number: int) -> AppConfigDeployment:
        for deployment in self.history(app_id, env_id):
            if deployment.number == number:
                return deployment
        raise AppConfigGapError("ResourceNotFoundException", f"Deployment {number} not found", 404)

    def stop_deployment(self, app_id: str, env_id: str, number: int) -> dict[str, Any]:
        deployment = self.get_deployment(app_id, env_id, number)
        if deployment.state not in _IN_PROGRESS:
            raise AppConfigGapError(
                "BadRequestException", f"Deployment {number} is {deployment.state}"
            )
        deployment.state = "ROLLED_BACK"
        return deployment.to_json()

    # -- data plane ----------------------------------------------------------------------

    def served(self, key: tuple[str, str, str]) -> AppConfigDeployment | None:
        """The deployment readers get: the newest one not stopped, for this profile."""
        app_id, env_id, profile_id = key
        for deployment in reversed(self.history(app_id, env_id)):
            if deployment.profile_id == profile_id and deployment.state != "ROLLED_BACK":
                return deployment
        return None

    def start_session(self, body: dict[str, Any]) -> str:
        app = self.application(str(body.get("ApplicationIdentifier") or ""))
        env = self.environment(app.id, str(body.get("EnvironmentIdentifier") or ""))
        profile = self.profile(app, str(body.get("ConfigurationProfileIdentifier") or ""))
        token = uuid.uuid4().hex
        self.tokens[token] = ((app.id, env["Id"], profile.id), "")
        return token

    def latest(self, token: str) -> tuple[bytes, str, str, str]:
        """(content or b"" when unchanged, content type, version, next token)."""
        self.latest_configuration_calls += 1
        entry = self.tokens.pop(token, None)
        if entry is None:
            raise AppConfigGapError(
                "BadRequestException", "The configuration token is invalid or already used"
            )
        key, last_version = entry
        deployment = self.served(key)
        if deployment is None:
            self.tokens[token] = entry  # nothing was read; AWS keeps the session usable
            raise AppConfigGapError(
                "ResourceNotFoundException",
                "No configuration has been deployed to this environment",
                404,
            )
        app = self.application(key[0])
        hosted = self.profile(app, key[2]).config_versions[int(deployment.version)]
        next_token = uuid.uuid4().hex
        self.tokens[next_token] = (key, deployment.version)
        content = b"" if deployment.version == last_version else _as_bytes(hosted.content)
        return content, str(hosted.content_type or ""), deployment.version, next_token


def _as_bytes(content: Any) -> bytes:
    return content if isinstance(content, bytes) else str(content).encode()


APPCONFIG = AppConfigGaps()


def _appconfig_route(
    handle: Callable[[str, str, dict[str, Any], dict[str, str]], tuple[int, dict[str, Any], Any]],
) -> Callable[[Any, str, Any], tuple[int, dict[str, str], Any]]:
    """Wrap a handler(method, path, json_body, query) as a moto URL handler."""
    from urllib.parse import parse_qsl, urlparse

    def route(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], Any]:
        parsed = urlparse(full_url)
        raw = request.get_data() if hasattr(request, "get_data") else b""
        try:
            body = json.loads(raw) if raw else {}
            with APPCONFIG.lock:
                status, out_headers, out = handle(
                    request.method, parsed.path, body, dict(parse_qsl(parsed.query))
                )
        except AppConfigGapError as error:
            message = json.dumps({"Message": str(error), "__type": error.code})
            return error.status, {"x-amzn-ErrorType": error.code}, message
        if isinstance(out, bytes):
            return status, {str(k): str(v) for k, v in out_headers.items()}, out
        headers_out = {"Content-Type": "application/json", **out_headers}
        return status, headers_out, json.dumps(out)

    route.__name__ = f"appconfig_gap_{handle.__name__}"
    return route


def _environments(
    method: str, path: str, body: dict[str, Any], query: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    parts = path.strip("/").split("/")  # applications/{app}/environments[/{env}]
    app = APPCONFIG.application(parts[1])
    if len(parts) == 4:
        return 200, {}, APPCONFIG.environment(app.id, parts[3])
    if method == "POST":
        return 201, {}, APPCONFIG.create_environment(app.id, body)
    items = [e for e in APPCONFIG.environments.values() if e["ApplicationId"] == app.id]
    return 200, {}, {"Items": items}


def _strategies(
    method: str, path: str, body: dict[str, Any], query: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    parts = path.strip("/").split("/")  # deploymentstrategies[/{id}]
    if len(parts) == 2:
        strategy_id, _ = APPCONFIG.strategy(parts[1])
        return 200, {}, APPCONFIG.strategies.get(strategy_id, {"Id": strategy_id})
    if method == "POST":
        return 201, {}, APPCONFIG.create_strategy(body)
    return 200, {}, {"Items": list(APPCONFIG.strategies.values())}


def _deployments(
    method: str, path: str, body: dict[str, Any], query: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    parts = path.strip("/").split("/")  # applications/{a}/environments/{e}/deployments[/{n}]
    app = APPCONFIG.application(parts[1])
    env = APPCONFIG.environment(app.id, parts[3])
    if len(parts) == 6:
        if not parts[5].isdigit():
            raise AppConfigGapError("BadRequestException", "DeploymentNumber must be a number")
        if method == "DELETE":
            return 202, {}, APPCONFIG.stop_deployment(app.id, env["Id"], int(parts[5]))
        return 200, {}, APPCONFIG.get_deployment(app.id, env["Id"], int(parts[5])).to_json()
    if method == "POST":
        return 201, {}, APPCONFIG.start_deployment(app.id, env["Id"], body)
    items = [d.to_json() for d in reversed(APPCONFIG.history(app.id, env["Id"]))]
    return 200, {}, {"Items": items}


def _configuration_sessions(
    method: str, path: str, body: dict[str, Any], query: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    return 201, {}, {"InitialConfigurationToken": APPCONFIG.start_session(body)}


def _latest_configuration(
    method: str, path: str, body: dict[str, Any], query: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    content, content_type, version, next_token = APPCONFIG.latest(
        query.get("configuration_token", "")
    )
    headers = {
        "Next-Poll-Configuration-Token": next_token,
        "Next-Poll-Interval-In-Seconds": "60",
        "Content-Type": content_type or "application/octet-stream",
        "Version-Label": version,
    }
    return 200, headers, content


def install_appconfig_gaps() -> AppConfigGaps:
    """Add the missing AppConfig operations to moto's server (before its first AppConfig call)."""
    from moto.appconfig import urls
    from moto.appconfig.responses import AppConfigResponse

    app_path = "{0}/applications/(?P<app_id>[^/]+)"
    env_path = app_path + "/environments/(?P<env_id>[^/]+)"
    urls.url_paths.update(
        {
            app_path + "/environments$": _appconfig_route(_environments),
            env_path + "$": _appconfig_route(_environments),
            env_path + "/deployments$": _appconfig_route(_deployments),
            env_path + "/deployments/(?P<number>[^/]+)$": _appconfig_route(_deployments),
            "{0}/deploymentstrategies$": _appconfig_route(_strategies),
            "{0}/deploymentstrategies/(?P<strategy_id>[^/]+)$": _appconfig_route(_strategies),
            "{0}/configurationsessions$": _appconfig_route(_configuration_sessions),
            "{0}/configuration$": _appconfig_route(_latest_configuration),
        }
    )

    def list_applications(self: AppConfigResponse) -> str:
        apps = self.appconfig_backend.applications.values()
        return json.dumps({"Items": [app.to_json() for app in apps]})

    def list_hosted_configuration_versions(self: AppConfigResponse) -> str:
        profile = self.appconfig_backend.get_configuration_profile(
            self._get_param("ApplicationId"), self._get_param("ConfigurationProfileId")
        )
        items = [
            {
                "ApplicationId": version.app_id,
                "ConfigurationProfileId": version.config_id,
                "VersionNumber": version.version,
                "Description": version.description,
                "ContentType": version.content_type,
            }
            for version in sorted(
                profile.config_versions.values(), key=lambda v: v.version, reverse=True
            )
        ]
        return json.dumps({"Items": items})

    AppConfigResponse.list_applications = list_applications  # type: ignore[attr-defined]
    AppConfigResponse.list_hosted_configuration_versions = (  # type: ignore[attr-defined]
        list_hosted_configuration_versions
    )
    return APPCONFIG


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


def install_token_per_attempt() -> None:
    """A retried `.waitForTaskToken` task waits for a new answer, under a new token.

    moto makes the token once when the state is entered; every Retry attempt reuses it and
    its callback endpoint, which already holds the answer that failed the previous attempt
    (a SendTaskFailure, a timeout): the retry re-invokes the function, then fails at once
    with that old answer instead of waiting. As on AWS, each attempt now gets its own token
    (the one the re-invoked function is handed), and the previous attempt's token is refused
    (InvalidToken) instead of answering a wait that no longer exists."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )

    original = StateTaskServiceCallback._evaluate_with_timeout
    if getattr(original, "_token_per_attempt", False):
        return

    def _evaluate_with_timeout(self: StateTaskServiceCallback, env: Any) -> None:
        context = env.states.context_object
        task = context.context_object_data.get("Task")
        attempt = context.context_object_data.get("State", {}).get("RetryCount", 0)
        if task and attempt and self.resource.condition == ResourceCondition.WaitForTaskToken:
            env.callback_pool_manager._pool.pop(task["Token"], None)
            env.callback_pool_manager.add(context.update_task_token())
        original(self, env)

    _evaluate_with_timeout._token_per_attempt = True  # type: ignore[attr-defined]
    StateTaskServiceCallback._evaluate_with_timeout = _evaluate_with_timeout  # type: ignore[method-assign,assignment]


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
            CLOCK.wait(env.program_state_event, remaining)  # set when the program stops

    _wait_interval._virtual = True  # type: ignore[attr-defined]
    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
