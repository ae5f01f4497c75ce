"""`make load`: locust (headless) against the chat API with the local agent, at 10, 50 and
100 concurrent users, each playing whole conversations for a bounded time.

The stack and chat API run in one process (tests/load/serve.py), locust in another. After
each level it prints p50/p95/p99, turns per second and the error rate, and holds the
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


def run_level(
    users: int, seconds: int, served: dict[str, Any], told_file: Path, log_dir: Path
) -> dict[str, Any]:
    control = SandboxControl(served["sandbox_url"])
    control.reset()
    told_file.write_text("")
    env = {
        **os.environ,
        "LOAD_CUSTOMERS": json.dumps(served["customers"]),
        "LOAD_TOLD_FILE": str(told_file),
    }
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
        "locust_exit_code": result.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="10,50,100")
    parser.add_argument("--seconds", type=int, default=60, help="per level")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.load.serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    runs: list[dict[str, Any]] = []
    try:
        assert server.stdout is not None
        served = json.loads(server.stdout.readline())
        print(f"Chat API {served['chat_url']}, {len(served['customers'])} load customers")
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
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    result = {
        "runs": runs,
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
