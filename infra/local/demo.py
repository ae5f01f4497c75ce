"""`make demo`: a whole conversation through the chat API on the embedded local stack.

Starts AWS (moto + local Lambda environments), the PF360 sandbox and the chat API (waitress), signs
in as a sandbox customer and talks over HTTP, like the web page does: list projects ->
schedule one -> pick a date -> pick a time -> confirm -> booked -> add a note -> show the
notes -> cancel another project. It exits 0 only when the sandbox ledger holds the booking
and the cancellation.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import requests

from infra.local import turn_log
from infra.local.chat_server import ChatServer, local_app, mint_for
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from infra.local.tenant_zones import template_parameter

CUSTOMER_ID = "CUST001"
WIDTH = 96


def show(who: str, text: str) -> None:
    lines = textwrap.wrap(text, WIDTH, replace_whitespace=False) or [""]
    for index, line in enumerate("\n".join(lines).splitlines()):
        print(f"{who if index == 0 else '':>10} | {line}", flush=True)


class Conversation:
    """One customer talking to the chat API over HTTP."""

    def __init__(self, base_url: str, token: str) -> None:
        self.url = f"{base_url}/api/chat/simple"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.session_id: str | None = None
        self.choices: list[str] = []

    def say(self, message: str) -> str:
        show("customer", message)
        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        response = requests.post(self.url, json=body, headers=self.headers, timeout=60)
        answer = response.json()
        if response.status_code != 200:
            show("assistant", f"[{response.status_code}] {answer.get('error')}")
            raise SystemExit(f"the chat API refused a demo message: {answer}")
        self.session_id = answer["session_id"]
        self.choices = answer.get("choices") or []
        show("assistant", answer["response"])
        for card in answer.get("cards") or []:
            when = f", {card['appointment']}" if card.get("appointment") else ""
            show("", f"[{card['title']}] {card['status']}{when} ({card['url']})")
        return str(answer["response"])


def main() -> int:
    # The conversation is the show: the Lambdas' JSON logs only with VERBOSE=1.
    verbose = turn_log.quiet_unless_verbose()
    print("Starting the embedded local stack (AWS + Lambda environments + PF360 sandbox)...")
    stack = LocalStack(
        parameter_overrides={
            "ConfirmScheduleFlag": "1",
            "CancelScheduleFlag": "1",
            "TenantTimezones": template_parameter(),
        },
        ttl_sweep_seconds=0,
    ).start()
    turn_log.echo_lambda_logs(verbose)
    server = ChatServer(local_app(stack)).start()
    try:
        assert stack.sandbox is not None
        show("stack", f"chat API {server.base_url}, AWS {stack.endpoint_url}")
        show("stack", f"PF360 sandbox {stack.sandbox.base_url}; signed in as {CUSTOMER_ID}")
        print()
        chat = Conversation(server.base_url, mint_for(CUSTOMER_ID))
        chat.say("Hi, show me my projects")
        chat.say("I'd like to schedule project 1")
        if not chat.choices:
            raise SystemExit("no dates were offered")
        chat.say(chat.choices[0])
        times = [c for c in chat.choices if ":" in c]
        if not times:
            raise SystemExit("no times were offered")
        chat.say(times[0])
        chat.say("yes")
        chat.say("Add a note to project 1: The gate code is 4321, please ring twice.")
        chat.say("Show the notes for project 1")
        chat.say("Cancel project 2")
        chat.say("yes")
        print()

        ledger = SandboxControl(stack.sandbox.base_url).bookings()
        booked = [b for b in ledger if b["action"] == "book" and b["project_id"] == "12345"]
        cancelled = [b for b in ledger if b["action"] == "cancel" and b["project_id"] == "12346"]
        for entry in ledger:
            show(
                "ledger",
                f"#{entry['seq']} {entry['action']} project {entry['project_id']} "
                f"{entry.get('date') or ''} {entry.get('time') or ''}".rstrip(),
            )
        if len(booked) != 1 or len(cancelled) != 1:
            show("demo", f"FAILED: {len(booked)} bookings and {len(cancelled)} cancellations")
            return 1
        show("demo", "OK: the sandbox ledger holds the booking and the cancellation")
        return 0
    finally:
        server.stop()
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
