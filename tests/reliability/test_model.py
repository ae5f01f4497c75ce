"""The invariants' own logic (model.py), without a stack: a checker that cannot fail proves
nothing, so each rule is shown catching the contradiction it exists for."""

from __future__ import annotations

from tests.reliability import model
from tests.reliability.model import Claim, Truth

BOOK = {"action": "book", "project_id": "12345", "date": "2026-12-03", "time": "10:00"}
CANCEL = {"action": "cancel", "project_id": "12345", "date": "2026-12-03", "time": "10:00"}


def test_the_truth_is_the_seed_then_the_ledger_in_order() -> None:
    assert model.truth_of([], "12345", False) == Truth(False)
    assert model.truth_of([], "12346", True) == Truth(True)
    assert model.truth_of([BOOK], "12345", False) == Truth(True, "2026-12-03", "10:00")
    assert model.truth_of([BOOK, CANCEL], "12345", False) == Truth(False)
    assert model.truth_of([BOOK], "22345", False) == Truth(False)  # another project's entry


def test_each_claim_is_held_against_what_pf360_holds() -> None:
    booked = Truth(True, "2026-12-03", "10:00")
    told = Claim(model.BOOKED, "12345", "2026-12-03", "10:00")
    assert model.contradiction(told, booked) is None
    assert model.contradiction(told, Truth(False)) is not None
    assert model.contradiction(told, Truth(True, "2026-12-03", "11:00")) is not None

    failed = Claim(model.NOT_BOOKED, "12345", "2026-12-03", "10:00")
    assert model.contradiction(failed, booked) is not None  # told failed, but it happened
    assert model.contradiction(failed, Truth(True, "2026-12-04", "10:00")) is None

    for kind in (model.CANCELLED, model.NOT_SCHEDULED):
        assert model.contradiction(Claim(kind, "12346"), Truth(True)) is not None
        assert model.contradiction(Claim(kind, "12346"), Truth(False)) is None
    refused = Claim(model.NOT_CANCELLED, "12346", mark=1)
    before = {**CANCEL, "project_id": "12346", "seq": 1}
    after = {**before, "seq": 2}
    assert model.contradiction(refused, Truth(False), [before]) is None  # an earlier cancel
    assert model.contradiction(refused, Truth(False), [before, after]) is not None
    assert model.contradiction(Claim(model.PENDING, "12346"), Truth(False)) is None


def test_answers_become_claims() -> None:
    def confirm(status: int, body: dict[str, object], reached: bool = True) -> str | None:
        claim = model.confirm_claim(
            "12345", "2026-12-03", "10:00", status, body, reached_flow=reached, step=1
        )
        return claim.kind if claim else None

    ok = {"outcome": "booked", "date": "2026-12-03", "time": "10:00", "message": "Booked."}
    assert confirm(200, ok) == model.BOOKED
    assert confirm(200, {**ok, "test_mode": True}) == model.NOT_BOOKED
    assert confirm(200, {"status": "working", "message": "I'm still working on that."}) == (
        model.PENDING
    )
    assert confirm(502, {"error": "We could not confirm the booking; please check."}) == (
        model.PENDING
    )
    unavailable = {"error": "The scheduling system is unavailable right now; please try again."}
    assert confirm(503, unavailable) == model.NOT_BOOKED
    assert confirm(503, unavailable, reached=False) is None  # the bridge's own read failed

    def cancel(status: int, body: dict[str, object]) -> str | None:
        claim = model.cancel_claim("12346", status, body, step=1, mark=0)
        return claim.kind if claim else None

    assert cancel(200, {"outcome": "cancelled", "message": "Cancelled."}) == model.CANCELLED
    assert cancel(200, {"outcome": "cancelled", "test_mode": True, "message": "x"}) is None
    assert cancel(409, {"error": "This project has no scheduled appointment to cancel."}) == (
        model.NOT_SCHEDULED
    )
    assert cancel(503, unavailable) == model.NOT_CANCELLED


def test_a_refusal_is_one_sentence_with_nothing_internal() -> None:
    assert model.refusal_problem(200, {"message": "x"}) is None
    assert model.refusal_problem(400, {"error": "Please give the date as YYYY-MM-DD."}) is None
    assert model.refusal_problem(400, {"error": "bad date"}) is not None  # not a sentence
    assert model.refusal_problem(400, {"error": "x.", "code": "E"}) is not None
    assert model.refusal_problem(503, {"error": "PF360_TIMEOUT happened."}) is not None
    assert model.refusal_problem(500, {"error": "Something went wrong."}) is not None


def test_credentials_are_found_wherever_they_hide() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDVVNUMDAxIn0.c2lnbmF0dXJl"
    assert model.leaks("answer", "nothing here", [jwt]) == []
    assert model.leaks("answer", f"token {jwt}", [jwt])
    assert model.leaks("log", "Authorization: bearer abc", [])
    assert model.leaks("log", "task token AAAA-1234", ["AAAA-1234"])
