"""Runtime flags on the local stack: rules per client and customer, rollback, roll-forward.

The flag store is the template's AppConfig profile, created by the template loader and read
by the deployed functions through Powertools' AppConfigStore (over the AppConfig Data API
that infra/local/moto_gaps.py adds to moto). Changes go through infra/flagctl.py, the same
code as `make rollout` / `make rollback`: a new hosted version plus a deployment.

The stack serves real PF360 (the sandbox) by its variables (UseRealApi=true). Real data is
recognisable: CUST001's projects are 12345-12348 and CUST002's 22345/22346 in the sandbox,
while the mock derives other ids; every real call is in the sandbox's request log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from infra import flagctl
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tasks import flags
from tasks.config import load_settings
from tasks.session_record import SessionRecord
from tests.integration.bedrock_events import Actions
from tests.integration.workflow_helpers import Flows, function_variables

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

REAL_PROJECTS = {"CUST001": "12345", "CUST002": "22345", "CUST101": "31001"}
FLAG_READERS = (
    "SchedulingActionsFunction",
    "InformationActionsFunction",
    "NotesActionsFunction",
    "FetchDatesFunction",
    "FetchSlotsFunction",
    "BookFunction",
    "CancelFunction",
    "VerifyCancellationFunction",
)


@pytest.fixture
def store(local_stack: LocalStack) -> Iterator[flagctl.FlagStore]:
    """The stack's flag store, read without a cache during the test, empty again after it.

    FLAGS_MAX_AGE_SECONDS=0 makes "the next call" exact instead of "within 5 s"; the caching
    itself is tested below with the deployed value.
    """
    assert local_stack.deployed is not None
    flag_store = flagctl.FlagStore.from_stack(local_stack.deployed, local_stack.client("appconfig"))
    with _no_flag_cache(local_stack, list(FLAG_READERS)):
        try:
            yield flag_store
        finally:
            flag_store.publish({}, "test: every flag follows its variable again")


def _no_flag_cache(local_stack: LocalStack, logical_ids: list[str]) -> Any:
    from contextlib import ExitStack

    stack = ExitStack()
    for logical_id in logical_ids:
        stack.enter_context(function_variables(local_stack, logical_id, FLAGS_MAX_AGE_SECONDS="0"))
    return stack


@pytest.fixture
def actions(local_stack: LocalStack, sandbox_control: SandboxControl) -> Actions:
    return Actions(local_stack, sandbox_control)


def first_project(actions: Actions, session: SessionRecord) -> str:
    answer = actions.call("/list_projects", session)
    assert answer.status == 200, answer.body
    return str(answer.body["projects"][0]["project_id"])


def is_real(actions: Actions, session: SessionRecord) -> bool:
    """Whether this customer's next action reaches PF360 (the sandbox) or the mock."""
    before = len(actions.sandbox.requests())
    project = first_project(actions, session)
    reached = len(actions.sandbox.requests()) > before
    real = project == REAL_PROJECTS[session.customer_id]
    assert real == reached, (project, reached)
    return real


def function_state(actions: Actions) -> list[dict[str, Any]]:
    """Everything a redeploy or `update-function-configuration` would change."""
    keys = ("Environment", "CodeSha256", "Handler", "Timeout", "MemorySize", "Runtime")
    state = []
    for name in actions.deployed.functions.values():
        config = actions.lambdas.get_function_configuration(FunctionName=name)
        state.append({key: config.get(key) for key in keys})
    return state


# --------------------------------------------------------------------------- rules


def test_an_empty_document_leaves_every_flag_to_its_variable(
    actions: Actions, store: flagctl.FlagStore
) -> None:
    assert store.current()[1] == {}
    dana, luis = actions.session("CUST001"), actions.session("CUST002")
    assert is_real(actions, dana) and is_real(actions, luis)


def test_one_customer_gets_pf360_and_another_mock_data_at_the_same_time(
    actions: Actions, store: flagctl.FlagStore
) -> None:
    store.set_flag("use_real_api", False)
    store.add_rule("use_real_api", True, "acme-corp", "CUST001")
    dana, luis = actions.session("CUST001"), actions.session("CUST002")

    results: dict[str, list[str]] = {"CUST001": [], "CUST002": []}

    def browse(session: SessionRecord) -> None:
        for _ in range(3):
            try:
                project = first_project(actions, session)
            except AssertionError as failed:  # shown by the assertion below
                project = f"failed: {failed}"
            results[session.customer_id].append(project)

    threads = [threading.Thread(target=browse, args=(s,)) for s in (dana, luis)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["CUST001"] == ["12345"] * 3, results  # PF360
    assert len(results["CUST002"]) == 3, results
    assert not any(p == "22345" or p.startswith("failed") for p in results["CUST002"])  # mock
    paths = [r["path"] for r in actions.sandbox.requests()]
    assert any(p.endswith("/CUST001") for p in paths), paths
    assert not any("CUST002" in p for p in paths), paths


def test_a_client_rule_covers_its_customers_and_a_customer_rule_wins(
    actions: Actions, store: flagctl.FlagStore
) -> None:
    store.set_flag("use_real_api", False)
    store.add_rule("use_real_api", True, "acme-corp", None)
    store.add_rule("use_real_api", False, "acme-corp", "CUST002")
    dana, luis = actions.session("CUST001"), actions.session("CUST002")
    aroha = actions.session("CUST101")  # sunrise-homes
    assert is_real(actions, dana)
    assert not is_real(actions, luis)
    assert not is_real(actions, aroha)
    rules = list(store.current()[1]["use_real_api"]["rules"])
    assert rules[0].endswith("acme-corp/CUST002")  # the customer rule is matched first


def test_booking_follows_the_customer_rule_for_real_bookings(
    local_stack: LocalStack, sandbox_control: SandboxControl, store: flagctl.FlagStore
) -> None:
    """confirm_schedule off for one customer: their booking is a test booking, PF360 books
    nothing for them, while the same flow for another customer books for real."""
    store.add_rule("confirm_schedule", False, "acme-corp", "CUST001")
    flows = Flows.on(local_stack, sandbox_control)
    dana = flows.session("CUST001")
    test_booking = flows.book(dana)
    assert test_booking.result["test_mode"] is True, test_booking
    assert flows.books() == []

    luis = flows.session("CUST002")
    real_booking = flows.book(luis, project_id="22345")
    assert real_booking.result["test_mode"] is False, real_booking
    assert [b["customer_id"] for b in flows.books()] == ["CUST002"]


# --------------------------------------------------------------------------- rollback


def test_rollback_takes_effect_on_the_next_call_and_changes_nothing_else(
    actions: Actions, store: flagctl.FlagStore
) -> None:
    store.add_rule("confirm_schedule", False, "acme-corp", "CUST002")
    store.add_rule("use_real_api", True, "acme-corp", "CUST001")
    dana = actions.session("CUST001")
    assert is_real(actions, dana)
    functions_before = function_state(actions)
    document_before = store.current()[1]

    change = store.rollback()

    assert not is_real(actions, dana)  # the very next call, nothing restarted
    document_after = store.current()[1]
    assert document_after["use_real_api"] == {"default": False}
    assert {k: v for k, v in document_after.items() if k != "use_real_api"} == {
        k: v for k, v in document_before.items() if k != "use_real_api"
    }
    assert function_state(actions) == functions_before
    assert change.seconds < 60

    store.rollforward()
    assert is_real(actions, dana)
    assert store.current()[1] == document_before
    assert function_state(actions) == functions_before


def test_rollforward_without_a_rollback_is_refused(store: flagctl.FlagStore) -> None:
    store.set_flag("cancel_schedule", True)
    with pytest.raises(flagctl.FlagError, match="Nothing to roll forward"):
        store.rollforward()
    store.rollback()
    store.rollforward()
    with pytest.raises(flagctl.FlagError, match="Nothing to roll forward"):
        store.rollforward()


# --------------------------------------------------------------------------- the reader


def test_the_document_is_cached_for_max_age_seconds(local_stack: LocalStack) -> None:
    """With the deployed FLAGS_MAX_AGE_SECONDS (5), three evaluations read AppConfig once;
    with 0, every evaluation reads it."""
    from infra.local import moto_gaps

    assert local_stack.deployed is not None
    environ = local_stack.deployed.function_environment("SchedulingActionsFunction")
    cached = load_settings(environ)
    assert cached.flags_max_age == 5
    for settings in (cached, load_settings({**environ, "FLAGS_MAX_AGE_SECONDS": "0"})):
        flags.forget_cached_documents()
        before = moto_gaps.APPCONFIG.latest_configuration_calls
        for _ in range(3):
            result = flags.evaluate(settings, client_id="acme-corp", customer_id="CUST001")
            assert result.source == "store"
        reads = moto_gaps.APPCONFIG.latest_configuration_calls - before
        assert reads == (1 if settings.flags_max_age else 3)


def test_an_unreachable_store_falls_back_to_the_variables_and_says_why(
    local_stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    assert local_stack.deployed is not None
    environ = local_stack.deployed.function_environment("SchedulingActionsFunction")
    missing = load_settings({**environ, "FLAGS_APPLICATION": "no-such-application"})
    flags.forget_cached_documents()
    caplog.clear()
    result = flags.evaluate(missing, client_id="acme-corp", customer_id="CUST001")
    assert result == flags.TenantFlags(
        use_real_api=missing.use_real_api,
        confirm_schedule=missing.confirm_schedule,
        cancel_schedule=missing.cancel_schedule,
        source="environment",
    )
    warnings = [r for r in caplog.records if getattr(r, "reason", "") == "flag_store_unavailable"]
    assert len(warnings) == 1
    assert "ResourceNotFoundException" in str(getattr(warnings[0], "error", ""))
    # Logged once per cache period, not on every call.
    caplog.clear()
    flags.evaluate(missing, client_id="acme-corp", customer_id="CUST001")
    assert not [r for r in caplog.records if getattr(r, "reason", "") == "flag_store_unavailable"]


def test_the_seeds_rollback_command_makes_a_function_fail_loudly_not_run_as_dev(
    local_stack: LocalStack,
) -> None:
    """`aws lambda update-function-configuration --environment Variables={USE_REAL_API=false}`
    (the seed's quick rollback) replaces every variable; the function must refuse to run
    rather than fall back to ENVIRONMENT=dev and dev's tables."""
    import json

    lambdas = local_stack.client("lambda")
    assert local_stack.deployed is not None
    name = local_stack.deployed.functions["SelfCheckFunction"]
    original = lambdas.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lambdas.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"USE_REAL_API": "false"}}
    )
    try:
        response = lambdas.invoke(FunctionName=name, Payload=b"{}")
        payload = json.loads(response["Payload"].read())
    finally:
        lambdas.update_function_configuration(
            FunctionName=name, Environment={"Variables": original}
        )
    assert response.get("FunctionError"), payload
    assert payload["errorType"] == "ConfigurationInvalid"
    assert "ENVIRONMENT is not set in this Lambda function" in payload["errorMessage"]
    ok = json.loads(lambdas.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert ok["ok"] is True and ok["environment"] == "dev"


def test_a_rollback_during_a_booking_books_nothing_anywhere_and_says_so(
    local_stack: LocalStack, sandbox_control: SandboxControl, store: flagctl.FlagStore
) -> None:
    """Flags are read at every step. A booking whose offer came from PF360 cannot finish
    on mock data after a rollback: the mock does not know PF360's request_id, so the flow
    ends with a sentence and neither PF360 nor the mock holds a booking."""
    from agent_bridge.flow_driver import STATUS_DONE
    from tasks import checkpoint
    from tasks.pf360 import shared_mock_store

    flows = Flows.on(local_stack, sandbox_control)
    dana = flows.session("CUST001")
    slots = flows.to_slots(dana)  # dates and times from PF360
    mock_bookings = len(shared_mock_store().bookings)
    store.rollback()
    view = flows.driver.resume(dana.session_id, {"time": slots.offer["times"][0]})
    assert view.status == STATUS_DONE and view.outcome == checkpoint.OUTCOME_FAILED, view
    assert view.message.endswith((".", "!", "?")) and "booked" not in view.message.lower()
    assert flows.books() == []
    assert len(shared_mock_store().bookings) == mock_bookings
