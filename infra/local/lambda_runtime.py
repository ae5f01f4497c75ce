"""Local Lambda execution environments: a pool of worker processes per function.

moto 5.2.5 runs Lambda in Docker; we have none, so `moto_gaps.install_lambda_runtime`
routes every invoke here. As on AWS:

- each environment is its own process (`infra.local.lambda_worker`) whose `os.environ` is
  the function's environment (plus the local endpoint and credentials, so the handler's
  boto3 clients reach the moto server over HTTP); module state is per environment;
- an environment serves one request at a time; a free warm one is reused, and when all
  are busy a new one starts cold (its INIT time is measured and logged);
- at most `concurrency_limit` environments per function (the function's reserved
  concurrency when set): one more concurrent invoke is throttled with
  TooManyRequestsException, as Lambda does;
- an invocation that outlives the function's Timeout is cut off by killing its
  environment, and answers `Sandbox.Timedout` in Lambda's "Task timed out" shape;
- peak memory (max RSS) is reported per invocation, and an environment above the
  function's MemorySize is ended with `Runtime.OutOfMemory`, as Lambda ends it;
- what the handler prints is the invocation's log (the Tail of `LogType=Tail`, and a log
  stream in the function's log group), also copied to this process's stderr.

`ThreadRuntime` keeps the old model (every invocation a thread of this process, sharing
module state) only so that tests can show what it gets wrong.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import weakref
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("infra.local.lambda")

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_CACHE = REPO_ROOT / "build" / "lambda-local"  # unzipped code packages, by code hash
DEFAULT_CONCURRENCY_LIMIT = 10
IDLE_SECONDS = 600.0  # an unused environment is reclaimed after this long
INIT_TIMEOUT_SECONDS = 30.0  # Lambda's INIT phase limit is 10 s; local imports are slower
# Passed through from this process when set (locale, Python, temporary files).
_PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SYSTEMROOT")
# The local harness's own switches that must reach every environment: the AWS call
# recorder's file (infra/local/aws_call_recorder.py, the least-privilege check).
_HARNESS_PASS_THROUGH = ("PF360_AWS_CALL_LOG",)
# Where the handler's boto3 clients go: the local endpoint, region and credentials.
_AWS_PASS_THROUGH = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


class FunctionSpec(Protocol):
    """What the runtime reads of moto's LambdaFunction."""

    function_name: str
    function_arn: str
    handler: Any
    timeout: Any
    memory_size: Any
    environment_vars: Any
    code_bytes: bytes
    code_sha_256: str


def code_root(function: FunctionSpec) -> Path:
    """Where the function's environments import its handler from: its code package,
    unzipped once per code hash (the artifact `make package` ships, as on AWS). A function
    made without a real package (tests' own helpers, the benchmark's direct design) runs
    from this checkout."""
    sha = str(getattr(function, "code_sha_256", ""))
    known = _CODE_ROOTS.get(sha)
    if known is None:
        known = _CODE_ROOTS[sha] = _unzip(getattr(function, "code_bytes", b"") or b"", sha)
    return known


_CODE_ROOTS: dict[str, Path] = {}


def _unzip(code: bytes, sha: str) -> Path:
    try:
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            names = [n for n in archive.namelist() if n.endswith(".py")]
            if not names or not sha:
                return REPO_ROOT
            root = CODE_CACHE / sha.replace("/", "_").replace("+", "-")
            if not root.exists():
                CODE_CACHE.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".unzip-", dir=CODE_CACHE))
                archive.extractall(staging)
                try:
                    staging.rename(root)  # atomic: a concurrent unzip of the same code wins
                except OSError:
                    shutil.rmtree(staging, ignore_errors=True)
            return root
    except zipfile.BadZipFile:
        return REPO_ROOT


class Throttled(Exception):
    """All of a function's environments are busy and it may not start another."""

    def __init__(self, function_name: str, limit: int) -> None:
        super().__init__(f"Rate Exceeded. ({function_name}: {limit} concurrent executions)")
        self.function_name = function_name
        self.limit = limit


def error_payload(error_type: str, message: str, trace: list[str] | None = None) -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": trace or []})


@dataclass
class Invocation:
    """What one invoke returned: payload, whether it is an error, its log, and its cost."""

    payload: str
    errored: bool
    logs: str
    duration_ms: float = 0.0
    init_ms: float | None = None  # set when this invocation started its environment
    peak_rss_mb: float = 0.0


@dataclass
class FunctionStats:
    """Per function, since the runtime started: for the benchmark and the logs."""

    invocations: int = 0
    cold_starts: int = 0
    init_ms: list[float] = field(default_factory=list)
    throttles: int = 0
    timeouts: int = 0
    peak_rss_mb: float = 0.0
    max_environments: int = 0


class _Zygote:
    """The process that forks execution environments (see infra/local/lambda_worker.py)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", "infra.local.lambda_worker", str(theirs.fileno())],
            cwd=str(REPO_ROOT),
            env=dict(environ),
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        theirs.close()
        self._lock = threading.Lock()

    def fork(self, environ: Mapping[str, str]) -> tuple[int, int, int]:
        """A new environment: (pid, fd to write requests to, fd to read answers from)."""
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(
                    self._control,
                    [json.dumps({"environ": dict(environ)}).encode()],
                    [requests_r, answers_w],
                )
                reply = self._control.recv(4096)
        finally:
            os.close(requests_r)
            os.close(answers_w)
        if not reply:
            os.close(requests_w)
            os.close(answers_r)
            raise RuntimeError("the local Lambda zygote has exited")
        return int(json.loads(reply)["pid"]), requests_w, answers_r

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self._control.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)


class _Environment:
    """One worker process: started with the function's environment, one request at a time."""

    def __init__(self, zygote: _Zygote, environ: Mapping[str, str], name: str) -> None:
        self.name = name
        self.pid, requests_fd, self._stdout_fd = zygote.fork(environ)
        self._stdin = os.fdopen(requests_fd, "wb")
        os.set_blocking(self._stdout_fd, False)
        self._buffer = b""
        self.last_used = time.monotonic()
        self.init_ms = 0.0
        self.peak_rss_mb = 0.0
        self.init_logs = ""
        self._killed = False

    def wait_ready(self, timeout: float) -> None:
        started = time.monotonic()
        ready = self._read_line(timeout)
        if ready is None:
            self.kill()
            raise RuntimeError(f"{self.name}: the environment did not start within {timeout} s")
        self.init_ms = float(ready.get("init_ms", (time.monotonic() - started) * 1000))
        self.peak_rss_mb = float(ready.get("peak_rss_mb", 0.0))
        self.init_logs = str(ready.get("logs", ""))

    def call(self, event: Any, context: Mapping[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's answer, or None when it did not answer within `timeout` (or died)."""
        line = json.dumps({"event": event, "context": dict(context)}, default=str) + "\n"
        try:
            self._stdin.write(line.encode("utf-8"))
            self._stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        answer = self._read_line(timeout)
        self.last_used = time.monotonic()
        if answer is not None:
            self.peak_rss_mb = max(self.peak_rss_mb, float(answer.get("peak_rss_mb", 0.0)))
        return answer

    def _read_line(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._stdout_fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                try:
                    chunk = os.read(self._stdout_fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:  # the process exited
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        return answer

    @property
    def alive(self) -> bool:
        if self._killed:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        if not self._killed:
            self._killed = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            for close in (self._stdin.close, lambda: os.close(self._stdout_fd)):
                with contextlib.suppress(OSError):
                    close()


class _Pool:
    """The environments of one function configuration (a changed configuration gets new ones)."""

    def __init__(self, name: str, environ: Mapping[str, str], limit: int) -> None:
        self.name = name
        self.environ = dict(environ)
        self.limit = limit
        self.idle: list[_Environment] = []
        self.busy = 0
        self.lock = threading.Lock()

    def acquire(self) -> tuple[_Environment | None, bool]:
        """(a warm environment, False) or (None, True): the caller starts a cold one."""
        with self.lock:
            now = time.monotonic()
            while self.idle:
                environment = self.idle.pop()
                if environment.alive and now - environment.last_used < IDLE_SECONDS:
                    self.busy += 1
                    return environment, False
                environment.kill()
            if self.busy >= self.limit:
                raise Throttled(self.name, self.limit)
            self.busy += 1
            return None, True

    def release(self, environment: _Environment | None, reusable: bool) -> None:
        with self.lock:
            self.busy -= 1
            if environment is not None and reusable and environment.alive:
                self.idle.append(environment)
            elif environment is not None:
                environment.kill()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for environment in idle:
            environment.kill()


_RUNTIMES: weakref.WeakSet[ProcessRuntime] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    for runtime in list(_RUNTIMES):
        runtime.shutdown()


@dataclass(eq=False)
class ProcessRuntime:
    """Execution environments as worker processes; see the module docstring."""

    base_environ: dict[str, str] = field(default_factory=dict)
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT
    enforce_memory: bool = True
    # Copy what handlers print to this process's stderr (tests capture it; `make run` shows
    # it; stdout stays the caller's own, e.g. schedctl's JSON). The benchmark turns it off.
    echo_logs: bool = True
    invocations: int = 0
    stats: dict[str, FunctionStats] = field(default_factory=dict)
    _pools: dict[str, _Pool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _zygote_process: _Zygote | None = None
    _zygote_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        _RUNTIMES.add(self)

    def _zygote(self) -> _Zygote:
        with self._zygote_lock:
            if self._zygote_process is None or not self._zygote_process.alive:
                environ = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
                environ.update(
                    {
                        "PYTHONPATH": str(REPO_ROOT),
                        "PYTHONDONTWRITEBYTECODE": "1",
                        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                        "_LOCAL_LAMBDA_PARENT_PID": str(os.getpid()),
                    }
                )
                self._zygote_process = _Zygote(environ)
            return self._zygote_process

    # ------------------------------------------------------------------ environment

    def environment_for(self, function: FunctionSpec) -> dict[str, str]:
        """The worker's os.environ: what Lambda sets, the local AWS endpoint, the function's
        own variables (passed through untouched, last, so they win)."""
        environ = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
        environ.update({k: os.environ[k] for k in _AWS_PASS_THROUGH if k in os.environ})
        environ.update({k: os.environ[k] for k in _HARNESS_PASS_THROUGH if k in os.environ})
        environ.update(self.base_environ)
        memory = int(function.memory_size or 128)
        task_root = code_root(function)
        environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.function_name}",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                "LAMBDA_TASK_ROOT": str(task_root),
                "_HANDLER": str(function.handler),
                "PYTHONPATH": str(task_root),
                "PYTHONDONTWRITEBYTECODE": "1",
                "_LOCAL_LAMBDA_PARENT_PID": str(os.getpid()),
            }
        )
        environ.update({k: str(v) for k, v in (function.environment_vars or {}).items()})
        return environ

    def _pool(self, function: FunctionSpec) -> _Pool:
        environ = self.environment_for(function)
        reserved = getattr(function, "reserved_concurrency", None)
        limit = int(reserved) if reserved else self.concurrency_limit
        fingerprint = hashlib.sha256(
            json.dumps(
                [environ, str(function.timeout), str(function.memory_size), limit], sort_keys=True
            ).encode()
        ).hexdigest()[:16]
        key = f"{function.function_arn}#{fingerprint}"
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                # A changed configuration: the old environments are retired, as on AWS.
                retired = [k for k in self._pools if k.startswith(function.function_arn + "#")]
                for old_key in retired:
                    self._pools.pop(old_key).close()
                pool = self._pools[key] = _Pool(function.function_name, environ, limit)
            return pool

    # ------------------------------------------------------------------ invoke

    def invoke(self, function: FunctionSpec, event: Any) -> tuple[str, bool, str]:
        """moto's `_invoke_lambda` contract: (payload, errored, logs)."""
        result = self.run(function, event)
        return result.payload, result.errored, result.logs

    def run(self, function: FunctionSpec, event: Any) -> Invocation:
        name = function.function_name
        stats = self._stats(name)
        with self._lock:
            self.invocations += 1
            stats.invocations += 1
        pool = self._pool(function)
        try:
            environment, _ = pool.acquire()
        except Throttled:
            with self._lock:
                stats.throttles += 1
            log.warning("lambda throttled function=%s limit=%d", name, pool.limit)
            raise
        timeout = float(function.timeout or 3)
        memory = int(function.memory_size or 128)
        request_id = str(uuid.uuid4())
        init_ms: float | None = None
        reusable = False
        try:
            if environment is None:
                environment = _Environment(self._zygote(), pool.environ, name)
                environment.wait_ready(INIT_TIMEOUT_SECONDS)
                init_ms = environment.init_ms
                with self._lock:
                    stats.cold_starts += 1
                    stats.init_ms.append(init_ms)
                    stats.max_environments = max(stats.max_environments, pool.busy)
                log.info("lambda cold start function=%s init_ms=%.0f", name, init_ms)
            context = {
                "function_name": name,
                "invoked_function_arn": function.function_arn,
                "memory_limit_in_mb": memory,
                "timeout_seconds": timeout,
                "aws_request_id": request_id,
                "log_group_name": f"/aws/lambda/{name}",
            }
            answer = environment.call(event, context, timeout)
            if answer is None:
                timed_out = environment.alive
                environment.kill()
                if timed_out:
                    with self._lock:
                        stats.timeouts += 1
                    message = f"Task timed out after {timeout:.2f} seconds"
                    log.warning("lambda timed out function=%s request=%s", name, request_id)
                    return Invocation(error_payload("Sandbox.Timedout", message), True, message)
                message = f"RequestId: {request_id} Error: Runtime exited without a reason"
                return Invocation(error_payload("Runtime.ExitError", message), True, message)
            peak = float(answer.get("peak_rss_mb", 0.0))
            with self._lock:
                stats.peak_rss_mb = max(stats.peak_rss_mb, peak)
            logs = (environment.init_logs if init_ms is not None else "") + str(answer["logs"])
            if self.echo_logs and logs:
                sys.stderr.write(logs)
                sys.stderr.flush()
            report = (
                f"REPORT RequestId: {request_id}\tDuration: {answer.get('duration_ms', 0)} ms\t"
                f"Memory Size: {memory} MB\tMax Memory Used: {peak:.0f} MB"
                + (f"\tInit Duration: {init_ms:.1f} ms" if init_ms is not None else "")
            )
            if self.enforce_memory and peak > memory:
                message = f"RequestId: {request_id} Error: Runtime exited: signal: killed"
                log.warning("lambda out of memory function=%s peak_mb=%.0f", name, peak)
                return Invocation(
                    error_payload("Runtime.OutOfMemory", message), True, logs + report + "\n"
                )
            reusable = True
            return Invocation(
                payload=str(answer["payload"]),
                errored=bool(answer["errored"]),
                logs=logs + report + "\n",
                duration_ms=float(answer.get("duration_ms", 0.0)),
                init_ms=init_ms,
                peak_rss_mb=peak,
            )
        except RuntimeError as error:  # the environment could not start
            message = str(error)
            return Invocation(error_payload("Runtime.Unknown", message), True, message)
        finally:
            pool.release(environment, reusable)

    def _stats(self, name: str) -> FunctionStats:
        with self._lock:
            return self.stats.setdefault(name, FunctionStats())

    # ------------------------------------------------------------------ lifecycle

    def figures(self) -> dict[str, Any]:
        """Per function since the runtime started (cumulative: a caller takes differences),
        and the environments alive now: for `make load`'s report."""
        with self._lock:
            functions = {
                name: {
                    "invocations": s.invocations,
                    "cold_starts": s.cold_starts,
                    "init_ms_total": round(sum(s.init_ms), 1),
                    "throttles": s.throttles,
                    "timeouts": s.timeouts,
                    "max_environments": s.max_environments,
                }
                for name, s in self.stats.items()
            }
        return {"functions": functions, "environments": self.environments()}

    def environments(self) -> int:
        """How many worker processes are alive now."""
        with self._lock:
            pools = list(self._pools.values())
        return sum(len(p.idle) + p.busy for p in pools)

    def shutdown(self) -> None:
        """End every environment (idle ones now; busy ones are killed on release)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        with self._zygote_lock:
            zygote, self._zygote_process = self._zygote_process, None
        if zygote is not None:
            zygote.stop()


@dataclass
class ThreadRuntime:
    """The old model: every invocation is a thread of this process (module state shared).

    Not what AWS does; kept so tests can show the cross-talk it causes.
    """

    base_environ: dict[str, str] = field(default_factory=dict)
    invocations: int = 0
    stats: dict[str, FunctionStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function: FunctionSpec, event: Any) -> tuple[str, bool, str]:
        from infra.local.lambda_worker import LambdaContext, resolve_handler
        from tasks.config import function_environment

        with self._lock:
            self.invocations += 1
            self.stats.setdefault(function.function_name, FunctionStats()).invocations += 1
        environ = {**self.base_environ, **(function.environment_vars or {})}
        environ["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
        timeout = float(function.timeout or 3)
        context = LambdaContext(
            {
                "function_name": function.function_name,
                "invoked_function_arn": function.function_arn,
                "memory_limit_in_mb": int(function.memory_size or 128),
                "timeout_seconds": timeout,
                "log_group_name": f"/aws/lambda/{function.function_name}",
            }
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
                outcome["result"] = (error_payload(type(exc).__name__, str(exc), trace), True)

        worker = threading.Thread(target=run, name=f"lambda-{function.function_name}", daemon=True)
        worker.start()
        worker.join(timeout)
        if "result" not in outcome:
            message = f"Task timed out after {timeout:.2f} seconds"
            return error_payload("Sandbox.Timedout", message), True, ""
        payload, errored = outcome["result"]
        return payload, errored, ""

    def shutdown(self) -> None:
        """Nothing to end: threads finish on their own."""
