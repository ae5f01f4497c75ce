"""CPU time per chat turn on the local stack: the stack process and the execution environments.

    .venv/bin/python -m tests.bench.turn_cpu --conversations 10

Wall-clock figures on a shared 2-core machine move with everyone else's load; CPU time
moves much less. This plays `make bench`'s conversations (workflow or direct design, PF360
latency 0) and prints, per turn kind, the CPU milliseconds spent by the stack process (moto's
server, the Step Functions engine, the sandbox, the caller) and by the Lambda execution
environments (their processes' utime + stime from /proc), with the wall time for context.
Asserts nothing; compare before/after in the same minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from tests.bench.bench import Bench, CallCounter, start_stack

TICKS = os.sysconf("SC_CLK_TCK")


def children_cpu_ms() -> float:
    """utime + stime of every process below this one (the zygote and the environments, and
    the benchmark's caller: tests/bench/caller.py)."""
    me = os.getpid()
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) * 1000 / TICKS
    total = 0.0
    for pid, cpu in times.items():
        ancestor = parents.get(pid, 0)
        while ancestor and ancestor != me:
            ancestor = parents.get(ancestor, 0)
        if ancestor == me:
            total += cpu
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--design", default="workflow", choices=("workflow", "direct"))
    args = parser.parse_args(argv)
    stack = start_stack()
    assert stack.moto is not None
    counter = CallCounter(stack.moto.app)
    stack.moto.app = counter
    samples: dict[str, list[tuple[float, float, float]]] = {}
    bench: Bench | None = None
    try:
        bench = Bench(stack, counter)
        bench.create_direct_function()
        bench.sandbox.reset()
        bench.sandbox.set_latency(0)
        for index in range(3):  # warm: environments started, programs and caches built
            bench.conversation(args.design, index)
        original = bench.turn

        def turn(design: str, kind: str, path: str, session_id: str, **params: str) -> Any:
            own, workers, wall = time.process_time(), children_cpu_ms(), time.perf_counter()
            result = original(design, kind, path, session_id, **params)
            time.sleep(0.05)  # let the engine finish what the turn started (it is counted)
            samples.setdefault(kind, []).append(
                (
                    (time.process_time() - own) * 1000,
                    children_cpu_ms() - workers,
                    (time.perf_counter() - wall) * 1000 - 50,
                )
            )
            return result

        bench.turn = turn  # type: ignore[method-assign]
        for index in range(args.conversations):
            bench.conversation(args.design, index)
    finally:
        if bench is not None:
            bench.close()
        stack.stop()
    print(f"{args.design}, PF360 latency 0, {args.conversations} conversations; median per turn")
    header = f"{'turn':<9}{'stack CPU ms':>14}{'environments CPU ms':>21}"
    print(f"{header}{'wall ms':>9}{'wall max':>10}")
    for kind, rows in samples.items():
        own = statistics.median(r[0] for r in rows)
        workers = statistics.median(r[1] for r in rows)
        wall = statistics.median(r[2] for r in rows)
        worst = max(r[2] for r in rows)
        print(f"{kind:<9}{own:14.1f}{workers:21.1f}{wall:9.1f}{worst:10.1f}")
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
