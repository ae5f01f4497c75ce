"""`make ops-demo`: the local stack with something for an operator to look at.

Starts the embedded stack with bookings on and the chat API with the ops console, then
makes, through the chat API (as customers would) and the PF360 sandbox's faults:

- a booking that went through (CUST001, project 12345);
- a booking whose schedule call PF360 answered 503 through every retry (CUST002, 22345),
  then replayed with `schedctl replay --yes` by one operator and refused for a second;
- a booking whose dates call PF360 refused with 401 (CUST101, 31001) and one whose dates
  call kept answering 503 (CUST001, 12346);
- a customer still choosing a date (CUST101, 31002).

Then it checks them with `schedctl --json`, prints the console URL, the ops token and the
schedctl commands to try, and stays in the foreground until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from infra.local import ports, turn_log
from infra.local.chat_server import ChatServer, local_app, mint_for
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LOCAL_CREDENTIALS, LocalStack, run_in_foreground

OPERATOR, COLLEAGUE = "dana.ops", "sam.ops"
# Retry waits on the engine's virtual clock, shortened so the 503s fail in seconds.
RETRY_WAIT_SCALE = 0.05


class DemoFailed(SystemExit):
    """The demo could not make what it promises (exit status 1, one sentence)."""


@dataclass
class Chat:
    """One customer's chat session over HTTP."""

    api: str
    customer_id: str
    session_id: str | None = None
    choices: tuple[str, ...] = ()

    def say(self, message: str) -> str:
        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        answer = requests.post(
            self.api,
            json=body,
            headers={"Authorization": f"Bearer {mint_for(self.customer_id)}"},
            timeout=120,
        )
        data = answer.json()
        if answer.status_code != 200:
            raise DemoFailed(f"the chat API refused {message!r} for {self.customer_id}: {data}")
        self.session_id = data["session_id"]
        self.choices = tuple(data.get("choices") or ())
        return str(data["response"])

    def choose_first(self, what: str) -> str:
        if not self.choices:
            raise DemoFailed(f"{self.customer_id} was offered no {what}")
        return self.say(self.choices[0])


def step(text: str) -> None:
    print(f"  - {text}", flush=True)


def told(answer: str) -> None:
    print(f"    the customer is told: {answer}", flush=True)


class Schedctl:
    """The operator's CLI, run as an operator would (its own process, the local endpoint)."""

    def __init__(self, endpoint_url: str) -> None:
        self.env = {
            **os.environ,
            **LOCAL_CREDENTIALS,
            "SCHEDCTL_ENDPOINT_URL": endpoint_url,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "ops.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self.run("--json", *args)
        if done.returncode != 0:
            raise DemoFailed(f"schedctl {' '.join(args)} failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def executions(self, *args: str) -> list[dict[str, Any]]:
        rows = self.json("executions", "list", "--limit", "1000", *args)["executions"]
        return list(rows)


def book(chat: Chat, project: str, before_yes: Callable[[], object] | None = None) -> str:
    chat.say(f"schedule project {project}")
    chat.choose_first("dates")
    times = [choice for choice in chat.choices if ":" in choice]
    if not times:
        raise DemoFailed(f"{chat.customer_id} was offered no times")
    chat.say(times[0])
    if before_yes is not None:
        before_yes()
    return chat.say("yes")


def make_executions(api: str, sandbox: SandboxControl, schedctl: Schedctl) -> dict[str, str]:
    """The executions of the walk-through, made through the chat API; returns their names."""
    step("CUST001 books project 12345")
    book(Chat(api, "CUST001"), "1")

    step("CUST002 books project 22345 while PF360 answers 503 to every booking attempt")
    answer = book(
        Chat(api, "CUST002"),
        "1",
        before_yes=lambda: sandbox.add_fault("schedule", "status", status=503, count=10),
    )
    sandbox.clear_faults()
    told(answer)

    step("CUST101 asks to book project 31001 while PF360 refuses the token (401)")
    sandbox.add_fault("dates", "status", status=401, count=1)
    told(Chat(api, "CUST101").say("schedule project 1"))
    sandbox.clear_faults()

    step("CUST001 asks to reschedule project 12346 while PF360's dates call answers 503")
    sandbox.add_fault("dates", "status", status=503, count=10)
    told(Chat(api, "CUST001").say("reschedule project 2"))
    sandbox.clear_faults()

    step("CUST101 asks to reschedule project 31002 and has not chosen a date yet")
    Chat(api, "CUST101").say("reschedule project 2")

    failed_book = latest(schedctl, "acme-corp", "CUST002", "22345")
    step(f"{OPERATOR} replays {failed_book} (PF360 is back)")
    replayed = schedctl.run("--operator", OPERATOR, "replay", failed_book, "--yes")
    if replayed.returncode != 0:
        raise DemoFailed(f"the replay of {failed_book} failed: {replayed.stdout}{replayed.stderr}")
    step(f"{COLLEAGUE} tries the same replay a moment later and is refused")
    schedctl.run("--operator", COLLEAGUE, "replay", failed_book, "--yes")
    return {
        "failed_book": failed_book,
        "waiting": latest(schedctl, "sunrise-homes", "CUST101", "31002"),
    }


def latest(schedctl: Schedctl, client: str, customer: str, project: str) -> str:
    rows = schedctl.executions("--client", client, "--customer", customer, "--project", project)
    if not rows:
        raise DemoFailed(f"no execution for {client}/{customer}/{project}")
    return str(rows[0]["name"])


def check(schedctl: Schedctl, names: dict[str, str]) -> list[dict[str, Any]]:
    """Stop with a sentence unless the stack holds what the demo promises."""
    rows = schedctl.executions("--kind", "all")
    by_status: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    errors = sorted(row.get("error") or "" for row in by_status.get("FAILED", []))
    if errors != ["PF360_AUTH", "PF360_UNAVAILABLE", "PF360_UNAVAILABLE"]:
        raise DemoFailed(f"expected 3 failed bookings (401, 2x 503), found errors {errors}")
    running = [row["name"] for row in by_status.get("RUNNING", [])]
    if running != [names["waiting"]]:
        raise DemoFailed(f"expected one waiting booking ({names['waiting']}), found {running}")
    replays = [row for row in rows if row.get("kind") == "replay"]
    if len(replays) != 1 or replays[0].get("outcome") != "booked":
        raise DemoFailed(f"expected one replay that booked, found {replays}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local stack with executions to operate.")
    parser.add_argument("--port", type=int, default=8080, help="chat page, API and /ops")
    parser.add_argument("--aws-port", type=int, default=5005)
    parser.add_argument("--sandbox-port", type=int, default=8360)
    args = parser.parse_args(argv)
    ports.check_free(
        ports.chat(args.port), ports.aws(args.aws_port), ports.sandbox(args.sandbox_port)
    )
    verbose = turn_log.quiet_unless_verbose()

    print("Starting the local stack with bookings on (AWS, Lambda environments, PF360 sandbox)...")
    stack = LocalStack(
        port=args.aws_port,
        sandbox_port=args.sandbox_port,
        parameter_overrides={"ConfirmScheduleFlag": "1", "CancelScheduleFlag": "1"},
        retry_wait_scale=RETRY_WAIT_SCALE,
    ).start()
    turn_log.echo_lambda_logs(verbose)
    ops_token = os.environ.get("OPS_TOKEN") or secrets.token_urlsafe(18)
    server = ChatServer(local_app(stack, ops_token=ops_token), port=args.port).start()
    try:
        assert stack.sandbox is not None
        schedctl = Schedctl(stack.endpoint_url)
        print("Making executions through the chat API, with PF360 faults from the sandbox:")
        names = make_executions(
            f"{server.base_url}/api/chat/simple", SandboxControl(stack.sandbox.base_url), schedctl
        )
        rows = check(schedctl, names)
    except BaseException:
        server.stop()
        stack.stop()
        raise
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{count} {status.lower()}" for status, count in sorted(counts.items()))
    print(f"\nExecutions: {summary}.")
    print(f"Ops console  : {server.base_url}/ops/  (ops token for replays: {ops_token})")
    print(f"Chat page    : {server.base_url}/")
    print(f"AWS endpoint : {stack.endpoint_url}")
    print(f"PF360 sandbox: {stack.sandbox.base_url}  (its ledger: /__sandbox/bookings)")
    print("schedctl on this stack, in another terminal:")
    print(
        f"  export SCHEDCTL_ENDPOINT_URL={stack.endpoint_url} AWS_ACCESS_KEY_ID=local "
        "AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1"
    )
    print("  .venv/bin/schedctl executions list --status FAILED --since 2h")
    print(f"  .venv/bin/schedctl executions show {names['failed_book']}")
    print(f"  .venv/bin/schedctl executions show {names['waiting']}")
    print("  .venv/bin/schedctl failures --since 2h")
    print(f"  .venv/bin/schedctl audit {names['failed_book']}")
    print("Ctrl-C stops everything.", flush=True)
    run_in_foreground(server.stop, stack.stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
