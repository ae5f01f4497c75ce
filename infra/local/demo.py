"""`make demo`: start the local stack and book an appointment through the PF360 client.

Scripted for now (list projects -> dates -> slots -> book), printed readably; it exits 0
only when the sandbox's ledger holds the booking it made.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import pytz

from infra.local.dev_tokens import mint_customer_token
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tasks.config import load_settings
from tasks.pf360 import PF360Client

CUSTOMER_ID = "CUST001"
CLIENT_ID = "acme-corp"


def say(who: str, text: str) -> None:
    print(f"{who:>10} | {text}", flush=True)


def run_self_check(stack: LocalStack) -> None:
    """Prove the AWS side: a state machine from the template runs our Lambda."""
    assert stack.deployed is not None
    sfn = stack.client("stepfunctions")
    arn = stack.deployed.state_machines["SelfCheckStateMachine"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"echo": "demo"}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=execution["executionArn"])
        if status["status"] != "RUNNING":
            break
        time.sleep(0.1)
    if status["status"] != "SUCCEEDED":
        raise SystemExit(f"self-check execution ended {status['status']}: {status.get('error')}")
    report = json.loads(status["output"])
    say("stack", f"self-check state machine SUCCEEDED in environment {report['environment']!r}")


def main() -> int:
    print("Starting the embedded local stack (moto + in-process Lambdas + PF360 sandbox)...")
    stack = LocalStack(port=0, sandbox_port=0).start()
    try:
        assert stack.sandbox is not None
        say("stack", f"AWS endpoint {stack.endpoint_url}, PF360 sandbox {stack.sandbox.base_url}")
        run_self_check(stack)

        settings = load_settings({"CUSTOMER_SCHEDULER_BASE_API_URL": stack.sandbox.base_url})
        token = mint_customer_token(CUSTOMER_ID, CLIENT_ID)
        client = PF360Client(
            stack.sandbox.base_url,
            CLIENT_ID,
            token,
            timeout=settings.api_timeout,
            client_name=CLIENT_ID,
            environment=settings.environment,
        )
        say("customer", f"signed in as {CUSTOMER_ID} of {CLIENT_ID}; show me my projects")
        projects = client.list_projects(CUSTOMER_ID)
        for project in projects:
            when = f", scheduled {project.scheduled_date}" if project.scheduled_date else ""
            say(
                "pf360",
                f"{project.project_number}. {project.project_type} {project.category} "
                f"({project.order_number}) - {project.status}{when}",
            )
        target = next(p for p in projects if p.status == "Unscheduled")
        say("customer", f"schedule project {target.project_number} ({target.order_number})")

        today = datetime.now(pytz.timezone(settings.timezone_for(CLIENT_ID))).date()
        offer = client.get_available_dates(target.project_id, today)
        say("pf360", f"available dates: {', '.join(offer.dates[:5])} ...")
        day = offer.dates[0]
        say("customer", f"{day} please")
        slots = client.get_time_slots(target.project_id, day, offer.request_id)
        say("pf360", f"free times on {day}: {', '.join(slots)}")
        time_slot = slots[0]
        say("customer", f"{time_slot} works")
        result = client.schedule(target.project_id, day, time_slot, offer.request_id)
        say("pf360", result.message)

        ledger = SandboxControl(stack.sandbox.base_url).bookings()
        booked = [
            b
            for b in ledger
            if b["action"] == "book"
            and b["project_id"] == target.project_id
            and b["date"] == day
            and b["time"] == time_slot
        ]
        if len(booked) != 1:
            say("demo", f"FAILED: the sandbox ledger holds {len(booked)} matching bookings")
            return 1
        entry = booked[0]
        say(
            "ledger",
            f"#{entry['seq']} book {entry['project_id']} on {entry['date']} at {entry['time']} "
            f"(created_at {entry['created_at']} IST)",
        )
        print(f"{target.project_url}")
        say("demo", "OK: the booking is in the PF360 sandbox ledger")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
