"""Where a booking turn's time goes, hop by hop, as the local stack's servers saw it.

    .venv/bin/python -m tests.bench.turn_timeline [--conversations 20] [--latency 100]

`make bench` says how long a turn takes; this says where the time went. It plays `make
bench`'s workflow conversations and records, on the stack's side, when each AWS call and
each PF360 call of a turn began and ended (WSGI middleware on moto's server and on the
sandbox's Flask app). A booking turn's calls follow one another in a fixed order, so the
timeline splits the turn into its hops: the session and checkpoint reads, the recorded
answer, the resume (StartExecution or SendTaskSuccess), the engine and the task's start,
the task's token read, PF360, the task's checkpoint write, and the bridge's read that sees
it. Prints each hop's p50/p90 per turn kind and writes build/turn-timeline.json. Asserts
nothing; the figures move with the machine's load (compare in the same minute).

A "gap" is time between two calls that no server was serving: the calling process's own
work (botocore building, signing and parsing; the handler's code) and waiting for the CPU.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.bench import Bench, CallCounter, start_stack

OUTPUT = Path("build/turn-timeline.json")
BOOKING_KINDS = ("dates", "slots", "confirm")
_TABLE = re.compile(rb'"TableName":\s*"([^"]+)"')


@dataclass(frozen=True)
class Call:
    """One request as a server saw it: when its handling began and ended (perf_counter)."""

    started: float
    ended: float
    label: str  # "GetItem flows", "UpdateItem sessions", "SendTaskSuccess", "PF360", "Invoke"


def _table_role(name: str) -> str:
    for role in ("flows", "sessions", "executions"):
        if role in name:
            return role
    return name


class Timeline:
    """The calls the stack served, in the order they began; thread-safe."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def since(self, moment: float) -> list[Call]:
        with self._lock:
            return sorted((c for c in self._calls if c.started >= moment), key=lambda c: c.started)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def aws(self, app: Any) -> Any:
        """WSGI middleware for moto's server: each AWS call, named by operation and table."""

        def middleware(environ: dict[str, Any], start_response: Any) -> Any:
            started = time.perf_counter()
            target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
            path = str(environ.get("PATH_INFO", ""))
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            if target:
                label = target.rsplit(".", 1)[-1]
                table = _TABLE.search(body)
                if table:
                    label = f"{label} {_table_role(table.group(1).decode())}"
            elif path.endswith("/invocations"):
                label = "Invoke"
            else:
                label = path
            answer = b"".join(app(environ, start_response))
            self.add(Call(started, time.perf_counter(), label))
            return [answer]

        return middleware

    def pf360(self, app: Any) -> Any:
        """WSGI middleware for the sandbox's Flask app: each PF360 API call (not its controls)."""

        def middleware(environ: dict[str, Any], start_response: Any) -> Any:
            started = time.perf_counter()
            answer = b"".join(app(environ, start_response))
            if not str(environ.get("PATH_INFO", "")).startswith("/__sandbox"):
                self.add(Call(started, time.perf_counter(), "PF360"))
            return [answer]

        return middleware


# The hops of a booking turn, in order; each is (name, milliseconds).
HOPS = (
    "caller + network",
    "invoke -> first call",
    "session + checkpoint reads",
    "gap before recording",
    "answer recorded",
    "gap before resume",
    "resume",
    "engine + task start",
    "token read",
    "gap before PF360",
    "PF360",
    "gap before write",
    "checkpoint write",
    "write -> bridge sees it",
    "seen -> answer",
)
# "caller + network": the benchmark's caller (botocore's invoke in its own process) and the
# loopback both ways; the rest is measured from when moto's server began the Invoke.


def hops(calls: list[Call], turn_ms: float) -> dict[str, float] | None:
    """A booking turn's hops in milliseconds, from the calls served during it and the turn's
    time as its caller measured it; None when the turn did not take the booking path (a
    refusal, a repeat, a failure)."""

    def first(label: str, after: float = float("-inf")) -> Call | None:
        return next((c for c in calls if c.label == label and c.started >= after), None)

    invoke = first("Invoke")
    session = first("UpdateItem sessions")
    read = first("GetItem flows")
    recorded = first("UpdateItem flows")
    if not (invoke and session and read and recorded):
        return None
    resume = first("SendTaskSuccess", recorded.ended) or first("StartExecution", recorded.ended)
    if resume is None:
        return None
    token = first("GetItem sessions", resume.ended)
    pf360 = first("PF360", token.ended) if token else None
    written = first("UpdateItem flows", pf360.ended) if pf360 else None
    if not (token and pf360 and written):
        return None
    seen = next((c for c in calls if c.label == "GetItem flows" and c.ended > written.ended), None)
    if seen is None:
        return None
    validated = max(session.ended, read.ended)
    edges = (
        (invoke.ended - turn_ms / 1000, invoke.started),
        (invoke.started, min(session.started, read.started)),
        (min(session.started, read.started), validated),
        (validated, recorded.started),
        (recorded.started, recorded.ended),
        (recorded.ended, resume.started),
        (resume.started, resume.ended),
        (resume.ended, token.started),
        (token.started, token.ended),
        (token.ended, pf360.started),
        (pf360.started, pf360.ended),
        (pf360.ended, written.started),
        (written.started, written.ended),
        (written.ended, seen.ended),
        (seen.ended, invoke.ended),
    )
    result = {name: (end - start) * 1000 for name, (start, end) in zip(HOPS, edges, strict=True)}
    result["turn"] = turn_ms
    return result


def summarize(samples: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """p50, p90 and the slowest of each hop over the turns of one kind."""
    summary: dict[str, dict[str, float]] = {}
    for name in (*HOPS, "turn"):
        values = sorted(sample[name] for sample in samples)
        summary[name] = {
            "p50_ms": round(statistics.median(values), 2),
            "p90_ms": round(values[min(len(values) - 1, int(len(values) * 0.9))], 2),
            "max_ms": round(values[-1], 2),
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--latency", type=int, default=100, help="PF360 sandbox latency, ms")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    stack = start_stack()
    assert stack.moto is not None and stack.sandbox is not None
    timeline = Timeline()
    counter = CallCounter(timeline.aws(stack.moto.app))
    stack.moto.app = counter
    flask_app = stack.sandbox.app
    flask_app.wsgi_app = timeline.pf360(flask_app.wsgi_app)  # type: ignore[method-assign]
    samples: dict[str, list[dict[str, float]]] = {}
    skipped = 0
    bench: Bench | None = None
    try:
        bench = Bench(stack, counter)
        bench.sandbox.reset()
        bench.sandbox.set_latency(args.latency)
        bench.latency_ms = args.latency
        for index in range(3):  # warm: environments started, programs and caches built
            bench.conversation("workflow", index)
        original = bench.turn

        def turn(design: str, kind: str, path: str, session_id: str, **params: str) -> Any:
            nonlocal skipped
            time.sleep(0.02)  # what the last turn started (its execution's next states) ends
            started = time.perf_counter()
            result = original(design, kind, path, session_id, **params)
            if kind in BOOKING_KINDS:
                turn_ms = bench.samples[design][kind][-1]["ms"]
                found = hops(timeline.since(started), turn_ms)
                if found is None:
                    skipped += 1
                else:
                    samples.setdefault(kind, []).append(found)
            timeline.clear()
            return result

        bench.turn = turn  # type: ignore[method-assign]
        for index in range(args.conversations):
            bench.conversation("workflow", 10 + index)
            print(f"  {index + 1}/{args.conversations} conversations", end="\r", flush=True)
        print()
    finally:
        if bench is not None:
            bench.close()
        stack.stop()
    report = {kind: summarize(rows) for kind, rows in samples.items() if rows}
    print(
        f"workflow design, PF360 latency {args.latency} ms, {args.conversations} conversations;"
        " milliseconds per hop as the servers saw them; 'turn' is the caller's time, as in"
        " `make bench`"
    )
    kinds = [kind for kind in BOOKING_KINDS if kind in report]
    print(f"{'hop':<28}" + "".join(f"{kind + ' p50/p90/max':>24}" for kind in kinds))
    for name in (*HOPS, "turn"):
        cells = "".join(
            f"{report[kind][name]['p50_ms']:>10.1f} /{report[kind][name]['p90_ms']:>6.1f}"
            f" /{report[kind][name]['max_ms']:>6.1f}"
            for kind in kinds
        )
        print(f"{name:<28}{cells}")
    if skipped:
        print(f"{skipped} turns did not take the booking path and were left out")
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "pf360_latency_ms": args.latency,
                "conversations": args.conversations,
                "turns_left_out": skipped,
                "hops": report,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
