"""What the customer was told, what PF360 did, and the rules that tie the two together.

Plain functions over answers and the sandbox ledger, so the invariants can be read (and unit
tested) without a stack. The state machine in machine.py feeds them.

A *claim* is what one answer told the customer about one project's appointment:

| claim          | told                                          | must hold in PF360              |
|----------------|-----------------------------------------------|---------------------------------|
| BOOKED d t     | "Your appointment is booked for ..."          | scheduled at exactly d t        |
| NOT_BOOKED d t | a failure or "already ended" at confirm       | not scheduled at d t            |
| CANCELLED      | "Your appointment ... is cancelled"           | not scheduled                   |
| NOT_CANCELLED  | a failure of the cancellation request         | no cancel since it was asked    |
| NOT_SCHEDULED  | "no scheduled appointment to cancel"          | not scheduled                   |
| PENDING        | "we're confirming" / "still working on that"  | anything, until the flow ends   |

The last claim per project is checked after every step; a PENDING one is settled at the end
of the run by asking again (the next turn must tell the truth).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

BOOKED = "booked"
NOT_BOOKED = "not_booked"
CANCELLED = "cancelled"
NOT_CANCELLED = "not_cancelled"
NOT_SCHEDULED = "not_scheduled"
PENDING = "pending"

# Phrases by which an answer says "we do not know yet" rather than "it failed".
PENDING_PHRASES = (
    "confirming",
    "could not confirm",
    "couldn't confirm",
    "check your project",
    "still working",
    "checking",
    "verifying",
)
# What no answer shown to a customer may contain.
INTERNALS = ("PF360_", "HTTP ", "Traceback", "request_id", "arn:aws", "Bearer", "_ERROR")
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Claim:
    """What one answer told the customer about a project's appointment."""

    kind: str
    project_id: str
    date: str | None = None
    time: str | None = None
    step: int = 0
    said: str = ""
    mark: int = 0  # how many ledger entries there were when the customer asked

    def __str__(self) -> str:
        when = f" {self.date} {self.time}" if self.date or self.time else ""
        return f"{self.kind}{when} (step {self.step}: {self.said!r})"


@dataclass(frozen=True)
class Truth:
    """A project's appointment as PF360 holds it: the seed, then the ledger in order."""

    scheduled: bool
    date: str | None = None
    time: str | None = None


def pending_phrase(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in PENDING_PHRASES)


def truth_of(ledger: Iterable[dict[str, Any]], project_id: str, seeded_scheduled: bool) -> Truth:
    state = Truth(seeded_scheduled)
    for entry in ledger:
        if entry.get("project_id") != project_id:
            continue
        if entry["action"] == "book":
            state = Truth(True, entry.get("date"), entry.get("time"))
        elif entry["action"] == "cancel":
            state = Truth(False)
    return state


def contradiction(claim: Claim, truth: Truth, ledger: Iterable[dict[str, Any]] = ()) -> str | None:
    """Why `claim` is not what PF360 holds, or None when it is (or cannot be judged yet)."""
    at = (truth.date, truth.time)
    if claim.kind == BOOKED and not (truth.scheduled and at == (claim.date, claim.time)):
        return f"told {claim} but PF360 holds {truth}"
    if claim.kind == NOT_BOOKED and truth.scheduled and at == (claim.date, claim.time):
        return f"told {claim} but PF360 booked it: {truth}"
    if claim.kind in (CANCELLED, NOT_SCHEDULED) and truth.scheduled:
        return f"told {claim} but PF360 holds {truth}"
    if claim.kind == NOT_CANCELLED:
        for entry in ledger:
            late = int(entry.get("seq") or 0) > claim.mark
            if late and entry["action"] == "cancel" and entry["project_id"] == claim.project_id:
                return f"told {claim} but PF360 cancelled it: {entry}"
    return None


def confirm_claim(
    project_id: str,
    day: str,
    time: str,
    status: int,
    body: dict[str, Any],
    *,
    reached_flow: bool,
    step: int,
) -> Claim | None:
    """The claim of a /confirm_appointment answer (None: it said nothing about the booking)."""
    said = str(body.get("message") or body.get("error") or "")

    def claim(kind: str, d: str | None = day, t: str | None = time) -> Claim:
        return Claim(kind, project_id, d, t, step, said)

    if pending_phrase(said):
        return claim(PENDING)
    if status == 200:
        if body.get("outcome") == "booked":
            if body.get("test_mode"):
                return claim(NOT_BOOKED)
            return claim(BOOKED, body.get("date"), body.get("time"))
        if body.get("status") == "working":
            return claim(PENDING)
        return claim(NOT_BOOKED)
    # A refusal before the flow was reached (no session, a read failure, a bad parameter)
    # says nothing about an appointment; one from the flow says it was not booked.
    return claim(NOT_BOOKED) if reached_flow else None


def cancel_claim(
    project_id: str, status: int, body: dict[str, Any], *, step: int, mark: int
) -> Claim | None:
    """The claim of a /cancel_appointment answer; a refusal says this request cancelled
    nothing (whether the bridge or the flow refused), which the ledger can contradict."""
    said = str(body.get("message") or body.get("error") or "")
    if pending_phrase(said):
        return Claim(PENDING, project_id, step=step, said=said, mark=mark)
    if status == 200:
        outcome = body.get("outcome")
        if outcome == "cancelled" and not body.get("test_mode"):
            return Claim(CANCELLED, project_id, step=step, said=said, mark=mark)
        if outcome == "nothing_to_cancel":
            return Claim(NOT_SCHEDULED, project_id, step=step, said=said, mark=mark)
        if body.get("status") == "working":
            return Claim(PENDING, project_id, step=step, said=said, mark=mark)
        return None
    if status == 409 and "no scheduled appointment" in said:
        return Claim(NOT_SCHEDULED, project_id, step=step, said=said, mark=mark)
    return Claim(NOT_CANCELLED, project_id, step=step, said=said, mark=mark)


def refusal_problem(status: int, body: dict[str, Any]) -> str | None:
    """Every refusal is a status with one customer sentence and nothing internal."""
    if status < 400:
        return None
    if set(body) != {"error"}:
        return f"a {status} answer must be only {{'error': sentence}}, got {body}"
    text = str(body["error"])
    if not text.strip() or not text.rstrip().endswith((".", "?", "!")):
        return f"a {status} answer is not a sentence: {text!r}"
    for internal in INTERNALS:
        if internal in text:
            return f"a {status} answer leaks {internal!r}: {text!r}"
    if status == 500:
        return f"a 500 (a crash) instead of a refusal: {text!r}"
    return None


def leaks(where: str, text: str, secrets: Iterable[str]) -> list[str]:
    """A sentence for each credential in `text`: a known secret, 'Bearer', or a JWT shape."""
    found = [f"{where} holds a token" for secret in secrets if secret and secret in text]
    if "bearer" in text.lower():
        found.append(f"{where} mentions Bearer")
    if JWT_PATTERN.search(text):
        found.append(f"{where} holds something shaped like a JWT")
    return found
