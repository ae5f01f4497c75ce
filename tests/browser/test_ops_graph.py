"""The console's picture of a flow and of the funnel, its triage marks and its Stop button,
in headless Chromium on the local stack (issue 14). Executions come from sandbox faults:
a booking that failed at Book after its retries, a flow waiting for a date, a customer
refusal (a completed project), and the funnel over all of them. The graph and the funnel
are saved as screenshots under build/screenshots/ (docs/operations.md shows copies)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from agent_bridge.flow_driver import STATUS_DONE, STATUS_WAITING
from infra.local.chat_server import ChatServer, local_app
from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack
from ops.stop import CUSTOMER_MESSAGE
from ops.web import STOP_TOKEN_WRONG
from tests.integration.workflow_helpers import Flows

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPS_TOKEN = f"ops-{uuid.uuid4().hex}"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@dataclass(frozen=True)
class Scene:
    url: str
    since: str
    failed: str
    waiting: str
    to_stop: str
    to_stop_session: str
    refused: str
    flows: Flows

    def page_url(self, path: str = "/", **query: str) -> str:
        return f"{self.url}/ops{path}" + (f"?{urlencode(query)}" if query else "")


def name_of(arn: str | None) -> str:
    assert arn
    return arn.rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def scene(local_stack: LocalStack, sandbox: SandboxServer) -> Iterator[Scene]:
    control = SandboxControl(sandbox.base_url)
    control.reset()
    since = (datetime.now(UTC) - timedelta(milliseconds=5)).isoformat(timespec="milliseconds")
    flows = Flows.on(local_stack, control)

    booked = flows.book(flows.session("CUST002"), "22345")
    assert booked.outcome == "booked", booked
    session = flows.session("CUST001")
    first = flows.start(session, "12345")
    slots = flows.driver.resume(session.session_id, {"date": first.offer["dates"][0]})
    control.add_fault("schedule", "status", status=503, count=10)
    failed = flows.driver.resume(session.session_id, {"time": slots.offer["times"][0]})
    control.clear_faults()
    assert failed.result.get("error") == "PF360_UNAVAILABLE", failed
    refused = flows.start(flows.session("CUST001"), "12347")  # a completed project
    assert flows.ended(refused)["error"] == "PF360_CONFLICT"
    waiting = flows.start(flows.session("CUST101"), "31001")
    assert waiting.status == STATUS_WAITING, waiting
    stop_session = flows.session("CUST101")
    to_stop = flows.start(stop_session, "31002")
    assert to_stop.status == STATUS_WAITING, to_stop

    server = ChatServer(local_app(local_stack, ops_token=OPS_TOKEN)).start()
    try:
        yield Scene(
            url=server.base_url,
            since=since,
            failed=name_of(failed.execution_arn),
            waiting=name_of(waiting.execution_arn),
            to_stop=name_of(to_stop.execution_arn),
            to_stop_session=stop_session.session_id,
            refused=name_of(refused.execution_arn),
            flows=flows,
        )
    finally:
        server.stop()


def shoot(page: Page, name: str, selector: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).screenshot(path=str(SHOTS / name))


def test_the_graph_shows_the_path_the_retries_and_where_it_failed(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url(f"/executions/{scene.failed}"))
    graph = page.locator("#graph svg.flow-graph")
    expect(graph).to_be_visible()
    # Every state of the ASL is drawn; the path taken is marked, the rest is not.
    for state in ("Route", "AwaitDate", "AwaitSlot", "Book"):
        expect(graph.locator(f"g.state[data-state='{state}']")).to_have_count(1)
    expect(graph.locator("g.state[data-state='ReplayBook']")).to_have_class("state node type-task")
    expect(graph.locator("g.state[data-state='Book']")).to_have_class(
        "state failed type-task retried"
    )
    expect(graph.locator("g.state[data-state='Book'] .retries")).to_have_text("\u00d74")
    expect(graph.locator("g.state[data-state='Failed']")).to_have_class("state failed type-fail")
    expect(graph.locator("g.state[data-state='Done']")).to_have_class("state node type-succeed")
    taken = graph.locator("path.edge.taken").evaluate_all(
        "paths => paths.map(p => p.dataset.from + '>' + p.dataset.to)"
    )
    assert set(taken) == {
        "Route>AwaitDate",
        "AwaitDate>AwaitSlot",
        "AwaitSlot>Book",
        "Book>Finish",
        "Finish>Ended",
        "Ended>Failed",
    }, taken
    # The operator's cause and the customer's sentence, apart; each attempt named.
    expect(page.locator("#operator-cause")).to_contain_text("PF360 schedule: HTTP 503")
    expect(page.locator("#operator-cause")).to_contain_text("4 attempts")
    expect(page.locator("#customer-message")).to_contain_text("temporarily unavailable")
    expect(page.locator("tr[data-state='Book'] .attempt")).to_have_count(4)
    shoot(page, "ops-graph-failed.png", "#graph")


def test_the_graph_of_a_waiting_flow_marks_the_wait(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url(f"/executions/{scene.waiting}"))
    graph = page.locator("#graph svg.flow-graph")
    expect(graph.locator("g.state[data-state='AwaitDate']")).to_have_class(
        "state waiting type-task"
    )
    expect(graph.locator("g.state[data-state='AwaitDate']")).to_contain_text("waiting here")
    expect(graph.locator("g.state[data-state='AwaitSlot']")).to_have_class("state node type-task")
    shoot(page, "ops-graph-waiting.png", "#graph")


def test_the_list_marks_triage_and_filters_by_class(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url("/", since=scene.since))
    expect(page.locator(f"tr[data-name='{scene.waiting}'] .triage")).to_have_text(
        "waiting in AwaitDate"
    )
    expect(page.locator(f"tr[data-name='{scene.failed}'] .triage")).to_have_text("system failure")
    expect(page.locator(f"tr[data-name='{scene.refused}'] .triage")).to_have_text(
        "customer refusal"
    )
    page.select_option("select[name=class]", "customer")
    page.click("form.filters button[type=submit]")
    names = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert names == [scene.refused], names

    page.goto(scene.page_url("/failures", since=scene.since))
    expect(
        page.locator("table[data-class='customer'] tr[data-error='PF360_CONFLICT']")
    ).to_be_visible()
    expect(
        page.locator("table[data-class='system'] tr[data-error='PF360_CONFLICT']")
    ).to_have_count(0)
    page.goto(scene.page_url(f"/executions/{scene.refused}"))
    expect(page.locator("#plan")).to_contain_text("customer refusal")


def test_stop_needs_the_token_tells_the_customer_and_is_audited(page: Page, scene: Scene) -> None:
    detail = scene.page_url(f"/executions/{scene.to_stop}")
    page.goto(detail)
    page.fill(".stop-form input[name=operator]", "Ada Operator")
    page.fill(".stop-form input[name=ops_token]", "wrong")
    page.fill(".stop-form input[name=reason]", "customer called in")
    page.check(".stop-form input[name=confirm]")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click(".stop-form button[type=submit]")
    assert posted.value.status == 403
    expect(page.locator("#message")).to_have_text(STOP_TOKEN_WRONG)
    page.goto(detail)
    expect(page.locator("h2.title")).to_contain_text("RUNNING")
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit tbody tr")).to_contain_text("stop (console)")
    expect(page.locator("#audit tbody tr")).to_contain_text("Ada Operator (unverified)")

    page.fill(".stop-form input[name=operator]", "Ada Operator")
    page.fill(".stop-form input[name=ops_token]", OPS_TOKEN)
    page.fill(".stop-form input[name=reason]", "customer called in")
    page.check(".stop-form input[name=confirm]")
    page.click(".stop-form button[type=submit]")
    expect(page.locator("#result")).to_contain_text("Stopped.")
    expect(page.locator("#result")).to_contain_text(CUSTOMER_MESSAGE)
    now = scene.flows.driver.current(scene.to_stop_session)
    assert (now.status, now.outcome) == (STATUS_DONE, "stopped")

    page.goto(detail)
    expect(page.locator("h2.title")).to_contain_text("SUCCEEDED")
    expect(page.locator("dl.facts")).to_contain_text("stopped")
    events = page.locator("#events li[data-kind='stop']")
    expect(events).to_have_count(3)  # the flow's own, and the two attempts in the audit
    expect(events.filter(has_text="Stopped by Ada Operator: customer called in")).to_have_count(1)
    expect(page.locator("#customer-message")).to_contain_text(CUSTOMER_MESSAGE)
    expect(page.locator("#stop")).to_have_count(0)  # no button on a flow that ended
    audit = page.locator("#audit tbody tr")
    expect(audit).to_have_count(2)
    expect(audit.first).to_contain_text("stopped")
    expect(audit.first).to_contain_text("reason: customer called in")


def test_the_overview_draws_the_funnel(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url("/overview", since=scene.since))
    chart = page.locator("#funnel svg.funnel-chart")
    expect(chart).to_be_visible()
    counts = {
        key: int(chart.locator(f"g.bar[data-key='{key}']").get_attribute("data-count") or "-1")
        for key in ("started", "date_chosen", "time_chosen", "booked", "failed", "waiting")
    }
    assert counts["started"] >= 5 and counts["booked"] >= 1, counts
    assert counts["started"] >= counts["date_chosen"] >= counts["time_chosen"] >= counts["booked"]
    assert counts["failed"] >= 2, counts
    expect(page.locator("tr[data-ending='failed']")).to_be_visible()
    shoot(page, "ops-funnel.png", "#funnel")
