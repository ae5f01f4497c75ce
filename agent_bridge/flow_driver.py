"""The flow driver: start, resume, watch and supersede booking flows, with no Bedrock in sight.

The action-group Lambdas call this; so do tests and the benchmark. It keeps no flow state
itself: the execution holds the flow, and the checkpoint item (tasks/checkpoint.py) tells
where it stands. After StartExecution or SendTaskSuccess it polls that item until `seq`
moves, and asks DescribeExecution when it stalls. Stale or used tokens, expired waits and
superseded flows are normal outcomes with a sentence, not crashes. Task tokens stay in the
flows table: they are read here only to be handed to SendTaskSuccess/SendTaskFailure.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from agent_bridge.checkpoint_read_ahead import ReadAhead
from tasks import checkpoint
from tasks.checkpoint import Checkpoint
from tasks.execution_index import ExecutionIndex
from tasks.flow_errors import FAILURE_CODES
from tasks.flow_input import FlowInput, Tenant
from tasks.session_record import SessionRecord
from tasks.verification import CONFIRMING_CANCEL_MESSAGE

log = logging.getLogger(__name__)

STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
NO_FLOW_MESSAGE = "There is no booking in progress; ask to schedule a project to start one."
STILL_WORKING_MESSAGE = "I'm still working on that; please ask me again in a moment."
ENDED_MESSAGE = "That booking session has already ended; ask to schedule again to start over."
BOOKING_FAILED_MESSAGE = "Something went wrong on our side; nothing was booked. Please try again."
CANCEL_FAILED_MESSAGE = "The cancellation could not be completed."
# The operator code of a booking whose execution could not be started.
START_FAILED = "START_FAILED"
SUPERSEDED = "You started a new booking, so the earlier one was dropped."
EARLIER_STILL_WORKING_MESSAGE = (
    "I'm still finishing your earlier booking; please ask me again in a moment."
)
SESSION_ENDED_MESSAGE = (
    "Your chat session expired, so this booking was stopped and nothing was booked. "
    "Sign in again and ask to schedule whenever you are ready."
)
EXPIRED_FLOW_MESSAGE = (
    "Your earlier booking request expired after 30 minutes without an answer, so nothing was "
    "booked. Ask for the available dates to start again."
)
# The cancellation workflow's state while it verifies an unknown outcome.
RECHECK_CANCELLATION_STATE = "RecheckCancellation"

# How long each kind of wait (a start, an answered date, an answered time) took lately in
# this execution environment (module state: one environment serves one request at a time,
# as on AWS). The poll sleeps until a little before the quickest of them, so a turn needs a
# read or two instead of a dozen, and a step that is quicker than all of them is still seen
# within that margin plus the usual fine polls.
RECENT_WAITS_KEPT = 16
EARLY_MARGIN_SECONDS = 0.003
_recent_waits: dict[str, deque[float]] = {}


# Between the quickest and the slowest recent wait of its kind a step is due any moment: the
# checkpoint is read every `first_poll_interval` there (a read is a millisecond or two of
# the table's time), for at most this long, then less and less often as before.
DUE_WINDOW_MAX_SECONDS = 0.06

# Bookkeeping a turn does while it waits (the operators' execution index, after a start) is
# done this long into a wait that will sleep anyway, once the engine has handed the step's
# task its work (else its write competes with the engine's start for the same resources);
# a wait too short for that does it first, as before.
BOOKKEEPING_DELAY_SECONDS = 0.012
BOOKKEEPING_SLACK_SECONDS = 0.01


def quickest_recent_wait(kind: str) -> float | None:
    recent = _recent_waits.get(kind)
    return min(recent) if recent else None


def due_window(kind: str) -> tuple[float, float] | None:
    """(quickest, slowest) of the recent waits of `kind`, the slowest capped to
    DUE_WINDOW_MAX_SECONDS after the quickest; None without any."""
    recent = _recent_waits.get(kind)
    if not recent:
        return None
    quickest = min(recent)
    return quickest, min(max(recent), quickest + DUE_WINDOW_MAX_SECONDS)


def took(cp: Checkpoint, seen_after: float, began_wall: float) -> float:
    """How long the step took: from the item's own write time (what was seen is only an upper
    bound: the read may come well after the write, and learning from it would never let the
    first read move earlier), never more than when it was seen."""
    if not cp.updated_ms:
        return seen_after
    return min(seen_after, max(0.0, cp.updated_ms / 1000 - began_wall))


def remember_wait(kind: str, seconds: float) -> None:
    _recent_waits.setdefault(kind, deque(maxlen=RECENT_WAITS_KEPT)).append(seconds)


STATUS_WAITING = "waiting"
STATUS_DONE = "done"
STATUS_WORKING = "working"
STATUS_NONE = "none"
STATUS_INVALID = "invalid"


POLL_SHARE_OF_WAIT = 0.2  # a long wait is read at most this share of its length late


@dataclass
class FlowView:
    """Where a session's flow stands, in the words the bridge answers with."""

    status: str
    message: str
    step: str | None = None
    offer: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    execution_arn: str | None = None
    flow_id: str | None = None
    project_id: str | None = None
    seq: int = 0

    @classmethod
    def of(cls, cp: Checkpoint) -> FlowView:
        if cp.step == checkpoint.STEP_DONE:
            status = STATUS_DONE
        elif cp.waiting:
            status = STATUS_WAITING
        else:
            status = STATUS_WORKING
        return cls(
            status=status,
            message=cp.message or (STILL_WORKING_MESSAGE if status == STATUS_WORKING else ""),
            step=cp.step,
            offer=cp.offer,
            outcome=cp.outcome,
            result=cp.result,
            execution_arn=cp.execution_arn,
            flow_id=cp.flow_id,
            project_id=cp.project_id,
            seq=cp.seq,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "step": self.step,
            "offer": self.offer,
            "outcome": self.outcome,
            "result": self.result,
            "project_id": self.project_id,
        }


def execution_arn_of(state_machine_arn: str, name: str) -> str:
    """The ARN StartExecution gives an execution `name` of this state machine
    (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`)."""
    prefix, marker, machine = state_machine_arn.partition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}" if marker else f"{state_machine_arn}:{name}"


def resume_output(cp: Checkpoint, answer: dict[str, Any]) -> dict[str, Any]:
    """SendTaskSuccess's output: the flow state the waiting task published plus the answer
    (the state machine takes it as `$.flow`). A task parked by an earlier version published
    no flow: its execution takes the bare answer."""
    if not cp.flow:
        return dict(answer)
    return {**cp.flow, "answer": dict(answer)}


def execution_name(
    kind: str, client_id: str, customer_id: str, project_id: str, flow_id: str
) -> str:
    """Readable and unique: `book-acme-corp-CUST001-12345-<flow>` (≤ 80 chars, SFN-safe)."""

    def clean(text: str, limit: int) -> str:
        return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:limit]

    return "-".join(
        [kind, clean(client_id, 20), clean(customer_id, 16), clean(project_id, 16), flow_id[:16]]
    )[:80]


class FlowDriver:
    """Drives booking and cancellation executions for chat sessions."""

    def __init__(
        self,
        *,
        flows_table: Any,
        booking_state_machine_arn: str,
        cancellation_state_machine_arn: str,
        sfn: Any | None = None,
        poll_interval: float = 0.05,
        first_poll_interval: float = 0.004,
        deadline_seconds: float = 10.0,
        stall_check_seconds: float = 1.0,
        executions_index: ExecutionIndex | None = None,
    ) -> None:
        self.table = flows_table
        self.booking_arn = booking_state_machine_arn
        self.cancellation_arn = cancellation_state_machine_arn
        self.sfn = sfn or boto3.client("stepfunctions")
        self.poll_interval = poll_interval
        self.first_poll_interval = min(first_poll_interval, poll_interval)
        # The checkpoint `current()` just read (None: there was none), used once by the
        # start/resume that follows in the same turn instead of a second read. A resume's
        # writes are conditional on flow_id and seq, so a checkpoint that moved in between is
        # caught there; a start claims the item as it would after reading it done.
        self._just_read: dict[str, Checkpoint | None] = {}
        # The checkpoint read made while the turn's session was validated (used once, fresh).
        self._read_ahead: ReadAhead | None = None
        self.deadline_seconds = deadline_seconds
        self.stall_check_seconds = stall_check_seconds
        self.index = executions_index

    # ------------------------------------------------------------------ reading

    def use_read_ahead(self, ahead: ReadAhead) -> None:
        """The turn's first checkpoint read is this one, made while the session was validated
        (agent_bridge/checkpoint_read_ahead.py), if it is still fresh when it is needed."""
        self._read_ahead = ahead

    def _first_read(self, session_id: str) -> Checkpoint | None:
        ahead, self._read_ahead = self._read_ahead, None
        if ahead is not None and ahead.usable_for(session_id):
            return ahead.result()
        return checkpoint.read(self.table, session_id)

    def current(self, session_id: str) -> FlowView:
        cp = self._first_read(session_id)
        self._just_read[session_id] = cp
        if cp is None:
            return FlowView(status=STATUS_NONE, message=NO_FLOW_MESSAGE)
        return FlowView.of(cp)

    def _checkpoint(self, session_id: str) -> Checkpoint | None:
        """The checkpoint `current()` read in this turn (once), else a fresh read."""
        if session_id in self._just_read:
            return self._just_read.pop(session_id)
        return self._first_read(session_id)

    def wait_for_change(
        self,
        session_id: str,
        after_seq: int,
        deadline: float | None = None,
        *,
        flow: Checkpoint | None = None,
        kind: str | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> FlowView:
        """Poll the checkpoint until it moves past `after_seq` (consistent reads): first after
        a few milliseconds, then less often (x1.5 each time, up to `poll_interval`, or a
        fifth of the time waited so far when that is longer), so a quick step is seen at
        once and a slow one (or many at once on a busy system) does not hammer the table.
        With `kind` (what was just started or answered), the first read waits until shortly
        before the quickest recent wait of that kind in this environment, and reads stay
        fine until the slowest recent one (at most DUE_WINDOW_MAX_SECONDS more).

        With `flow` (the checkpoint being answered), a newer flow that has already taken the
        item over does not answer for it: the answered flow's own execution does.

        `meanwhile` (bookkeeping that need not come first) runs once, before the first read:
        BOOKKEEPING_DELAY_SECONDS into the first sleep when that sleep is long enough.
        """
        self._just_read.pop(session_id, None)
        self._read_ahead = None  # a read from before the wait is no turn's first read after it
        began, began_wall = time.monotonic(), time.time()
        end = began + (deadline if deadline is not None else self.deadline_seconds)
        next_stall_check = began + self.stall_check_seconds
        delay = self.first_poll_interval
        window = due_window(kind) if kind else None
        due_until = began
        if window is not None:
            quickest, slowest = window
            due_until = began + slowest + EARLY_MARGIN_SECONDS
            first_read = min(quickest - EARLY_MARGIN_SECONDS, self.stall_check_seconds)
            if first_read > delay:
                if meanwhile is not None and first_read >= (
                    BOOKKEEPING_DELAY_SECONDS + BOOKKEEPING_SLACK_SECONDS
                ):
                    time.sleep(BOOKKEEPING_DELAY_SECONDS)
                    meanwhile()
                    meanwhile = None
                    first_read -= time.monotonic() - began
                if first_read > 0:
                    time.sleep(first_read)
        if meanwhile is not None:
            meanwhile()
        while True:
            read_at = time.monotonic()
            cp = checkpoint.read(self.table, session_id)
            if cp is not None and flow is not None and flow.execution_arn and taken_over(cp, flow):
                # (Also while the newer flow is still starting: its view is not this answer.)
                return self._outcome_of(flow, end)
            if cp is not None and cp.seq > after_seq and cp.step != checkpoint.STEP_STARTING:
                if kind:
                    remember_wait(kind, took(cp, time.monotonic() - began, began_wall))
                return FlowView.of(cp)
            now = time.monotonic()
            if cp is not None and cp.execution_arn and now >= next_stall_check:
                next_stall_check = now + self.stall_check_seconds
                ended = self._ended_execution(cp)
                if ended is not None:
                    return ended
            if now >= end:
                view = FlowView.of(cp) if cp is not None else FlowView(STATUS_NONE, NO_FLOW_MESSAGE)
                view.status, view.message = STATUS_WORKING, STILL_WORKING_MESSAGE
                return view
            if now < due_until:
                # The step is due any moment: a read starts every `first_poll_interval` (the
                # read's own round trip counts, else a slow table would stretch the gaps),
                # with at least a quarter of it between reads (a slow table is not hammered).
                gap = max(self.first_poll_interval - (now - read_at), self.first_poll_interval / 4)
                time.sleep(min(gap, max(end - now, 0.0)))
                continue
            time.sleep(min(delay, max(end - now, 0.0)))
            # A wait that is already long (a busy system) is read less often: at most a
            # fifth of the wait so far late, instead of every `poll_interval` for seconds.
            ceiling = max(self.poll_interval, (now - began) * POLL_SHARE_OF_WAIT)
            delay = min(delay * 1.5, ceiling)

    def _outcome_of(self, flow: Checkpoint, end: float) -> FlowView:
        """How `flow` ended, from its execution (its checkpoint now belongs to a newer flow)."""
        assert flow.execution_arn
        while True:
            described = self._describe(flow.execution_arn)
            if described["status"] != "RUNNING":
                return _ended_view(described, flow)
            if time.monotonic() >= end:
                return FlowView(
                    status=STATUS_WORKING,
                    message=STILL_WORKING_MESSAGE,
                    execution_arn=flow.execution_arn,
                    flow_id=flow.flow_id,
                    project_id=flow.project_id,
                    seq=flow.seq,
                )
            time.sleep(self.poll_interval)

    def _ended_execution(self, cp: Checkpoint) -> FlowView | None:
        """The execution ended without moving the checkpoint: report its own outcome."""
        assert cp.execution_arn
        described = self._describe(cp.execution_arn)
        if described["status"] == "RUNNING":
            return None
        latest = checkpoint.read(self.table, cp.session_id)
        if latest is not None and latest.seq > cp.seq and not taken_over(latest, cp):
            return FlowView.of(latest)
        # (A newer flow that has taken the item over does not answer for this one.)
        return _ended_view(described, cp)

    def _describe(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution; an execution that does not exist (yet) counts as running: a
        starting flow's item names its execution before StartExecution has answered, and a
        StartExecution that failed marks the item failed itself."""
        try:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise
            return {"status": "RUNNING", "executionArn": execution_arn}
        return described

    # ------------------------------------------------------------------ booking

    def start_booking(
        self,
        session: SessionRecord,
        project_id: str,
        timezone: str,
        order_number: str | None = None,
    ) -> FlowView:
        """Start a booking for this session (superseding a waiting one); returns the first offer."""
        previous = self._checkpoint(session.session_id)
        while previous is not None and previous.step != checkpoint.STEP_DONE:
            if previous.step == checkpoint.STEP_CONFIRMING:
                # PF360 may have taken that booking: it is verified to the end, never dropped.
                return FlowView.of(previous)
            if previous.answered_seq != previous.seq and self.supersede(previous, SUPERSEDED):
                break
            # The waiting step was answered: that answer may be booking in PF360 right now,
            # so it finishes (and its customer hears how) before a new booking takes over.
            settled = self.wait_for_change(session.session_id, previous.seq, flow=previous)
            if settled.status == STATUS_DONE:
                break  # (also when its execution ended without a final checkpoint)
            if settled.seq <= previous.seq:  # still at it when the deadline came
                settled.message = EARLIER_STILL_WORKING_MESSAGE
                return settled
            previous = checkpoint.read(self.table, session.session_id)
        flow_id = uuid.uuid4().hex
        name = execution_name("book", session.client_id, session.customer_id, project_id, flow_id)
        expected_arn = execution_arn_of(self.booking_arn, name)
        seq = checkpoint.claim(self.table, session.session_id, flow_id, project_id, expected_arn)
        flow = FlowInput(
            session_id=session.session_id,
            flow_id=flow_id,
            tenant=Tenant(
                client_id=session.client_id,
                client_name=session.client_name,
                environment=session.environment,
                timezone=timezone,
            ),
            customer_id=session.customer_id,
            project_id=project_id,
        )
        try:
            started = self.sfn.start_execution(
                stateMachineArn=self.booking_arn, name=name, input=json.dumps(flow.to_dict())
            )
        except Exception:
            # The item must not say "starting" for an execution that may never exist.
            checkpoint.finish(
                self.table,
                session_id=session.session_id,
                flow_id=flow_id,
                outcome=checkpoint.OUTCOME_FAILED,
                message=BOOKING_FAILED_MESSAGE,
                result={
                    "outcome": checkpoint.OUTCOME_FAILED,
                    "error": START_FAILED,
                    "cause": BOOKING_FAILED_MESSAGE,
                },
            )
            raise
        if started["executionArn"] != expected_arn:
            checkpoint.set_execution(
                self.table, session.session_id, flow_id, started["executionArn"]
            )
        arn = started["executionArn"]
        return self.wait_for_change(
            session.session_id,
            seq,
            kind="start",
            meanwhile=lambda: self._index("booking", arn, session, project_id, order_number),
        )

    def resume(self, session_id: str, answer: dict[str, Any]) -> FlowView:
        """Answer the waiting step: a date, a time, or another date. Repeats are harmless."""
        cp = self._checkpoint(session_id)
        if cp is None:
            return FlowView(status=STATUS_NONE, message=NO_FLOW_MESSAGE)
        repeat = self._repeat_of_earlier_answer(cp, answer)
        if repeat is not None:
            return repeat
        if cp.step == checkpoint.STEP_DONE:
            view = FlowView.of(cp)
            view.message = f"{ENDED_MESSAGE} ({cp.message})" if cp.message else ENDED_MESSAGE
            return view
        if not cp.waiting:
            return self.wait_for_change(session_id, cp.seq, flow=cp)
        problem = check_answer(cp, answer)
        if problem is not None:
            view = FlowView.of(cp)
            view.status, view.message = STATUS_INVALID, problem
            return view
        if not checkpoint.record_answer(self.table, session_id, cp.flow_id, cp.seq, answer):
            return self.wait_for_change(session_id, cp.seq, flow=cp)
        try:
            self.sfn.send_task_success(
                taskToken=cp.task_token, output=json.dumps(resume_output(cp, answer))
            )
        except ClientError as error:
            if error.response["Error"]["Code"] not in STALE_TOKEN_ERRORS:
                raise
            return self._stale(cp)
        # (Asking for another date is quicker than booking a time: kept apart.)
        kind = f"{cp.step}:{','.join(sorted(answer))}"
        return self.wait_for_change(session_id, cp.seq, flow=cp, kind=kind)

    def _index(
        self,
        kind: str,
        arn: str,
        session: SessionRecord,
        project_id: str,
        order_number: str | None = None,
    ) -> None:
        """Business-key lookup for operators (a failure here must not fail the customer)."""
        if self.index is None:
            return
        try:
            self.index.record(
                kind=kind,
                execution_arn=arn,
                client_id=session.client_id,
                customer_id=session.customer_id,
                project_id=project_id,
                order_number=order_number,
                customer_name=session.customer_name,
            )
        except ClientError:
            log.exception("could not index execution %s", arn.rsplit(":", 1)[-1])

    def _repeat_of_earlier_answer(self, cp: Checkpoint, answer: dict[str, Any]) -> FlowView | None:
        """Agents call twice: the same date or time again returns where the flow now is."""
        if cp.answered_seq == cp.seq and cp.answer == answer:
            return self.wait_for_change(cp.session_id, cp.seq, flow=cp)
        if cp.step == checkpoint.STEP_AWAIT_SLOT and answer.get("date") == cp.offer.get("date"):
            return FlowView.of(cp)
        if (
            cp.step == checkpoint.STEP_DONE
            and cp.outcome == checkpoint.OUTCOME_BOOKED
            and answer.get("time") == cp.result.get("time")
            and answer.get("date", cp.result.get("date")) == cp.result.get("date")
        ):
            return FlowView.of(cp)
        return None

    def _stale(self, cp: Checkpoint) -> FlowView:
        ended = self._ended_execution(cp) if cp.execution_arn else None
        if ended is not None:
            ended.message = f"{ENDED_MESSAGE} ({ended.message})"
            return ended
        return FlowView(status=STATUS_DONE, message=ENDED_MESSAGE, step=checkpoint.STEP_DONE)

    def end_for_expired_session(self, session_id: str) -> bool:
        """The session has expired: end its waiting flow now instead of at the wait's timeout.
        A flow that is confirming an unknown outcome keeps going (it records the truth)."""
        cp = checkpoint.read(self.table, session_id)
        if cp is None or cp.step in (checkpoint.STEP_DONE, checkpoint.STEP_CONFIRMING):
            return False
        return self.supersede(
            cp, SESSION_ENDED_MESSAGE, error="SessionExpired", outcome=checkpoint.OUTCOME_EXPIRED
        )

    def supersede(
        self,
        cp: Checkpoint,
        reason: str,
        *,
        error: str = "Superseded",
        outcome: str = checkpoint.OUTCOME_SUPERSEDED,
    ) -> bool:
        """Drop a flow that is not done: mark the checkpoint first, then end the execution."""
        old = checkpoint.mark_superseded(self.table, cp.session_id, cp.flow_id, reason, outcome)
        if old is None:
            return False
        try:
            if old.task_token:
                self.sfn.send_task_failure(taskToken=old.task_token, error=error, cause=reason)
            elif old.execution_arn:
                self.sfn.stop_execution(executionArn=old.execution_arn, error=error, cause=reason)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in STALE_TOKEN_ERRORS and code != "ExecutionDoesNotExist":
                raise
        return True

    # ------------------------------------------------------------------ cancellation

    def cancel(
        self,
        session: SessionRecord,
        project_id: str,
        timezone: str,
        order_number: str | None = None,
    ) -> FlowView:
        """Run the cancellation flow and wait for its outcome (it has no customer waits)."""
        flow_id = uuid.uuid4().hex
        flow = FlowInput(
            session_id=session.session_id,
            flow_id=flow_id,
            tenant=Tenant(session.client_id, session.client_name, session.environment, timezone),
            customer_id=session.customer_id,
            project_id=project_id,
        )
        name = execution_name("cancel", session.client_id, session.customer_id, project_id, flow_id)
        started = self.sfn.start_execution(
            stateMachineArn=self.cancellation_arn, name=name, input=json.dumps(flow.to_dict())
        )
        arn = started["executionArn"]
        self._index("cancellation", arn, session, project_id, order_number)
        end = time.monotonic() + self.deadline_seconds
        next_stall_check = time.monotonic() + self.stall_check_seconds
        delay = self.first_poll_interval
        while time.monotonic() < end:
            if time.monotonic() >= next_stall_check:
                next_stall_check = time.monotonic() + self.stall_check_seconds
                if self._rechecking(arn):
                    return FlowView(
                        status=STATUS_WORKING,
                        message=CONFIRMING_CANCEL_MESSAGE,
                        step=checkpoint.STEP_CONFIRMING,
                        execution_arn=arn,
                        flow_id=flow_id,
                        project_id=project_id,
                    )
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                message, output = ended_execution_result(described, CANCEL_FAILED_MESSAGE)
                return FlowView(
                    status=STATUS_DONE,
                    message=message,
                    step=checkpoint.STEP_DONE,
                    outcome=output.get("outcome") or checkpoint.OUTCOME_FAILED,
                    result=output,
                    execution_arn=arn,
                    flow_id=flow_id,
                    project_id=project_id,
                )
            time.sleep(delay)
            delay = min(delay * 1.5, self.poll_interval)
        return FlowView(
            status=STATUS_WORKING,
            message=STILL_WORKING_MESSAGE,
            execution_arn=arn,
            flow_id=flow_id,
            project_id=project_id,
        )

    def _rechecking(self, execution_arn: str) -> bool:
        """Has the cancellation entered its verification loop (an unknown outcome)?"""
        page = self.sfn.get_execution_history(
            executionArn=execution_arn, reverseOrder=True, maxResults=20
        )
        return any(
            event.get("stateEnteredEventDetails", {}).get("name") == RECHECK_CANCELLATION_STATE
            for event in page["events"]
        )


def taken_over(cp: Checkpoint, flow: Checkpoint) -> bool:
    """The session's item now belongs to a newer flow (not to `flow`, nor its superseded self)."""
    return cp.flow_id not in (flow.flow_id, f"superseded:{flow.flow_id}")


def _ended_view(described: dict[str, Any], cp: Checkpoint) -> FlowView:
    """The booking flow of `cp` as its ended execution tells it (DescribeExecution)."""
    message, output = ended_execution_result(described, BOOKING_FAILED_MESSAGE)
    return FlowView(
        status=STATUS_DONE,
        message=message,
        step=checkpoint.STEP_DONE,
        outcome=output.get("outcome") or checkpoint.OUTCOME_FAILED,
        result=output,
        execution_arn=cp.execution_arn,
        flow_id=cp.flow_id,
        project_id=cp.project_id,
        seq=cp.seq,
    )


def ended_execution_result(described: dict[str, Any], fallback: str) -> tuple[str, dict[str, Any]]:
    """The sentence and result of an execution that ended, from DescribeExecution.

    A succeeded flow's output is its result. A failed one has no output: its operator code
    is the execution's `error`, and for the codes the tasks raise on purpose its `cause` is
    the customer sentence (tasks/handlers/finish.py); anything else gets `fallback`.
    """
    if described["status"] == "SUCCEEDED":
        output: dict[str, Any] = json.loads(described.get("output") or "{}")
        return str(output.get("message") or fallback), output
    error = str(described.get("error") or f"EXECUTION_{described['status']}")
    cause = str(described.get("cause") or "")
    result = {"outcome": checkpoint.OUTCOME_FAILED, "error": error, "cause": cause}
    message = cause if error in FAILURE_CODES and cause else fallback
    return message, result


def check_answer(cp: Checkpoint, answer: dict[str, Any]) -> str | None:
    """The bridge checks a choice against the stored offer before resuming (the ASL does too)."""
    if cp.step == checkpoint.STEP_AWAIT_DATE:
        dates = cp.offer.get("dates", [])
        if "date" not in answer:
            return "Please pick a date first: " + ", ".join(dates) + "."
        if answer["date"] not in dates:
            return (
                f"{answer['date']} is not available; please pick one of: " + ", ".join(dates) + "."
            )
        return None
    if cp.step == checkpoint.STEP_AWAIT_SLOT:
        if answer.get("another_date"):
            return None
        times = cp.offer.get("times", [])
        if "time" not in answer:
            return "Please pick a time: " + ", ".join(times) + ", or ask for another date."
        if answer["time"] not in times:
            return (
                f"{answer['time']} is not free on {cp.offer.get('date')}; please pick one of: "
                + ", ".join(times)
                + "."
            )
        return None
    return ENDED_MESSAGE
