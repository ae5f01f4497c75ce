"""`make run` is quiet by default: its URLs, then one line per chat turn, no JSON logs.

Starts the real `make run` (all ports 0 = any free port), sends one chat message over HTTP
and reads what the terminal would show.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.local.dev_tokens import mint_customer_token
from tests.integration.terminal import Terminal, start_make

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180


@pytest.fixture
def make_run() -> Iterator[Terminal]:
    with start_make("run") as terminal:
        yield terminal


def test_make_run_prints_its_urls_then_one_line_per_turn_and_no_json(make_run: Terminal) -> None:
    api = make_run.wait_for(r"Chat API\s+: POST (\S+)", STARTUP_SECONDS).group(1)
    make_run.wait_for(r"Ctrl-C stops everything", 30)
    token = mint_customer_token("CUST001", "acme-corp")
    answer = requests.post(
        api,
        json={"message": "schedule project 1"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    turn = make_run.wait_for(r"turn\s+(\S+)\s+(.+?)\s+(\d+) ms$", 30)
    assert turn.group(1) == "CUST001"
    # Starting a booking runs the workflow's task Lambdas, which log JSON at INFO.
    assert turn.group(2).endswith("scheduling-actions /get_available_dates 200")
    time.sleep(1)  # anything logged after the turn would show up now
    make_run.drain()
    assert not [line for line in make_run.lines if line.lstrip().startswith("{")]
    assert token not in "\n".join(make_run.lines)
