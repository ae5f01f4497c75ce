"""The benchmark's caller in its own process: `lambda.invoke` as Bedrock makes it, timed there.

Bedrock Agents invoke an action-group Lambda from outside Lambda and DynamoDB. Made from a
thread of the local stack's process, the benchmark's own invoke (botocore building, signing,
sending and parsing it) ran on the interpreter that also runs moto and the engine, so each
turn of both designs paid for the caller's CPU twice: in its own time and in moto's. The
caller now runs in a process of its own (as the chat API does in `make load`), keeps one
boto3 client, and times each invoke where it is made; the request and the answer travel
to and from it over a pipe, outside the timed window.

    python -m tests.bench.caller <endpoint_url> <region>    # JSON lines on stdin/stdout
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import IO, Any

from botocore.config import Config

# Longer than any turn's own deadline (the flow driver gives up after 10 s), never retried:
# a retried invoke would run the turn twice.
INVOKE_CONFIG = Config(read_timeout=60, connect_timeout=5, retries={"max_attempts": 0})


def serve(endpoint_url: str, region: str, requests: IO[str], answers: IO[str]) -> None:
    """Invoke what each line of `requests` asks for; answer with the time and the payload."""
    import boto3

    client = boto3.client(
        "lambda", region_name=region, endpoint_url=endpoint_url, config=INVOKE_CONFIG
    )
    for line in requests:
        request = json.loads(line)
        started = time.perf_counter()
        response = client.invoke(
            FunctionName=request["function"], Payload=request["payload"].encode()
        )
        raw = response["Payload"].read()
        elapsed_ms = (time.perf_counter() - started) * 1000
        answers.write(json.dumps({"elapsed_ms": elapsed_ms, "payload": raw.decode()}) + "\n")
        answers.flush()


class CallerProcess:
    """The parent's end: `invoke` returns (milliseconds as timed by the caller, payload)."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.caller", endpoint_url, region],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def invoke(self, function: str, payload: str) -> tuple[float, bytes]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps({"function": function, "payload": payload}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the caller process ended (exit code {self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return float(answer["elapsed_ms"]), str(answer["payload"]).encode()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.stdin, sys.stdout)
