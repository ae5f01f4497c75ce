"""The chat API on the local stack for `make load`, away from locust (gevent's
monkey-patching must not reach the stack).

Two processes by default: this one adds the generated load tenants to the sandbox seed and
runs the stack (moto's server, the Step Functions engine, the PF360 sandbox; the Lambda
execution environments are processes of their own); a child (`--chat-only`) runs the chat
API with the local agent, reaching the stack over HTTP as any AWS client does. The chat
API's Flask, token checks and boto3 client calls then no longer take turns with moto and
the engine for this process's GIL. `--chat-in-process` keeps the older one-process setup,
to compare.

The chat API serves at most `--chat-threads` turns at once (waitress's worker threads);
further requests wait in its queue, as at any server with a fixed pool. On this 2-core
machine more turns at once than the stack can serve only multiply the functions'
execution environments (each a cold start) and the checkpoint polls, and throughput falls
(docs/performance.md, "make load").

Prints one JSON line with the URLs and the load customers, then reads commands from stdin,
one a line: `stats` prints the Lambda runtime's figures as one JSON line. Serves until
stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

import requests
from waitress.server import create_server

from infra.local.chat_server import RemoteStack, StackView, local_app, serve_until_closed
from infra.local.dev_tokens import mint_customer_token
from infra.local.lambda_runtime import ProcessRuntime
from infra.local.pf360_sandbox import seed
from infra.local.stack import LocalStack
from tests.load.children import end_child

DEFAULT_CHAT_THREADS = 16


def warm_up(chat_url: str, customers: list[seed.SeedCustomer]) -> None:
    """Start execution environments before measuring: conversations at once up to the time
    question, answered "no" (nothing is booked). What a steady service looks like; cold
    starts are measured by `make bench` instead."""

    def converse(customer: seed.SeedCustomer) -> None:
        token = mint_customer_token(customer.customer_id, customer.client_id)
        headers = {"Authorization": f"Bearer {token}"}
        session_id = None
        reply: dict[str, Any] = {}
        for message in ("show my projects", "schedule project 1", "", "", "no"):
            choices = [c for c in reply.get("choices") or [] if any(ch.isdigit() for ch in c)]
            text = message or (choices[0] if choices else "show my projects")
            body: dict[str, Any] = {"message": text}
            if session_id:
                body["session_id"] = session_id
            response = requests.post(
                f"{chat_url}/api/chat/simple", json=body, headers=headers, timeout=120
            )
            reply = response.json()
            session_id = reply.get("session_id") or session_id

    with ThreadPoolExecutor(max(1, len(customers))) as pool:
        list(pool.map(converse, customers))


def runtime_stats(runtime: Any) -> dict[str, Any]:
    """The Lambda runtime's figures (`ProcessRuntime.figures`); none for the thread model."""
    if isinstance(runtime, ProcessRuntime):
        return runtime.figures()
    return {"functions": {}, "environments": 0}


class ChatProcess:
    """The chat API in a child process (`--chat-only`), pointed at this process's stack."""

    def __init__(self, stack: StackView, args: argparse.Namespace) -> None:
        assert stack.deployed is not None
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.load.serve",
                "--chat-only",
                "--chat-threads",
                str(args.chat_threads),
                "--tenants",
                str(args.tenants),
                "--customers-per-tenant",
                str(args.customers_per_tenant),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        remote = RemoteStack(stack.endpoint_url, stack.region, stack.deployed)
        self.process.stdin.write(json.dumps(remote.to_dict()) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the chat API process exited before it served")
        self.url = str(json.loads(line)["chat_url"])
        # Anything it prints later goes to stderr: an unread pipe would fill and stop it.
        threading.Thread(
            target=copy_lines, args=(self.process.stdout, sys.stderr), daemon=True
        ).start()

    def stop(self) -> None:
        end_child(self.process)


def copy_lines(source: IO[str], target: IO[str]) -> None:
    for line in source:
        target.write(line)


def serve_chat(stack: StackView, threads: int) -> tuple[str, threading.Event, Any]:
    """The chat API on waitress in a thread: (its URL, the stop flag, the server)."""
    # waitress warns at every request that waits for a thread: that is the design here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(
        local_app(stack), host="127.0.0.1", port=0, threads=threads, connection_limit=512
    )
    stopping = threading.Event()
    threading.Thread(
        target=serve_until_closed, args=(server, stopping), name="chat-api", daemon=True
    ).start()
    return f"http://127.0.0.1:{server.effective_port}", stopping, server


def chat_only(args: argparse.Namespace) -> int:
    """The child: read the stack's JSON from stdin, serve the chat API until stdin closes."""
    seed.add_load_data(args.tenants, args.customers_per_tenant)  # the tenants' time zones
    remote = RemoteStack.from_dict(json.loads(sys.stdin.readline()))
    os.environ["AWS_ENDPOINT_URL"] = remote.endpoint_url
    url, stopping, server = serve_chat(remote, args.chat_threads)
    print(json.dumps({"chat_url": url}), flush=True)
    wait_for_stop(sys.stdin, lambda _: None)
    stopping.set()
    server.close()
    return 0


def wait_for_stop(commands: IO[str], on_command: Any) -> None:
    """Until `commands` closes or SIGTERM: each line is handed to `on_command`."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())

    def read() -> None:
        for line in commands:
            if line.strip():
                on_command(line.strip())
        stopped.set()

    threading.Thread(target=read, daemon=True).start()
    stopped.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--customers-per-tenant", type=int, default=12)
    # Above the users: a closed-loop user holds at most one invocation per function.
    parser.add_argument("--lambda-concurrency", type=int, default=110)
    parser.add_argument(
        "--chat-threads",
        type=int,
        default=DEFAULT_CHAT_THREADS,
        help="turns the chat API serves at once; the others wait in its queue",
    )
    parser.add_argument(
        "--chat-in-process", action="store_true", help="the chat API in the stack's process"
    )
    parser.add_argument("--chat-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--warm-environments", type=int, default=12, help="conversations run at once first"
    )
    args = parser.parse_args(argv)
    if args.chat_only:
        return chat_only(args)

    customers = seed.add_load_data(args.tenants, args.customers_per_tenant)
    stack = LocalStack(
        port=0,
        sandbox_port=0,
        parameter_overrides={"ConfirmScheduleFlag": "1", "CancelScheduleFlag": "1"},
        lambda_concurrency=args.lambda_concurrency,
        ttl_sweep_seconds=0,
    ).start()
    if isinstance(stack.lambda_runtime, ProcessRuntime):
        stack.lambda_runtime.echo_logs = False
    stop_chat: Any
    if args.chat_in_process:
        chat_url, stopping, server = serve_chat(stack, args.chat_threads)

        def stop_chat() -> None:
            stopping.set()
            server.close()

    else:
        chat = ChatProcess(stack, args)
        chat_url, stop_chat = chat.url, chat.stop
    assert stack.sandbox is not None
    warm_up(chat_url, customers[: args.warm_environments])
    print(
        json.dumps(
            {
                "chat_url": chat_url,
                "sandbox_url": stack.sandbox.base_url,
                "chat_threads": args.chat_threads,
                "chat_in_process": args.chat_in_process,
                "customers": [
                    {"customer_id": c.customer_id, "client_id": c.client_id} for c in customers
                ],
            }
        ),
        flush=True,
    )

    def on_command(command: str) -> None:
        if command == "stats":
            print(json.dumps(runtime_stats(stack.lambda_runtime)), flush=True)

    wait_for_stop(sys.stdin, on_command)
    stop_chat()
    stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
