"""Serve the chat API with a production WSGI server (waitress), locally or on AWS.

`python -m agent_bridge.chat.server` (`make run`) starts the embedded local stack (AWS,
in-process Lambdas, PF360 sandbox), the local agent driving the deployed action-group
Lambdas, and the chat page, in the foreground. `ChatServer` does the same in a thread for
the demo and the tests.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from flask import Flask
from waitress.server import create_server

from agent_bridge.chat.action_invoker import LambdaActionInvoker
from agent_bridge.chat.app import create_app
from agent_bridge.chat.auth import AuthConfig, TokenValidator
from agent_bridge.chat.local_agent import LocalAgent
from agent_bridge.chat.runtime import AgentRuntime
from agent_bridge.sessions import SessionStore
from infra.local.dev_tokens import mint_customer_token
from infra.local.stack import LocalStack

ACTION_FUNCTIONS = {
    "scheduling-actions": "SchedulingActionsFunction",
    "information-actions": "InformationActionsFunction",
    "notes-actions": "NotesActionsFunction",
}


def sandbox_customers() -> list[dict[str, str]]:
    """Who can sign in locally: the sandbox's seed customers."""
    from infra.local.pf360_sandbox import CLIENTS, CUSTOMERS

    return [
        {
            "customer_id": customer.customer_id,
            "name": customer.name,
            "client_id": customer.client_id,
            "client_name": CLIENTS[customer.client_id].client_name,
        }
        for customer in CUSTOMERS.values()
    ]


def mint_for(customer_id: str) -> str:
    customer = next(c for c in sandbox_customers() if c["customer_id"] == customer_id)
    return mint_customer_token(customer_id, customer["client_id"], customer["client_name"])


def local_app(stack: LocalStack, runtime: AgentRuntime | None = None) -> Flask:
    """The chat API wired to the local stack: dev-secret auth, local agent, sign-in picker."""
    assert stack.deployed is not None
    deployed = stack.deployed
    sessions = SessionStore(
        boto3.resource("dynamodb", region_name=stack.region).Table(deployed.tables["SessionsTable"])
    )
    if runtime is None:
        invoker = LambdaActionInvoker(
            stack.client("lambda"),
            {group: deployed.functions[logical] for group, logical in ACTION_FUNCTIONS.items()},
        )
        runtime = LocalAgent(invoker)
    return create_app(
        validator=TokenValidator(AuthConfig.from_environ({"AUTH_MODE": "local"})),
        sessions=sessions,
        runtime=runtime,
        environment=deployed.parameters.get("Environment", "dev"),
        local_sign_in=sandbox_customers,
        mint_local_token=mint_for,
    )


@dataclass
class ChatServer:
    """The chat API on waitress in a background thread (port 0 = any free port)."""

    app: Flask
    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> ChatServer:
        self._server = create_server(self.app, host=self.host, port=self.port, threads=8)
        self._thread = threading.Thread(target=self._server.run, name="chat-api", daemon=True)
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._server.effective_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the chat page and API on the local stack.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--aws-port", type=int, default=5005)
    parser.add_argument("--sandbox-port", type=int, default=8360)
    args = parser.parse_args(argv)

    print("Starting the local stack (AWS, in-process Lambdas, PF360 sandbox)...", flush=True)
    stack = LocalStack(
        port=args.aws_port,
        sandbox_port=args.sandbox_port,
        parameter_overrides={"ConfirmScheduleFlag": "1", "CancelScheduleFlag": "1"},
    ).start()
    server = ChatServer(local_app(stack), host=args.host, port=args.port).start()
    print(f"Chat page        : {server.base_url}/")
    print(f"Chat API         : POST {server.base_url}/api/chat/simple")
    print(f"AWS endpoint     : {stack.endpoint_url}")
    if stack.sandbox is not None:
        print(f"PF360 sandbox    : {stack.sandbox.base_url}")
    print("Sign in on the page as a sandbox customer (CUST001 Dana Whitfield is a good start),")
    print("or get a token with: make token CUSTOMER=CUST001 CLIENT=acme-corp")
    print("Ctrl-C stops everything.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
