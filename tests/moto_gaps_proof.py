"""Proof that every workaround in infra/local/moto_gaps.py has a test that fails without it.

    python -m tests.moto_gaps_proof          # or: make moto-gaps-proof

Runs the gap tests once as they are (all must pass), then once per workaround with only
that workaround switched off (tests/moto_gap_switch.py); each of those runs must have at
least one failing test. Prints a table and writes build/moto-gaps-proof.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.moto_gap_switch import ENV, SWITCHES

TESTS = [
    "tests/integration/test_moto_gaps.py",
    "tests/integration/test_mock_config.py",
    "tests/integration/test_moto_gap_appconfig.py",
    "tests/integration/test_moto_gap_fast_update.py",
    "tests/integration/test_local_engine_callbacks.py",
]
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def run(disabled: str | None) -> list[str]:
    """The ids of the tests that failed with `disabled` switched off (None: nothing)."""
    env = {**os.environ, ENV: disabled or ""}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.moto_gap_switch",
            "-q",
            "-rfE",
            "-p",
            "no:cacheprovider",
            *TESTS,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    failed = FAILED.findall(completed.stdout)
    if completed.returncode not in (0, 1) and not failed:
        failed = [f"pytest exited {completed.returncode}: {completed.stdout[-400:]}"]
    return [name.split(" - ")[0] for name in failed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gaps", nargs="*", help="only these workarounds (default: all)")
    args = parser.parse_args(argv)
    names = args.gaps or list(SWITCHES)
    baseline = run(None)
    print(
        f"{'(none switched off)':28} {'ok' if not baseline else 'FAILED: ' + ', '.join(baseline)}"
    )
    results: dict[str, list[str]] = {"": baseline}
    for name in names:
        failed = run(name)
        results[name] = failed
        verdict = f"{len(failed)} failing" if failed else "NOTHING FAILS"
        print(f"{name:28} {verdict}: {', '.join(t.split('::')[-1] for t in failed)}", flush=True)
    out = Path("build/moto-gaps-proof.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    proved = not baseline and all(results[name] for name in names)
    print("every workaround is proved by a failing test" if proved else "NOT PROVED")
    return 0 if proved else 1


if __name__ == "__main__":
    raise SystemExit(main())
