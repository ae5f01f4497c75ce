"""Local Lambda execution environments: processes that serve one request at a time.

`python -m infra.local.lambda_worker FD` is the zygote that `infra.local.lambda_runtime`
starts once: it imports the heavy third-party libraries, then forks one process per
execution environment. Each environment takes the function's environment as its real
`os.environ` (as on AWS), imports the handler named by `_HANDLER` once (the INIT phase;
module state lives as long as the environment), then reads one JSON request per line and
writes one JSON answer per line. Everything the handler prints (stdout, stderr, logging)
is captured per invocation and sent back as that invocation's log, as Lambda's log tail.

Only the standard library here: the worker must not import the local harness (moto).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes of Lambda's context object that our handlers and Powertools read."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.function_name: str = fields["function_name"]
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(fields["memory_limit_in_mb"])
        self.function_version: str = fields.get("function_version", "$LATEST")
        self.aws_request_id: str = fields.get("aws_request_id") or str(uuid.uuid4())
        self.log_group_name: str = fields.get("log_group_name", "")
        self.log_stream_name: str = fields.get("log_stream_name", "local")
        self._deadline = time.monotonic() + float(fields["timeout_seconds"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def error_payload(error_type: str, message: str, trace: list[str] | None = None) -> str:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": trace or []})


def resolve_handler(handler: str) -> Any:
    """'package.module.function' -> the function."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise ImportError(f"handler {handler!r} is not 'module.function'")
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ImportError(f"handler {handler!r}: {function_name} is not a function")
    return function


def _die_with_parent(parent_pid: int) -> None:
    """End this environment when the process that started it dies (no orphans), even in
    the middle of a handler. (Not prctl's PDEATHSIG: that fires when the parent *thread*
    ends, and environments are started from short-lived request threads.)"""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class _Capture:
    """fd 1 and fd 2 point at one temporary file; each invocation reads what it wrote."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.fd = self._file.fileno()
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)

    def read(self) -> str:
        sys.stdout.flush()
        sys.stderr.flush()
        size = os.fstat(self.fd).st_size
        return os.pread(self.fd, size, 0).decode("utf-8", "replace") if size else ""


def _peak_rss_mb() -> float:
    """This process's peak RSS. /proc's VmHWM, not ru_maxrss: on Linux ru_maxrss carries the
    RSS of the parent that forked us over into the exec'd process."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


CHECKOUT = Path(__file__).resolve().parents[2]


def import_only_from_task_root() -> None:
    """As on Lambda, our code comes from the function's package (LAMBDA_TASK_ROOT, the
    artifact `make package` ships), not from this checkout: the checkout leaves sys.path and
    any of our modules the harness imported first (the AWS call recorder's) are forgotten.
    Third-party packages still come from this interpreter (the layer's pinned versions)."""
    root = os.environ.get("LAMBDA_TASK_ROOT", "")
    if not root or Path(root).resolve() == CHECKOUT:
        return  # a function without a code package (tests' helpers) runs from the checkout
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or name.split(".")[0] == "infra":
            continue
        try:
            top = Path(file).resolve().relative_to(CHECKOUT).parts[0]
        except ValueError:
            continue
        if not top.startswith("."):  # (.venv is the interpreter's, not ours)
            del sys.modules[name]
    checkout = str(CHECKOUT)
    sys.path[:] = [root, *(p for p in sys.path if p not in ("", ".", checkout, root))]
    importlib.invalidate_caches()


def serve(requests_fd: int, protocol_fd: int) -> None:
    """Be one execution environment: INIT the handler, then one request per line, forever."""
    protocol = os.fdopen(protocol_fd, "w", buffering=1, encoding="utf-8")
    requests = os.fdopen(requests_fd, "r", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    capture = _Capture()

    started = time.monotonic()
    handler: Any = None
    init_error: str | None = None
    try:
        if os.environ.get("PF360_AWS_CALL_LOG"):
            # The least-privilege check records this environment's AWS calls too.
            recorder = importlib.import_module("infra.local.aws_call_recorder")
            recorder.install_from_environment()
        import_only_from_task_root()
        handler = resolve_handler(os.environ["_HANDLER"])
    except Exception as exc:  # an import error is every invocation's answer, as on Lambda
        kind = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.Init"
        init_error = error_payload(
            kind, f"Unable to import module: {exc}", traceback.format_exception(exc)
        )
    ready = {
        "ready": True,
        "init_ms": round((time.monotonic() - started) * 1000, 1),
        "logs": capture.read(),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    protocol.write(json.dumps(ready) + "\n")

    for line in requests:
        request = json.loads(line)
        capture.reset()
        began = time.monotonic()
        if init_error is not None:
            payload, errored = init_error, True
        else:
            try:
                result = handler(request["event"], LambdaContext(request["context"]))
                payload, errored = json.dumps(result, default=str), False
            except Exception as exc:  # a handler error is the function's result
                trace = traceback.format_exception(exc)
                payload, errored = error_payload(type(exc).__name__, str(exc), trace), True
        answer = {
            "payload": payload,
            "errored": errored,
            "logs": capture.read(),
            "duration_ms": round((time.monotonic() - began) * 1000, 1),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }
        protocol.write(json.dumps(answer) + "\n")


# Third-party libraries the zygote imports once, so that a cold start forks them in instead
# of importing them again (on AWS they count in INIT; docs/performance.md says so).
PRELOAD = (
    "boto3",
    "botocore.session",
    "botocore.client",
    "requests",
    "pytz",
    "pydantic",
    # pydantic loads its submodules lazily: the ones the action functions' models need.
    "pydantic.main",
    "pydantic.fields",
    "pydantic.type_adapter",
    "pydantic.json_schema",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.params",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.feature_flags",
    "aws_lambda_powertools.utilities.parameters",
    "zoneinfo",
)


WARM_SERVICES = ("dynamodb", "stepfunctions", "lambda", "secretsmanager")


def _warm_boto3() -> None:
    """Load botocore's service models, endpoint rules and retry config once, here: each
    environment's first client then takes ~20 ms instead of ~0.7 s. The throwaway clients
    carry explicit dummy credentials and endpoint, so nothing about credentials, region or
    endpoint is resolved here: each environment resolves them from its own os.environ."""
    try:
        import boto3

        boto3.setup_default_session()
        options = {
            "region_name": "us-east-1",
            "aws_access_key_id": "warm",
            "aws_secret_access_key": "warm",
            "endpoint_url": "http://127.0.0.1:9",
        }
        for service in WARM_SERVICES:
            boto3.client(service, **options)
        boto3.resource("dynamodb", **options)
    except Exception:  # noqa: S110 - a cold environment just loads them itself
        pass


def zygote(control_fd: int) -> int:
    """Fork execution environments on request, each with the environment it is sent.

    The runtime sends `{"environ": {...}}` with two pipe ends (requests in, answers out) over
    a SOCK_SEQPACKET socket; the zygote forks, answers with the child's pid, and the child
    takes the function's environment as its os.environ and serves. Our own code is never
    imported here: each environment imports its handler (and its module state) itself.
    """
    import socket

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    _warm_boto3()
    # What was preloaded is shared by every environment and lives as long as it: kept out
    # of the collector's full collections (which walked it all, in the middle of a
    # handler), and its pages stay shared with the zygote instead of being touched.
    gc.collect()
    gc.freeze()
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    parent = int(os.environ.get("_LOCAL_LAMBDA_PARENT_PID", "0"))
    if parent:
        _die_with_parent(parent)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 2)
        except OSError:
            return 0
        if not message:
            return 0
        environ = json.loads(message)["environ"]
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                control.close()
                os.environ.clear()
                os.environ.update(environ)
                root = environ.get("LAMBDA_TASK_ROOT")
                if root and root not in sys.path:
                    sys.path.insert(0, root)
                _die_with_parent(os.getppid())
                serve(fds[0], fds[1])
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    raise SystemExit(zygote(int(sys.argv[1])))
