"""The chat API on the local stack for `make load`, in its own process (locust runs in
another: gevent's monkey-patching must not reach the stack).

Adds the generated load tenants to the sandbox seed, starts the stack (sandbox included)
and the chat API with the local agent, prints one JSON line with the URLs and the load
customers, and serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from waitress.server import create_server

from infra.local.chat_server import local_app, serve_until_closed
from infra.local.dev_tokens import mint_customer_token
from infra.local.lambda_runtime import ProcessRuntime
from infra.local.pf360_sandbox import seed
from infra.local.stack import LocalStack


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--customers-per-tenant", type=int, default=12)
    # Above the users: a closed-loop user holds at most one invocation per function.
    parser.add_argument("--lambda-concurrency", type=int, default=110)
    parser.add_argument("--threads", type=int, default=128)
    parser.add_argument(
        "--warm-environments", type=int, default=12, help="conversations run at once first"
    )
    args = parser.parse_args(argv)

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
    server = create_server(
        local_app(stack), host="127.0.0.1", port=0, threads=args.threads, connection_limit=512
    )
    stopping = threading.Event()
    threading.Thread(
        target=serve_until_closed, args=(server, stopping), name="chat-api", daemon=True
    ).start()
    assert stack.sandbox is not None
    chat_url = f"http://127.0.0.1:{server.effective_port}"
    warm_up(chat_url, customers[: args.warm_environments])
    print(
        json.dumps(
            {
                "chat_url": chat_url,
                "sandbox_url": stack.sandbox.base_url,
                "customers": [
                    {"customer_id": c.customer_id, "client_id": c.client_id} for c in customers
                ],
            }
        ),
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stopped.set()), daemon=True).start()
    stopped.wait()
    stopping.set()
    server.close()
    stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
