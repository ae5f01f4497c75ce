"""`make bench`: a booking conversation through our workflow path against the seed's design.

Both run on the local stack as deployed Lambda functions in their own execution
environments, called with `lambda.invoke` and Bedrock's action-group events, played
alternately in one run (so machine noise falls on both), at PF360 sandbox latencies of
100 ms and 0 ms:

- workflow: `scheduling-actions` (session check, tenancy, the flow driver, the booking
  state machine and its task Lambdas);
- direct: the seed's Phase 2 code as written (tests/bench/direct_design.py: the Lambda
  calls PF360 itself and keeps `request_id` in the session row).

Per turn kind (list, dates, slots, confirm) it prints p50/p95/p99 of both and their ratio, the
orchestration overhead (turn time minus the PF360 latency of the PF360 calls made in the
turn), AWS calls and Lambda invocations per turn, state transitions per booking, cold
starts and peak memory, and writes build/bench.json. The headline figures (both designs'
percentiles, ratio_p95, overhead_p95_ms, AWS calls per turn) are over the three booking
turns (dates, slots, confirm); list is reported on its own. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from agent_bridge.sessions import SessionStore
from infra.local.dev_tokens import mint_customer_token
from infra.local.lambda_runtime import ProcessRuntime
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tests.bench.caller import CallerProcess

CUSTOMER, CLIENT, PROJECT = "CUST001", "acme-corp", "12345"
KINDS = ("list", "dates", "slots", "confirm")
BOOKING_KINDS = ("dates", "slots", "confirm")  # the headline figures: the booking turns
DIRECT_FUNCTION = "bench-direct-design"
OUTPUT = Path("build/bench.json")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "n": len(values),
    }


class CallCounter:
    """WSGI middleware on the moto server: every AWS API call, by service and operation."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = environ.get("PATH_INFO", "")
        if target:
            operation = target
        elif "/functions/" in path and path.endswith("/invocations"):
            operation = "Lambda.Invoke"
        else:
            operation = (
                f"{environ.get('REQUEST_METHOD')} {path.split('/')[1] if '/' in path else path}"
            )
        with self._lock:
            self.counts[operation] += 1
        return self.app(environ, start_response)

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())


def bedrock_event(path: str, session_id: str, parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "messageVersion": "1.0",
        "agent": {"name": "bench", "id": "BENCH", "alias": "BENCH", "version": "1"},
        "inputText": "",
        "sessionId": session_id,
        "sessionAttributes": {"session_id": session_id},
        "promptSessionAttributes": {},
        "actionGroup": "scheduling-actions",
        "apiPath": path,
        "httpMethod": "POST",
        "parameters": [{"name": k, "type": "string", "value": v} for k, v in parameters.items()],
    }


class Bench:
    def __init__(self, stack: LocalStack, counter: CallCounter) -> None:
        assert stack.deployed is not None and stack.sandbox is not None
        self.stack = stack
        self.counter = counter
        self.lambdas = stack.client("lambda")
        self.sfn = stack.client("stepfunctions")
        self.sandbox = SandboxControl(stack.sandbox.base_url)
        dynamodb = boto3.resource("dynamodb", region_name=stack.region)
        self.sessions = SessionStore(dynamodb.Table(stack.deployed.tables["SessionsTable"]))
        self.flows = dynamodb.Table(stack.deployed.tables["FlowsTable"])
        self.workflow_function = stack.deployed.functions["SchedulingActionsFunction"]
        self.latency_ms = 0
        self.token = mint_customer_token(CUSTOMER, CLIENT, ttl_seconds=7200)
        self.samples: dict[str, dict[str, list[dict[str, float]]]] = {}
        # Bedrock's stand-in, in a process of its own (tests/bench/caller.py).
        self.caller = CallerProcess(stack.endpoint_url, stack.region)

    def close(self) -> None:
        self.caller.close()

    def create_direct_function(self) -> None:
        variables = self.stack.deployed.function_environment("SchedulingActionsFunction")  # type: ignore[union-attr]
        self.lambdas.create_function(
            FunctionName=DIRECT_FUNCTION,
            Runtime="python3.12",
            Role="arn:aws:iam::123456789012:role/pf360-scheduler-local-lambda",
            Handler="tests.bench.direct_design.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            Timeout=25,
            MemorySize=256,
            Environment={"Variables": variables},
        )

    def new_session(self) -> str:
        record = self.sessions.create(
            customer_id=CUSTOMER,
            client_id=CLIENT,
            client_name=CLIENT,
            environment="dev",
            auth_token=self.token,
        )
        return record.session_id

    def turn(self, design: str, kind: str, path: str, session_id: str, **params: str) -> Any:
        function = self.workflow_function if design == "workflow" else DIRECT_FUNCTION
        params = {"customer_id": CUSTOMER, **params}  # the seed's schema requires it
        runtime = self.stack.lambda_runtime
        pf360_before = len(self.sandbox.requests())
        aws_before = self.counter.total()
        invocations_before = runtime.invocations
        elapsed_ms, raw = self.caller.invoke(
            function, json.dumps(bedrock_event(path, session_id, params))
        )
        aws_calls = self.counter.total() - aws_before - 1  # not the turn's own invoke
        invocations = runtime.invocations - invocations_before
        pf360_calls = len(self.sandbox.requests()) - pf360_before
        body: dict[str, Any] = {}
        status = 500
        try:
            answer = json.loads(raw)["response"]
            status = int(answer["httpStatusCode"])
            body = json.loads(answer["responseBody"]["application/json"]["body"])
        except (KeyError, ValueError, TypeError):
            body = {"error": raw.decode("utf-8", "replace")[:300]}
        sample = {
            "ms": elapsed_ms,
            "overhead_ms": elapsed_ms - pf360_calls * self.latency_ms,
            "aws_calls": aws_calls,
            "lambda_invocations": invocations,
            "pf360_calls": pf360_calls,
            "ok": float(status == 200),
        }
        self.samples.setdefault(design, {}).setdefault(kind, []).append(sample)
        return status, body

    def conversation(self, design: str, index: int) -> str | None:
        """list -> dates -> slots -> confirm; returns the execution ARN (workflow) or None."""
        session_id = self.new_session()
        status, body = self.turn(design, "list", "/list_projects", session_id)
        if status != 200 or not body.get("projects"):
            print(f"  {design}: no projects: {status} {body}", flush=True)
            return None
        status, body = self.turn(
            design, "dates", "/get_available_dates", session_id, project_id=PROJECT
        )
        dates = body.get("available_dates") or []
        if status != 200 or not dates:
            print(f"  {design}: no dates: {status} {body}", flush=True)
            return None
        day = dates[index % len(dates)]
        status, body = self.turn(
            design, "slots", "/get_time_slots", session_id, project_id=PROJECT, date=day
        )
        times = body.get("available_times") or body.get("time_slots") or []
        if status != 200 or not times:
            print(f"  {design}: no times: {status} {body}", flush=True)
            return None
        status, body = self.turn(
            design,
            "confirm",
            "/confirm_appointment",
            session_id,
            project_id=PROJECT,
            date=day,
            time=times[index % len(times)],
        )
        if status != 200:
            print(f"  {design}: not booked: {status} {body}", flush=True)
            return None
        if design == "workflow":
            item = self.flows.get_item(Key={"session_id": session_id}, ConsistentRead=True)
            arn = (item.get("Item") or {}).get("execution_arn")
            return str(arn) if arn else None
        return None

    def run(self, latency_ms: int, conversations: int, warmup: int) -> dict[str, Any]:
        self.sandbox.reset()
        self.sandbox.set_latency(latency_ms)
        self.latency_ms = latency_ms
        for index in range(warmup):
            self.conversation("workflow", index)
            self.conversation("direct", index)
        self.samples = {}
        arns: list[str] = []
        for index in range(conversations):
            for design in ("workflow", "direct") if index % 2 == 0 else ("direct", "workflow"):
                arn = self.conversation(design, index)
                if arn:
                    arns.append(arn)
        transitions, invocations = [], []
        for arn in arns:
            deadline = time.monotonic() + 10
            while self.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            transitions.append(sum(1 for e in events if e["type"].endswith("StateEntered")))
            invocations.append(sum(1 for e in events if e["type"] == "TaskScheduled"))
        return self.report(latency_ms, transitions, invocations)

    def report(
        self, latency_ms: int, transitions: list[int], invocations: list[int]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"pf360_latency_ms": latency_ms, "by_kind": {}}
        for design in ("workflow", "direct"):
            samples = self.samples.get(design, {})
            every = [s for kind in BOOKING_KINDS for s in samples.get(kind, [])]
            result[design] = {
                **summary([s["ms"] for s in every]),
                "overhead": summary([s["overhead_ms"] for s in every]),
                "aws_calls_per_turn": round(statistics.mean([s["aws_calls"] for s in every]), 2)
                if every
                else 0,
                "lambda_invocations_per_turn": round(
                    statistics.mean([s["lambda_invocations"] for s in every]), 2
                )
                if every
                else 0,
                "pf360_calls_per_turn": round(statistics.mean([s["pf360_calls"] for s in every]), 2)
                if every
                else 0,
                "failed_turns": sum(1 for s in every if not s["ok"]),
            }
            for kind in KINDS:
                kind_samples = samples.get(kind, [])
                result["by_kind"].setdefault(kind, {})[design] = {
                    **summary([s["ms"] for s in kind_samples]),
                    "overhead_p95_ms": round(
                        percentile([s["overhead_ms"] for s in kind_samples], 0.95), 1
                    ),
                    "aws_calls": round(statistics.mean([s["aws_calls"] for s in kind_samples]), 2)
                    if kind_samples
                    else 0,
                    "pf360_calls": round(
                        statistics.mean([s["pf360_calls"] for s in kind_samples]), 2
                    )
                    if kind_samples
                    else 0,
                }
        for kind in KINDS:
            entry = result["by_kind"][kind]
            direct_p95 = entry["direct"]["p95_ms"] or 1.0
            entry["ratio_p95"] = round(entry["workflow"]["p95_ms"] / direct_p95, 2)
        result["ratio_p95"] = round(
            result["workflow"]["p95_ms"] / (result["direct"]["p95_ms"] or 1), 2
        )
        result["overhead_p95_ms"] = result["workflow"]["overhead"]["p95_ms"]
        result["transitions_per_booking"] = (
            round(statistics.mean(transitions), 1) if transitions else None
        )
        result["lambda_invocations_per_booking"] = (
            # the three booking turns' action invocations and the tasks of the execution
            round(statistics.mean(invocations) + 3, 1) if invocations else None
        )
        result["task_invocations_per_booking"] = (
            round(statistics.mean(invocations), 1) if invocations else None
        )
        return result


def print_run(run: dict[str, Any]) -> None:
    print(f"\nPF360 latency {run['pf360_latency_ms']} ms")
    print(
        f"{'turn':<9}{'design':<10}{'p50':>7}{'p95':>7}{'p99':>7}{'ovh95':>7}{'aws':>6}{'pf360':>6}"
    )
    for kind, entry in run["by_kind"].items():
        for design in ("workflow", "direct"):
            row = entry[design]
            print(
                f"{kind:<9}{design:<10}{row['p50_ms']:7.0f}{row['p95_ms']:7.0f}{row['p99_ms']:7.0f}"
                f"{row['overhead_p95_ms']:7.0f}{row['aws_calls']:6.1f}{row['pf360_calls']:6.1f}"
            )
        print(f"{'':<9}{'ratio p95':<10}{entry['ratio_p95']:7.2f}")
    for design in ("workflow", "direct"):
        row = run[design]
        print(
            f"booking turns {design:<9} p50 {row['p50_ms']:.0f}  p95 {row['p95_ms']:.0f}  "
            f"p99 {row['p99_ms']:.0f} ms; overhead p95 {row['overhead']['p95_ms']:.0f} ms; "
            f"AWS calls/turn {row['aws_calls_per_turn']}; Lambda invocations/turn "
            f"{row['lambda_invocations_per_turn']}; failed turns {row['failed_turns']}"
        )
    print(
        f"ratio_p95 {run['ratio_p95']}  overhead_p95_ms {run['overhead_p95_ms']}  "
        f"transitions/booking {run['transitions_per_booking']}  "
        f"Lambda invocations/booking {run['lambda_invocations_per_booking']}"
    )


def start_stack() -> LocalStack:
    """The local stack the measurements run on: bookings confirmed (the seed's flag), PF360
    calls given 5 s, no TTL sweeps, and the environments' log lines not echoed."""
    stack = LocalStack(
        parameter_overrides={"ConfirmScheduleFlag": "1", "ApiTimeoutSeconds": "5"},
        ttl_sweep_seconds=0,
    ).start()
    if isinstance(stack.lambda_runtime, ProcessRuntime):
        stack.lambda_runtime.echo_logs = False
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=30, help="per design and latency")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--latencies", default="100,0")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    stack = start_stack()
    runtime = stack.lambda_runtime
    assert stack.moto is not None
    counter = CallCounter(stack.moto.app)
    stack.moto.app = counter
    runs: dict[str, Any] = {}
    bench: Bench | None = None
    try:
        bench = Bench(stack, counter)
        bench.create_direct_function()
        for latency in [int(x) for x in args.latencies.split(",")]:
            print(f"PF360 latency {latency} ms: {args.conversations} conversations each...")
            runs[str(latency)] = bench.run(latency, args.conversations, args.warmup)
            print_run(runs[str(latency)])
        stats = runtime.stats
    finally:
        if bench is not None:
            bench.close()
        stack.stop()
    cold = {name: s.cold_starts for name, s in stats.items() if s.cold_starts}
    init_ms = [ms for s in stats.values() for ms in s.init_ms]
    headline = runs.get("100") or next(iter(runs.values()))
    result = {
        "workflow": {k: headline["workflow"][k] for k in ("p50_ms", "p95_ms", "p99_ms")},
        "direct": {k: headline["direct"][k] for k in ("p50_ms", "p95_ms", "p99_ms")},
        "ratio_p95": headline["ratio_p95"],
        "overhead_p95_ms": headline["overhead_p95_ms"],
        "aws_calls_per_turn": {
            "workflow": headline["workflow"]["aws_calls_per_turn"],
            "direct": headline["direct"]["aws_calls_per_turn"],
        },
        "transitions_per_booking": headline["transitions_per_booking"],
        "lambda_invocations_per_booking": headline["lambda_invocations_per_booking"],
        "peak_rss_mb": round(max((s.peak_rss_mb for s in stats.values()), default=0.0), 1),
        "stack_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cold_starts": cold,
        "cold_start_init_ms_p50": round(percentile(init_ms, 0.5), 1),
        "pf360_latency_ms": headline["pf360_latency_ms"],
        "runs": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "shared 2-core machine: other developers' tests ran at the same time",
        },
        "conversations_per_design": args.conversations,
        "run_id": uuid.uuid4().hex[:8],
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\nCold starts: {sum(cold.values())} (INIT p50 {result['cold_start_init_ms_p50']} ms); "
        f"peak RSS of an environment {result['peak_rss_mb']} MB, of the stack process "
        f"{result['stack_peak_rss_mb']} MB; load average {result['machine']['load_average_before']}"
        f" -> {result['machine']['load_average_after']}"
    )
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
