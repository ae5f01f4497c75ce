"""`make bench-workflow`: cost and latency of the booking workflow on the local engine.

Books N appointments (default 50) through the flow driver against the PF360 sandbox, then
prints, per completed booking, the state transitions (Standard workflows bill each one)
and Lambda invocations, and per customer turn the latency p50/p95:
start -> dates, date -> slots, time -> booked. A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

import boto3

from agent_bridge.flow_driver import FlowDriver
from infra.local.dev_tokens import mint_customer_token
from infra.local.stack import LocalStack
from tasks.session_record import SessionRecord

CUSTOMER, CLIENT, PROJECT, TIMEZONE = "CUST001", "acme-corp", "12345", "America/New_York"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def count_events(sfn: Any, execution_arn: str) -> tuple[int, int]:
    """(state transitions, Lambda invocations) of one execution, from its history."""
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    transitions = sum(1 for e in events if e["type"].endswith("StateEntered"))
    invocations = sum(
        1 for e in events if e["type"] in ("TaskScheduled", "LambdaFunctionScheduled")
    )
    return transitions, invocations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flows", type=int, default=50)
    args = parser.parse_args(argv)

    stack = LocalStack(
        parameter_overrides={"ConfirmScheduleFlag": "1", "ApiTimeoutSeconds": "5"},
        ttl_sweep_seconds=0,
    ).start()
    try:
        assert stack.deployed is not None
        dynamodb = boto3.resource("dynamodb", region_name=stack.region)
        sessions = dynamodb.Table(stack.deployed.tables["SessionsTable"])
        sfn = stack.client("stepfunctions")
        driver = FlowDriver(
            flows_table=dynamodb.Table(stack.deployed.tables["FlowsTable"]),
            booking_state_machine_arn=stack.deployed.state_machines["BookingStateMachine"],
            cancellation_state_machine_arn=stack.deployed.state_machines[
                "CancellationStateMachine"
            ],
            sfn=sfn,
            poll_interval=0.01,
            deadline_seconds=30,
        )
        token = "Bearer " + mint_customer_token(CUSTOMER, CLIENT, ttl_seconds=7200)
        turns: dict[str, list[float]] = {
            "start -> dates": [],
            "date -> slots": [],
            "time -> booked": [],
        }
        transitions: list[int] = []
        invocations: list[int] = []
        failures = 0
        print(f"Booking {args.flows} appointments on the local engine...", flush=True)
        for index in range(args.flows):
            session = SessionRecord(
                f"bench-{uuid.uuid4().hex}",
                CUSTOMER,
                CLIENT,
                CLIENT,
                "dev",
                token,
                int(time.time()) + 7200,
            )
            sessions.put_item(Item=session.to_item())
            started = time.perf_counter()
            view = driver.start_booking(session, PROJECT, TIMEZONE)
            turns["start -> dates"].append(time.perf_counter() - started)
            dates = view.offer.get("dates", [])
            if view.step != "await_date" or not dates:
                failures += 1
                continue
            started = time.perf_counter()
            view = driver.resume(session.session_id, {"date": dates[index % len(dates)]})
            turns["date -> slots"].append(time.perf_counter() - started)
            times = view.offer.get("times", [])
            if view.step != "await_slot" or not times:
                failures += 1
                continue
            started = time.perf_counter()
            view = driver.resume(session.session_id, {"time": times[0]})
            turns["time -> booked"].append(time.perf_counter() - started)
            if view.outcome != "booked" or not view.execution_arn:
                failures += 1
                continue
            deadline = time.monotonic() + 10
            while sfn.describe_execution(executionArn=view.execution_arn)["status"] == "RUNNING":
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            counted = count_events(sfn, view.execution_arn)
            transitions.append(counted[0])
            invocations.append(counted[1])
            if (index + 1) % 10 == 0:
                print(f"  {index + 1}/{args.flows} booked", flush=True)
    finally:
        stack.stop()

    completed = len(transitions)
    print(f"\nCompleted bookings: {completed} of {args.flows} ({failures} did not complete)")
    if completed:
        print(
            f"State transitions per booking : {statistics.mean(transitions):.1f} "
            f"(min {min(transitions)}, max {max(transitions)})"
        )
        print(
            f"Lambda invocations per booking: {statistics.mean(invocations):.1f} "
            f"(min {min(invocations)}, max {max(invocations)})"
        )
    print(f"\n{'turn':<16} {'p50 ms':>8} {'p95 ms':>8} {'n':>4}")
    for name, values in turns.items():
        if values:
            print(
                f"{name:<16} {percentile(values, 0.5) * 1000:8.0f} "
                f"{percentile(values, 0.95) * 1000:8.0f} {len(values):4d}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
