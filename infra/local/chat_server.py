"""The local composition of the chat API: the production Flask app on waitress, wired to
the local stack, dev tokens and the sandbox's customers.

Moved here from agent_bridge/chat/server.py: production code never imports the local
harness, the local side composes the production parts.

`python -m infra.local.chat_server` (`make run`) starts the embedded local stack (AWS,
Lambdas in worker processes, PF360 sandbox), the local agent driving the deployed action-group
Lambdas, the chat page and the operations console (`/ops`), in the foreground.
`ChatServer` does the same in a thread for the demo and the tests.
"""

from __future__ import annotations

import argparse
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import boto3
from flask import Flask
from waitress.server import create_server

from agent_bridge.chat.action_invoker import LambdaActionInvoker
from agent_bridge.chat.app import create_app
from agent_bridge.chat.auth import TokenValidator
from agent_bridge.chat.local_agent import LocalAgent
from agent_bridge.chat.runtime import AgentRuntime
from agent_bridge.sessions import SessionStore
from infra.local import ports, turn_log
from infra.local.dev_tokens import local_auth_config, mint_customer_token
from infra.local.stack import LocalStack, run_in_foreground
from infra.local.template_loader import DeployedStack
from infra.local.tenant_zones import template_parameter, today_for
from ops.context import OpsContext
from ops.web import ops_console

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
    return mint_customer_token(
        customer_id, customer["client_id"], customer["client_name"], name=customer["name"]
    )


class StackView(Protocol):
    """What the chat API needs of a local stack: `LocalStack` in this process, or
    `RemoteStack` for one that runs in another process."""

    region: str

    @property
    def deployed(self) -> DeployedStack | None: ...

    @property
    def endpoint_url(self) -> str: ...

    def client(self, service: str, **options: Any) -> Any: ...


@dataclass
class RemoteStack:
    """A local stack started by another process (its moto server and engine keep their own
    GIL): what the chat API needs to reach it, over HTTP like any AWS client."""

    endpoint_url: str
    region: str
    deployed: DeployedStack

    @classmethod
    def of(cls, stack: LocalStack) -> RemoteStack:
        assert stack.deployed is not None
        return cls(stack.endpoint_url, stack.region, stack.deployed)

    def to_dict(self) -> dict[str, Any]:
        """JSON for the other process (`from_dict` reads it back)."""
        return {"endpoint_url": self.endpoint_url, "deployed": asdict(self.deployed)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RemoteStack:
        deployed = DeployedStack(**data["deployed"])
        return cls(str(data["endpoint_url"]), deployed.region, deployed)

    def client(self, service: str, **options: Any) -> Any:
        return boto3.client(
            service, region_name=self.region, endpoint_url=self.endpoint_url, **options
        )


def local_ops_context(stack: StackView) -> OpsContext:
    """The operator's view of the local stack: same boto3 calls as on AWS, other endpoint."""
    assert stack.deployed is not None
    return OpsContext(
        environment=stack.deployed.parameters.get("Environment", "dev"),
        region=stack.region,
        endpoint_url=stack.endpoint_url,
    )


def local_app(
    stack: StackView, runtime: AgentRuntime | None = None, *, ops_token: str | None = None
) -> Flask:
    """The chat API wired to the local stack: dev-secret auth, local agent, sign-in picker;
    and the operations console under /ops, able to replay with `ops_token` (default: the
    OPS_TOKEN variable; neither -> a read-only console)."""
    assert stack.deployed is not None
    deployed = stack.deployed
    sessions = SessionStore(
        boto3.resource("dynamodb", region_name=stack.region, endpoint_url=stack.endpoint_url).Table(
            deployed.tables["SessionsTable"]
        )
    )
    if runtime is None:
        invoker = LambdaActionInvoker(
            stack.client("lambda"),
            {group: deployed.functions[logical] for group, logical in ACTION_FUNCTIONS.items()},
        )
        runtime = LocalAgent(invoker, today_for=today_for(sessions))
    app = create_app(
        validator=TokenValidator(local_auth_config()),
        sessions=sessions,
        runtime=runtime,
        environment=deployed.parameters.get("Environment", "dev"),
        local_sign_in=sandbox_customers,
        mint_local_token=mint_for,
    )
    token = ops_token if ops_token is not None else os.environ.get("OPS_TOKEN")
    app.register_blueprint(ops_console(lambda: local_ops_context(stack), token))
    return app


@dataclass
class ChatServer:
    """The chat API on waitress in a background thread (port 0 = any free port)."""

    app: Flask
    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def start(self) -> ChatServer:
        self._server = create_server(self.app, host=self.host, port=self.port, threads=8)
        self._thread = threading.Thread(
            target=serve_until_closed, args=(self._server, self._stopping), name="chat-api"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._server.effective_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()
            self._server.close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)


def serve_until_closed(server: Any, stopping: threading.Event) -> None:
    """waitress's loop, which fails on the sockets `close()` pulls from under it: that
    is the stop asked for, not an error to print."""
    try:
        server.run()
    except (OSError, ValueError):
        if not stopping.is_set():
            raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the chat page and API on the local stack.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--aws-port", type=int, default=5005)
    parser.add_argument("--sandbox-port", type=int, default=8360)
    args = parser.parse_args(argv)
    ports.check_free(
        ports.chat(args.port, args.host), ports.aws(args.aws_port), ports.sandbox(args.sandbox_port)
    )

    verbose = turn_log.quiet_unless_verbose()
    print(
        "Starting the local stack (AWS, Lambdas in worker processes, PF360 sandbox)...", flush=True
    )
    stack = LocalStack(
        port=args.aws_port,
        sandbox_port=args.sandbox_port,
        parameter_overrides={
            "ConfirmScheduleFlag": "1",
            "CancelScheduleFlag": "1",
            "TenantTimezones": template_parameter(),
        },
    ).start()
    turn_log.echo_lambda_logs(verbose)
    ops_token = os.environ.get("OPS_TOKEN") or secrets.token_urlsafe(18)
    server = ChatServer(
        local_app(stack, turn_log.local_runtime(stack, ACTION_FUNCTIONS), ops_token=ops_token),
        host=args.host,
        port=args.port,
    ).start()
    print(f"Chat page        : {server.base_url}/")
    print(f"Chat API         : POST {server.base_url}/api/chat/simple")
    token_note = "from OPS_TOKEN" if os.environ.get("OPS_TOKEN") else ops_token
    print(f"Ops console      : {server.base_url}/ops/  (ops token for replays: {token_note})")
    print(f"AWS endpoint     : {stack.endpoint_url}")
    if stack.sandbox is not None:
        print(f"PF360 sandbox    : {stack.sandbox.base_url}")
    print("Sign in on the page as a sandbox customer (CUST001 Dana Whitfield is a good start),")
    print("or get a token with: make token CUSTOMER=CUST001 CLIENT=acme-corp")
    print(turn_log.hint(verbose))
    print("Ctrl-C stops everything.", flush=True)
    run_in_foreground(server.stop, stack.stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
