"""`make load`: locust (headless) against the chat API with the local agent, at 10, 50 and
100 concurrent users, each playing whole conversations for a bounded time.

The stack runs in one process, the chat API in another (tests/load/serve.py; the Lambda
execution environments are processes of their own), locust in a third. After each level it
prints p50/p95/p99, turns per second, the error rate, the cold starts and environments of
the level and the machine's load average, and holds the
sandbox ledger against what users were told: every booking the agent announced must be in
PF360's ledger once (none lost), and no booking may be there that nobody was told about or
twice (none doubled). Writes build/load.json with a `runs` list. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from infra.local.pf360_sandbox import SandboxControl
from tests.load.children import end_child

OUTPUT = Path("build/load.json")
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def percentile_from_histogram(histogram: dict[str, int], share: float) -> float:
    """Percentile of locust's rounded response-time histogram {ms: count}."""
    points = sorted((float(ms), count) for ms, count in histogram.items())
    total = sum(count for _, count in points)
    if not total:
        return 0.0
    wanted = share * total
    seen = 0
    for ms, count in points:
        seen += count
        if seen >= wanted:
            return ms
    return points[-1][0]


def lambda_figures(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the Lambda runtime did during one level: differences of its cumulative figures
    per function (`ProcessRuntime.figures`), and the environments alive at the end."""
    per_function: dict[str, dict[str, float]] = {}
    for name, now in after["functions"].items():
        then = before["functions"].get(name, {})
        delta = {
            key: round(now[key] - then.get(key, 0), 1)
            for key in ("invocations", "cold_starts", "init_ms_total", "throttles", "timeouts")
        }
        if delta["invocations"] or delta["cold_starts"]:
            per_function[name] = {**delta, "max_environments": now["max_environments"]}
    totals = {
        key: round(sum(f[key] for f in per_function.values()), 1)
        for key in ("invocations", "cold_starts", "init_ms_total", "throttles", "timeouts")
    }
    return {**totals, "environments_at_end": after["environments"], "functions": per_function}


class Served:
    """The serving process (tests/load/serve.py): its URLs, customers, and its stats."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.load.serve", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.info: dict[str, Any] = json.loads(self.process.stdout.readline())

    def __getitem__(self, key: str) -> Any:
        return self.info[key]

    def stats(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        while True:  # the answer is the next JSON object line (skip anything else printed)
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the serving process exited")
            if line.startswith("{"):
                stats: dict[str, Any] = json.loads(line)
                return stats

    def stop(self) -> None:
        end_child(self.process)


def run_level(
    users: int, seconds: int, served: Served, told_file: Path, log_dir: Path
) -> dict[str, Any]:
    control = SandboxControl(served["sandbox_url"])
    control.reset()
    told_file.write_text("")
    env = {
        **os.environ,
        "LOAD_CUSTOMERS": json.dumps(served["customers"]),
        "LOAD_TOLD_FILE": str(told_file),
    }
    stats_before = served.stats()
    load_before = os.getloadavg()
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(max(1, users // 5)),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "120",
            "--host",
            served["chat_url"],
            "--json",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()
    lambdas = lambda_figures(stats_before, served.stats())
    (log_dir / f"locust-{users}.log").write_text(result.stderr)
    try:
        stats: list[dict[str, Any]] = json.loads(result.stdout)
    except ValueError:
        print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
        raise
    histogram: Counter[str] = Counter()
    requests = failures = 0
    started_at, ended_at = float("inf"), 0.0
    for entry in stats:
        requests += int(entry["num_requests"])
        failures += int(entry["num_failures"])
        histogram.update({str(k): int(v) for k, v in entry["response_times"].items()})
        started_at = min(started_at, float(entry["start_time"]))
        ended_at = max(ended_at, float(entry["last_request_timestamp"] or 0))
    duration = max(ended_at - started_at, 1e-9)
    entries = [json.loads(line) for line in told_file.read_text().splitlines() if line.strip()]
    told = [entry for entry in entries if entry.get("told", "booked") == "booked"]
    unknown = Counter(entry["project_id"] for entry in entries if entry.get("told") == "unknown")
    told_by_project = Counter(entry["project_id"] for entry in told)
    ledger = [b for b in control.bookings() if b.get("action") == "book"]
    ledger_by_project = Counter(str(b["project_id"]) for b in ledger)
    # A booking nobody was told about is doubled, unless its customer was told that the
    # outcome was not known yet (then the ledger may or may not hold it: both are true).
    doubled = sum(
        max(0, count - told_by_project.get(project, 0) - unknown.get(project, 0))
        for project, count in ledger_by_project.items()
    )
    lost = sum(
        max(0, count - ledger_by_project.get(project, 0))
        for project, count in told_by_project.items()
    )
    return {
        "users": users,
        "run_seconds": seconds,
        "wall_seconds": round(elapsed, 1),
        "turns": requests,
        "p50_ms": percentile_from_histogram(histogram, 0.50),
        "p95_ms": percentile_from_histogram(histogram, 0.95),
        "p99_ms": percentile_from_histogram(histogram, 0.99),
        "turns_per_s": round(requests / duration, 2),
        "error_rate": round(failures / requests, 4) if requests else None,
        "errors": failures,
        "bookings_told": len(told),
        "bookings_in_ledger": len(ledger),
        "bookings_told_unknown": sum(unknown.values()),
        "double_bookings": doubled,
        "lost_bookings": lost,
        "by_turn": {
            entry["name"]: {
                "n": entry["num_requests"],
                "failures": entry["num_failures"],
                "p50_ms": percentile_from_histogram(entry["response_times"], 0.5),
                "p95_ms": percentile_from_histogram(entry["response_times"], 0.95),
            }
            for entry in stats
        },
        "lambda": lambdas,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "locust_exit_code": result.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="10,50,100")
    parser.add_argument("--seconds", type=int, default=60, help="per level")
    parser.add_argument("--output", default=str(OUTPUT))
    parser.add_argument("--chat-threads", type=int, help="turns the chat API serves at once")
    parser.add_argument(
        "--chat-in-process", action="store_true", help="the chat API in the stack's process"
    )
    args = parser.parse_args(argv)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    serve_argv = [f"--chat-threads={args.chat_threads}"] if args.chat_threads else []
    serve_argv += ["--chat-in-process"] if args.chat_in_process else []
    served = Served(serve_argv)
    runs: list[dict[str, Any]] = []
    try:
        print(
            f"Chat API {served['chat_url']} ({served['chat_threads']} turns at once, "
            f"{'in the stack process' if served['chat_in_process'] else 'own process'}), "
            f"{len(served['customers'])} load customers"
        )
        for users in [int(u) for u in args.users.split(",")]:
            print(f"{users} users for {args.seconds} s...", flush=True)
            run = run_level(
                users, args.seconds, served, output.parent / "load-told.jsonl", output.parent
            )
            runs.append(run)
            print(
                f"  {run['turns']} turns, {run['turns_per_s']} turns/s, p50 {run['p50_ms']:.0f} "
                f"p95 {run['p95_ms']:.0f} p99 {run['p99_ms']:.0f} ms, errors "
                f"{run['errors']} ({run['error_rate']}); bookings told {run['bookings_told']}, "
                f"told not known yet {run['bookings_told_unknown']}, "
                f"in ledger {run['bookings_in_ledger']}, doubled {run['double_bookings']}, "
                f"lost {run['lost_bookings']}",
                flush=True,
            )
            print(
                f"  Lambda: {run['lambda']['invocations']:.0f} invocations, "
                f"{run['lambda']['cold_starts']:.0f} cold starts "
                f"({run['lambda']['init_ms_total']:.0f} ms INIT in all), "
                f"{run['lambda']['throttles']:.0f} throttled, {run['lambda']['timeouts']:.0f} "
                f"timed out, {run['lambda']['environments_at_end']} environments at the end; "
                f"load average {run['load_average_before'][0]:.1f} -> "
                f"{run['load_average_after'][0]:.1f}",
                flush=True,
            )
    finally:
        served.stop()
    result = {
        "runs": runs,
        "chat_threads": served["chat_threads"],
        "chat_in_process": served["chat_in_process"],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "shared 2-core machine: other developers' tests ran at the same time",
        },
    }
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
