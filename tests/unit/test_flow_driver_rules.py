"""The flow driver's pure rules: checking an answer against the offer, and reading an
execution that ended without a checkpoint (the cancellation flow always; a booking when
its last task could not write)."""

from __future__ import annotations

import json
from concurrent.futures import Future
from typing import Any

import pytest
from botocore.exceptions import ClientError

from agent_bridge.checkpoint_read_ahead import READ_AHEAD_MAX_AGE_SECONDS, ReadAhead
from agent_bridge.flow_driver import (
    BOOKING_FAILED_MESSAGE,
    BOOKKEEPING_DELAY_SECONDS,
    DUE_WINDOW_MAX_SECONDS,
    EARLY_MARGIN_SECONDS,
    ENDED_MESSAGE,
    STATUS_DONE,
    STATUS_WAITING,
    STATUS_WORKING,
    FlowDriver,
    FlowView,
    check_answer,
    due_window,
    ended_execution_result,
    execution_arn_of,
    execution_name,
    quickest_recent_wait,
    remember_wait,
    resume_output,
    took,
)
from tasks.checkpoint import Checkpoint


def checkpoint_at(step: str, offer: dict[str, Any], token: str | None = "tok") -> Checkpoint:
    return Checkpoint(session_id="s", flow_id="f", step=step, offer=offer, task_token=token)


DATES: dict[str, Any] = {"dates": ["2026-03-03", "2026-03-04"]}
TIMES: dict[str, Any] = {"date": "2026-03-03", "times": ["08:00", "09:00"]}


@pytest.mark.parametrize(
    ("step", "offer", "answer", "problem"),
    [
        ("await_date", DATES, {"date": "2026-03-04"}, None),
        ("await_date", DATES, {"date": "2026-03-07"}, "2026-03-07 is not available"),
        ("await_date", DATES, {"time": "08:00"}, "Please pick a date first"),
        ("await_slot", TIMES, {"time": "09:00"}, None),
        ("await_slot", TIMES, {"another_date": True}, None),
        ("await_slot", TIMES, {"time": "12:00"}, "12:00 is not free on 2026-03-03"),
        ("await_slot", TIMES, {"date": "2026-03-04"}, "Please pick a time"),
        ("done", {}, {"time": "08:00"}, ENDED_MESSAGE),
    ],
)
def test_check_answer_against_the_stored_offer(
    step: str, offer: dict[str, Any], answer: dict[str, Any], problem: str | None
) -> None:
    found = check_answer(checkpoint_at(step, offer), answer)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_flow_view_status_follows_the_checkpoint() -> None:
    assert FlowView.of(checkpoint_at("await_date", DATES)).status == STATUS_WAITING
    assert FlowView.of(checkpoint_at("await_date", DATES, token=None)).status == STATUS_WORKING
    assert FlowView.of(checkpoint_at("starting", {})).status == STATUS_WORKING
    assert FlowView.of(checkpoint_at("done", {})).status == STATUS_DONE
    assert "task_token" not in FlowView.of(checkpoint_at("await_date", DATES)).to_dict()


def test_a_succeeded_execution_is_read_from_its_output() -> None:
    output = {"outcome": "cancelled", "message": "Your appointment is cancelled."}
    message, result = ended_execution_result(
        {"status": "SUCCEEDED", "output": json.dumps(output)}, "fallback"
    )
    assert (message, result) == ("Your appointment is cancelled.", output)


def test_a_failed_execution_keeps_its_operator_code_and_customer_sentence() -> None:
    message, result = ended_execution_result(
        {"status": "FAILED", "error": "PF360_AUTH", "cause": "Please sign in again."},
        BOOKING_FAILED_MESSAGE,
    )
    assert message == "Please sign in again."
    assert result == {"outcome": "failed", "error": "PF360_AUTH", "cause": "Please sign in again."}


@pytest.mark.parametrize(
    "described",
    [
        {"status": "FAILED", "error": "States.Runtime", "cause": "KeyError in a task"},
        {"status": "ABORTED"},
        {"status": "TIMED_OUT", "error": "States.Timeout"},
    ],
)
def test_other_endings_get_the_fallback_sentence(described: dict[str, str]) -> None:
    message, result = ended_execution_result(described, BOOKING_FAILED_MESSAGE)
    assert message == BOOKING_FAILED_MESSAGE
    assert result["outcome"] == "failed" and result["error"]


def test_execution_names_are_readable_unique_and_safe() -> None:
    name = execution_name("book", "acme corp", "CUST/001", "12345", "0123456789abcdef0123")
    assert name == "book-acme_corp-CUST_001-12345-0123456789abcdef"
    assert len(execution_name("book", "c" * 99, "u" * 99, "p" * 99, "f" * 99)) <= 80


def test_the_execution_arn_follows_from_the_state_machine_and_the_name() -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:scheduler-booking-dev"
    assert execution_arn_of(machine, "book-x") == (
        "arn:aws:states:us-east-1:123456789012:execution:scheduler-booking-dev:book-x"
    )


def test_a_wait_is_resumed_with_the_flow_its_task_published_plus_the_answer() -> None:
    flow = {"request_id": "r1", "dates": ["2026-03-03"], "date": None, "times": [], "notice": None}
    cp = checkpoint_at("await_date", DATES)
    cp.flow = flow
    assert resume_output(cp, {"date": "2026-03-03"}) == {**flow, "answer": {"date": "2026-03-03"}}
    # Parked by an earlier version (no flow in the item): its state machine takes the answer.
    assert resume_output(checkpoint_at("await_date", DATES), {"date": "2026-03-03"}) == {
        "date": "2026-03-03"
    }


class ScriptedTable:
    """A flows table whose item moves on after a given number of reads."""

    def __init__(self, moves_after_reads: int) -> None:
        self.reads = 0
        self.moves_after_reads = moves_after_reads

    def get_item(self, **_: Any) -> dict[str, Any]:
        self.reads += 1
        seq = 2 if self.reads > self.moves_after_reads else 1
        item = {"session_id": "s", "flow_id": "f", "step": "await_slot", "seq": seq}
        return {"Item": {**item, "task_token": "tok"}}


class NoExecutionYet:
    """Step Functions before StartExecution has answered: the execution does not exist."""

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        error = {"Error": {"Code": "ExecutionDoesNotExist", "Message": executionArn}}
        raise ClientError(error, "DescribeExecution")


def driver_over(table: Any) -> FlowDriver:
    return FlowDriver(
        flows_table=table,
        booking_state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:b",
        cancellation_state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:c",
        sfn=NoExecutionYet(),
    )


def test_the_first_read_waits_for_the_quickest_recent_wait_of_its_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("agent_bridge.flow_driver.time.sleep", sleeps.append)
    monkeypatch.setattr("agent_bridge.flow_driver._recent_waits", {})
    table = ScriptedTable(moves_after_reads=2)
    view = driver_over(table).wait_for_change("s", 1, kind="await_date")
    # Nothing learned yet: read at once, then after 4 ms, 6 ms...
    assert view.seq == 2 and table.reads == 3 and sleeps == [0.004, 0.006]
    assert quickest_recent_wait("await_date") is not None  # (that wait took no time here)
    monkeypatch.setattr("agent_bridge.flow_driver._recent_waits", {})
    remember_wait("await_date", 0.120)
    remember_wait("await_date", 0.100)
    sleeps.clear()
    table = ScriptedTable(moves_after_reads=0)
    assert driver_over(table).wait_for_change("s", 1, kind="await_date").seq == 2
    # One sleep until just before the quickest (the sleeps here took no time), then one read.
    assert sleeps == [pytest.approx(0.100 - EARLY_MARGIN_SECONDS)] and table.reads == 1
    # A wait of another kind, or without a kind, learns nothing from these.
    sleeps.clear()
    assert driver_over(ScriptedTable(moves_after_reads=0)).wait_for_change("s", 1).seq == 2
    assert sleeps == []


def fake_clock(monkeypatch: pytest.MonkeyPatch) -> tuple[list[float], list[float]]:
    """The driver's sleeps take no time but move its monotonic clock; nothing learned yet.
    Returns (the clock, as a one-item list; every sleep asked for)."""
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr("agent_bridge.flow_driver.time.sleep", sleep)
    monkeypatch.setattr("agent_bridge.flow_driver.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("agent_bridge.flow_driver._recent_waits", {})
    return clock, sleeps


def test_reads_stay_fine_while_the_step_is_due_then_thin_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between the quickest and the slowest recent wait of its kind the step is due any
    moment: a step a little slower than the quickest is seen within a few milliseconds
    (a growing gap would see it up to 15-20 ms late); past the window the gap grows."""
    clock, sleeps = fake_clock(monkeypatch)
    remember_wait("await_slot", 0.100)
    remember_wait("await_slot", 0.130)
    table = ScriptedTable(moves_after_reads=6)
    assert driver_over(table).wait_for_change("s", 1, kind="await_slot").seq == 2
    assert sleeps[0] == pytest.approx(0.100 - EARLY_MARGIN_SECONDS)
    assert sleeps[1:] == pytest.approx([0.004] * 6)
    # Past the slowest recent wait (plus the margin) the gap grows again.
    sleeps.clear()
    clock[0] = 0.0
    table = ScriptedTable(moves_after_reads=14)
    assert driver_over(table).wait_for_change("s", 1, kind="await_slot").seq == 2
    fine = [gap for gap in sleeps[1:] if gap == pytest.approx(0.004)]
    assert len(fine) >= 9 and sleeps[1 : 1 + len(fine)] == fine
    assert sleeps[1 + len(fine) :] == pytest.approx([0.006, 0.009, 0.0135, 0.02025])
    # A window is never longer than DUE_WINDOW_MAX_SECONDS, however slow one wait was.
    remember_wait("await_slot", 5.0)
    assert due_window("await_slot") == (0.100, pytest.approx(0.100 + DUE_WINDOW_MAX_SECONDS))


class SlowScriptedTable(ScriptedTable):
    """A ScriptedTable whose every read takes `seconds` of the fake clock."""

    def __init__(self, moves_after_reads: int, clock: list[float], seconds: float) -> None:
        super().__init__(moves_after_reads)
        self.clock, self.seconds = clock, seconds

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.clock[0] += self.seconds
        return super().get_item(**kwargs)


def test_while_due_a_read_starts_every_interval_counting_its_own_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 3 ms read followed by a 4 ms sleep saw a step up to 7 ms late; the gap is now what is
    left of the interval, never below a quarter of it (a slow table is not hammered)."""
    clock, sleeps = fake_clock(monkeypatch)
    remember_wait("await_slot", 0.100)
    remember_wait("await_slot", 0.130)
    table = SlowScriptedTable(moves_after_reads=4, clock=clock, seconds=0.003)
    assert driver_over(table).wait_for_change("s", 1, kind="await_slot").seq == 2
    assert sleeps[1:] == pytest.approx([0.001] * 4)
    sleeps.clear()
    clock[0] = 0.0
    table = SlowScriptedTable(moves_after_reads=3, clock=clock, seconds=0.010)
    assert driver_over(table).wait_for_change("s", 1, kind="await_slot").seq == 2
    assert sleeps[1:] == pytest.approx([0.001] * 3)


def test_bookkeeping_runs_once_inside_a_long_first_sleep_else_before_the_first_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The execution index write after a start waits until the engine has handed the task
    its work (it competed with the engine's start); a short wait does it first."""
    clock, sleeps = fake_clock(monkeypatch)
    done: list[float] = []
    remember_wait("start", 0.100)
    table = ScriptedTable(moves_after_reads=0)
    view = driver_over(table).wait_for_change(
        "s", 1, kind="start", meanwhile=lambda: done.append(clock[0])
    )
    assert view.seq == 2 and done == [pytest.approx(BOOKKEEPING_DELAY_SECONDS)]
    assert sleeps == pytest.approx(
        [BOOKKEEPING_DELAY_SECONDS, 0.100 - EARLY_MARGIN_SECONDS - BOOKKEEPING_DELAY_SECONDS]
    )
    # A wait too short to fit it (or one with nothing learned yet): first thing, once.
    for quickest in (0.015, None):
        monkeypatch.setattr("agent_bridge.flow_driver._recent_waits", {})
        if quickest is not None:
            remember_wait("start", quickest)
        done.clear()
        sleeps.clear()
        clock[0] = 0.0
        table = ScriptedTable(moves_after_reads=1)
        driver_over(table).wait_for_change(
            "s", 1, kind="start", meanwhile=lambda: done.append(clock[0])
        )
        assert len(done) == 1 and done[0] == pytest.approx(sum(sleeps[:-1]) if quickest else 0)


def test_a_long_wait_is_read_less_and_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many turns waiting at once on a busy system must not hammer the table: after the
    first reads, the gap grows with the time waited (a fifth of it), not capped at 50 ms."""
    clock, sleeps = fake_clock(monkeypatch)
    table = ScriptedTable(moves_after_reads=10_000)  # never moves: the deadline ends it
    driver = driver_over(table)
    driver.stall_check_seconds = 60  # (no DescribeExecution in this test)
    view = driver.wait_for_change("s", 1, deadline=10.0)
    assert view.status == "working"
    assert clock[0] == pytest.approx(10.0)
    # At a fixed 50 ms that would be about 200 reads; growing with the wait, a few dozen.
    assert table.reads < 40, table.reads
    assert sleeps[:3] == pytest.approx([0.004, 0.006, 0.009])  # a quick step: seen at once
    late = [s for s in sleeps if s > 0.05]
    assert late and max(late) <= 0.2 * 10.0 + 1e-9


def test_a_starting_item_names_an_execution_that_may_not_exist_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("agent_bridge.flow_driver.time.sleep", lambda _: None)
    driver = driver_over(ScriptedTable(moves_after_reads=0))
    cp = checkpoint_at("starting", {}, token=None)
    cp.execution_arn = "arn:aws:states:us-east-1:1:execution:b:x"
    # The stall check finds no execution: still starting, not an error and not an ending.
    assert driver._ended_execution(cp) is None


def test_a_wait_is_learned_from_when_the_step_wrote_not_from_when_it_was_seen() -> None:
    """A read long after the write must not teach a late first read (or every later first
    read would stay that late); the write time is trusted only up to when it was seen."""
    cp = checkpoint_at("await_slot", TIMES)
    began = 1_000.0
    cp.updated_ms = int((began + 0.050) * 1000)
    assert took(cp, seen_after=0.400, began_wall=began) == pytest.approx(0.050)
    cp.updated_ms = int((began + 0.900) * 1000)  # a clock ahead: never more than seen
    assert took(cp, seen_after=0.400, began_wall=began) == pytest.approx(0.400)
    cp.updated_ms = int((began - 0.100) * 1000)  # a clock behind: never negative
    assert took(cp, seen_after=0.400, began_wall=began) == 0.0
    cp.updated_ms = 0  # written by an earlier version
    assert took(cp, seen_after=0.400, began_wall=began) == pytest.approx(0.400)


def done_read_ahead(session_id: str, cp: Checkpoint | None, started: float) -> ReadAhead:
    future: Future[Checkpoint | None] = Future()
    future.set_result(cp)
    return ReadAhead(session_id=session_id, started=started, future=future)


def test_a_turn_uses_the_checkpoint_read_while_its_session_was_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The read made alongside the session's is the turn's first read: the table is not
    read again (one GetItem fewer on the turn's path), and only once."""
    clock, _ = fake_clock(monkeypatch)
    table = ScriptedTable(moves_after_reads=0)
    driver = driver_over(table)
    ahead_cp = checkpoint_at("await_date", DATES)
    driver.use_read_ahead(done_read_ahead("s", ahead_cp, started=clock[0]))
    clock[0] += READ_AHEAD_MAX_AGE_SECONDS / 2
    view = driver.current("s")
    assert table.reads == 0 and view.step == "await_date" and view.offer == DATES
    assert driver._checkpoint("s") is ahead_cp  # the turn's start/resume takes the same copy
    assert table.reads == 0
    driver.current("s")  # a later read in the same turn goes to the table
    assert table.reads == 1
    # A read made before a wait is not used after it, however quick the wait was.
    driver.use_read_ahead(done_read_ahead("s", ahead_cp, started=clock[0]))
    driver.wait_for_change("s", 1)
    reads = table.reads
    assert driver.current("s").seq == 2 and table.reads == reads + 1


@pytest.mark.parametrize(
    ("session_id", "age"),
    [("other", 0.0), ("s", READ_AHEAD_MAX_AGE_SECONDS * 2)],
    ids=["another session's", "an old copy"],
)
def test_a_read_ahead_of_another_session_or_too_old_is_not_used(
    monkeypatch: pytest.MonkeyPatch, session_id: str, age: float
) -> None:
    """A copy read before a slow step (a PF360 call) is read again instead of decided on."""
    clock, _ = fake_clock(monkeypatch)
    table = ScriptedTable(moves_after_reads=0)
    driver = driver_over(table)
    driver.use_read_ahead(
        done_read_ahead(session_id, checkpoint_at("await_date", DATES), started=clock[0])
    )
    clock[0] += age
    view = driver.current("s")
    assert table.reads == 1 and view.step == "await_slot" and view.seq == 2


def test_a_read_ahead_that_failed_fails_the_turn_like_the_read_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock, _ = fake_clock(monkeypatch)
    future: Future[Checkpoint | None] = Future()
    error = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")
    future.set_exception(error)
    driver = driver_over(ScriptedTable(moves_after_reads=0))
    driver.use_read_ahead(ReadAhead(session_id="s", started=clock[0], future=future))
    with pytest.raises(ClientError):
        driver.current("s")


def test_the_read_ahead_runs_in_the_callers_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment (a context variable in the in-process runtime, which the
    least-privilege recorder attributes calls by) goes along to the reader thread."""
    from agent_bridge import checkpoint_read_ahead
    from tasks.config import current_environ, function_environment

    seen: list[str | None] = []

    def read(table_name: str, region: str, session_id: str) -> Checkpoint | None:
        seen.append(current_environ().get("AWS_LAMBDA_FUNCTION_NAME"))
        return None

    monkeypatch.setattr(checkpoint_read_ahead, "_read", read)
    with function_environment({"AWS_LAMBDA_FUNCTION_NAME": "scheduling-actions-test"}):
        ahead = checkpoint_read_ahead.start("flows", "us-east-1", "s")
    assert ahead.result() is None and seen == ["scheduling-actions-test"]
