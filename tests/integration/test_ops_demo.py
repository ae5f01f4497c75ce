"""`make ops-demo` makes failed, waiting and replayed bookings and leaves the console open.

Runs the real target (ports 0), waits for its summary, then reads the console it leaves
open and the PF360 sandbox's ledger: the replay booked exactly once.
"""

from __future__ import annotations

import re

import requests

from tests.integration.terminal import start_make

STARTUP_SECONDS = 300


def test_ops_demo_leaves_the_console_open_on_failed_waiting_and_replayed_bookings() -> None:
    with start_make("ops-demo") as demo:
        summary = demo.wait_for(r"^Executions: (.+)\.$", STARTUP_SECONDS).group(1)
        console = demo.wait_for(r"^Ops console\s+: (\S+)", 30).group(1)
        sandbox = demo.wait_for(r"^PF360 sandbox: (\S+)", 30).group(1)
        demo.wait_for(r"Ctrl-C stops everything", 30)
        output = "\n".join(demo.lines)

        assert summary == "3 failed, 1 running, 2 succeeded"
        assert output.count("the customer is told: ") == 3
        failed_book = re.search(r"replays (book-acme-corp-CUST002-22345-\w+)", output)
        assert failed_book is not None

        listing = requests.get(f"{console}?status=FAILED", timeout=30)
        assert listing.status_code == 200
        for error in ("PF360_UNAVAILABLE", "PF360_AUTH"):
            assert error in listing.text
        assert failed_book.group(1) in listing.text

        detail = requests.get(f"{console}executions/{failed_book.group(1)}", timeout=30)
        assert detail.status_code == 200
        assert "dana.ops" in detail.text and "sam.ops" in detail.text  # the audit trail
        assert "already replayed" in detail.text

        ledger = requests.get(f"{sandbox}/__sandbox/bookings", timeout=30).json()["bookings"]
        booked = sorted(entry["project_id"] for entry in ledger if entry["action"] == "book")
        assert booked == ["12345", "22345"]  # the replay booked once; the failures booked nothing
