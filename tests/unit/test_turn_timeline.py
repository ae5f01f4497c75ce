"""The timeline tool splits a booking turn into hops from the calls the servers saw; these
check that split on made-up timelines (the tool itself runs outside `make test`)."""

from __future__ import annotations

import pytest

from tests.bench.turn_timeline import HOPS, Call, hops, summarize


def ms(value: float) -> float:
    return value / 1000


def resume_turn(*, seen_late: bool = False) -> list[Call]:
    """A resumed turn (slots or confirm), times in milliseconds from the Invoke's start."""
    calls = [
        Call(ms(0), ms(60), "Invoke"),
        Call(ms(3), ms(5), "UpdateItem sessions"),
        Call(ms(4), ms(6), "GetItem flows"),  # the checkpoint read ahead
        Call(ms(8), ms(10), "UpdateItem flows"),  # the answer recorded
        Call(ms(11), ms(12), "SendTaskSuccess"),
        Call(ms(15), ms(16), "GetItem sessions"),  # the task reads the token
        Call(ms(18), ms(48), "PF360"),
        Call(ms(44), ms(46), "GetItem flows"),  # a read before the write: sees nothing new
        Call(ms(50), ms(52), "UpdateItem flows"),  # the task's checkpoint write
    ]
    seen_at = 57 if seen_late else 54
    calls.append(Call(ms(seen_at - 2), ms(seen_at), "GetItem flows"))
    return sorted(calls, key=lambda call: call.started)


def test_a_resumed_turn_splits_into_its_hops_and_they_add_up_to_the_turn() -> None:
    found = hops(resume_turn(), turn_ms=63)
    assert found is not None
    assert found["caller + network"] == pytest.approx(3)
    assert found["invoke -> first call"] == pytest.approx(3)
    assert found["session + checkpoint reads"] == pytest.approx(3)
    assert found["answer recorded"] == pytest.approx(2)
    assert found["resume"] == pytest.approx(1)
    assert found["engine + task start"] == pytest.approx(3)
    assert found["PF360"] == pytest.approx(30)
    assert found["gap before write"] == pytest.approx(2)
    assert found["write -> bridge sees it"] == pytest.approx(2)  # not the read before it
    assert found["seen -> answer"] == pytest.approx(6)
    assert sum(found[name] for name in HOPS) == pytest.approx(found["turn"])


def test_the_read_that_sees_the_write_is_the_first_to_end_after_it() -> None:
    found = hops(resume_turn(seen_late=True), turn_ms=63)
    assert found is not None
    assert found["write -> bridge sees it"] == pytest.approx(5)
    assert found["seen -> answer"] == pytest.approx(3)


def test_a_started_flow_resumes_with_start_execution() -> None:
    calls = [
        Call(ms(0), ms(60), "Invoke"),
        Call(ms(3), ms(5), "UpdateItem sessions"),
        Call(ms(4), ms(6), "GetItem flows"),
        Call(ms(8), ms(10), "UpdateItem flows"),  # the checkpoint claimed for the new flow
        Call(ms(11), ms(14), "StartExecution"),
        Call(ms(17), ms(18), "GetItem sessions"),
        Call(ms(20), ms(45), "PF360"),
        Call(ms(30), ms(31), "PutItem executions"),  # the operators' index, during the wait
        Call(ms(48), ms(50), "UpdateItem flows"),
        Call(ms(51), ms(53), "GetItem flows"),
    ]
    found = hops(calls, turn_ms=62)
    assert found is not None
    assert found["resume"] == pytest.approx(3)
    assert found["engine + task start"] == pytest.approx(3)


def test_a_turn_that_did_not_resume_a_flow_is_left_out() -> None:
    refused = [Call(ms(0), ms(8), "Invoke"), Call(ms(3), ms(5), "UpdateItem sessions")]
    assert hops(refused, turn_ms=10) is None
    written = ms(50)
    no_write = [
        c for c in resume_turn() if not (c.label == "UpdateItem flows" and c.started == written)
    ]
    assert hops(no_write, turn_ms=63) is None


def test_the_summary_gives_p50_p90_and_the_slowest_of_each_hop() -> None:
    samples = [hops(resume_turn(), turn_ms=60 + n) for n in range(10)]
    summary = summarize([s for s in samples if s is not None])
    assert summary["turn"]["p50_ms"] == pytest.approx(64.5)
    assert summary["turn"]["p90_ms"] == pytest.approx(69)
    assert summary["turn"]["max_ms"] == pytest.approx(69)
    assert set(summary) == {*HOPS, "turn"}
