"""The operations console (/ops) in headless Chromium (Debian's package), on the local stack.

One scene per module: a booked flow, a flow that failed PF360_UNAVAILABLE at the booking
after its retries, and a flow waiting for a date, all started by the flow driver with the
business-key index, as the bridge starts them. The pages must answer "what happened?"
(list, filters, timeline, failure groups) to anyone, and replay only with the ops token,
confirmation and an operator name: once, audited, never twice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from agent_bridge.flow_driver import STATUS_DONE, STATUS_WAITING
from infra.local.chat_server import ChatServer, local_app
from infra.local.pf360_sandbox import SandboxControl, SandboxServer
from infra.local.stack import LocalStack
from ops.web import NOT_CONFIRMED, READ_ONLY, TOKEN_WRONG
from tests.browser.conftest import SCREENSHOTS
from tests.integration.workflow_helpers import (
    Flows,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPS_TOKEN = f"ops-{uuid.uuid4().hex}"
OPERATOR = "Ada Operator"


@dataclass(frozen=True)
class Scene:
    """What the module's flows left behind, and where the console is."""

    url: str
    since: str
    booked: str
    failed: str
    waiting: str
    failed_dates: list[str]
    failed_date: str
    failed_time: str
    control: SandboxControl

    def page_url(self, path: str = "/", **query: str) -> str:
        return f"{self.url}/ops{path}" + (f"?{urlencode(query)}" if query else "")

    def bookings_of(self, project_id: str) -> list[dict[str, str]]:
        return [
            entry
            for entry in self.control.bookings()
            if entry["action"] == "book" and entry["project_id"] == project_id
        ]


def name_of(arn: str | None) -> str:
    assert arn
    return arn.rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def scene(local_stack: LocalStack, sandbox: SandboxServer) -> Iterator[Scene]:
    # Its own sandbox control: the per-test `sandbox_control` fixture would reset the ledger
    # between the tests of this module, and the scene must outlive them.
    control = SandboxControl(sandbox.base_url)
    control.reset()
    since = (datetime.now(UTC) - timedelta(milliseconds=5)).isoformat(timespec="milliseconds")
    flows = Flows.on(local_stack, control)

    booked = flows.book(flows.session("CUST002"), "22345")
    assert booked.status == STATUS_DONE and booked.outcome == "booked", booked

    session = flows.session("CUST001")
    first = flows.start(session, "12345")
    date = first.offer["dates"][0]
    slots = flows.driver.resume(session.session_id, {"date": date})
    time_of_day = slots.offer["times"][0]
    control.add_fault("schedule", "status", status=503, count=10)
    failed = flows.driver.resume(session.session_id, {"time": time_of_day})
    control.clear_faults()
    assert failed.result.get("error") == "PF360_UNAVAILABLE", failed

    waiting = flows.start(flows.session("CUST101"), "31001")
    assert waiting.status == STATUS_WAITING, waiting

    server = ChatServer(local_app(local_stack, ops_token=OPS_TOKEN)).start()
    try:
        yield Scene(
            url=server.base_url,
            since=since,
            booked=name_of(booked.execution_arn),
            failed=name_of(failed.execution_arn),
            waiting=name_of(waiting.execution_arn),
            failed_dates=list(first.offer["dates"]),
            failed_date=date,
            failed_time=time_of_day,
            control=control,
        )
    finally:
        server.stop()


def test_the_list_shows_every_status_with_its_error(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url("/", kind="all", since=scene.since))
    booked, failed, waiting = (
        page.locator(f"tr[data-name='{name}']")
        for name in (scene.booked, scene.failed, scene.waiting)
    )
    expect(booked).to_contain_text("SUCCEEDED")
    expect(booked).to_contain_text("booked")
    expect(failed).to_contain_text("FAILED")
    expect(failed).to_contain_text("PF360_UNAVAILABLE")
    expect(failed.locator(".code")).to_have_attribute("title", re.compile("unavailable"))
    expect(waiting).to_contain_text("RUNNING")
    expect(waiting).to_contain_text("CUST101")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ops-list.png"), full_page=True)


def test_the_filters_narrow_the_list(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url("/", since=scene.since))
    page.select_option("select[name=status]", "FAILED")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=FAILED"))
    expect(page.locator(f"tr[data-name='{scene.failed}']")).to_be_visible()
    statuses = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert statuses and set(statuses) == {"FAILED"}, statuses
    expect(page.locator(f"tr[data-name='{scene.booked}']")).to_have_count(0)
    expect(page.locator(f"tr[data-name='{scene.waiting}']")).to_have_count(0)

    # Business keys go through the index: one customer's executions only.
    page.goto(scene.page_url("/", client="acme-corp", customer="CUST002", kind="all"))
    expect(page.locator(f"tr[data-name='{scene.booked}']")).to_be_visible()
    expect(page.locator(f"tr[data-name='{scene.failed}']")).to_have_count(0)

    page.goto(scene.page_url("/", customer="CUST001"))
    expect(page.locator("#filter-error")).to_contain_text("needs the client too")


def test_the_detail_page_is_a_readable_timeline(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url(f"/executions/{scene.failed}"))
    expect(page.locator("h2.title")).to_contain_text("FAILED")
    expect(page.locator("#error")).to_contain_text("PF360_UNAVAILABLE")
    expect(page.locator("#error")).to_contain_text("temporarily unavailable")
    expect(page.locator("#chosen")).to_have_text(f"{scene.failed_date} at {scene.failed_time}")

    await_date = page.locator("tr[data-state='AwaitDate']")
    for offered in scene.failed_dates[:3]:
        expect(await_date.locator(".chip", has_text=offered)).to_be_visible()
    expect(await_date.locator(".chosen")).to_contain_text(scene.failed_date)
    await_slot = page.locator("tr[data-state='AwaitSlot']")
    expect(await_slot).to_contain_text(f"Offered on {scene.failed_date}")
    expect(await_slot.locator(".chosen")).to_contain_text(scene.failed_time)
    book = page.locator("tr[data-state='Book']")
    expect(book).to_contain_text("4 (3 retries)")
    expect(book.locator(".failures")).to_contain_text("PF360_UNAVAILABLE (4 times)")
    expect(page.locator("tr.failed")).to_contain_text("PF360_UNAVAILABLE")

    expect(page.locator("#plan")).to_contain_text(
        f"Would book project 12345 of customer CUST001 (acme-corp) on {scene.failed_date} "
        f"at {scene.failed_time}"
    )
    expect(page.locator("#read-only")).to_contain_text(READ_ONLY)
    expect(page.locator("#audit")).to_contain_text("No replay has been attempted")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ops-detail.png"), full_page=True)

    page.goto(scene.page_url(f"/executions/{scene.waiting}"))
    expect(page.locator("#waiting")).to_contain_text("Waiting in AwaitDate since")
    expect(page.locator("#plan")).to_contain_text("Replay not possible: the execution is still")

    page.goto(scene.page_url(f"/executions/{scene.booked}"))
    expect(page.locator("#plan")).to_have_text(
        "Replay not possible: the booking already succeeded."
    )
    expect(page.locator(".replay-form")).to_have_count(0)

    page.goto(scene.page_url("/executions/no-such-execution"))
    expect(page.locator("#message")).to_contain_text("No execution named 'no-such-execution'")


def test_the_failures_page_groups_by_error_code(page: Page, scene: Scene) -> None:
    page.goto(scene.page_url("/failures", since=scene.since))
    group = page.locator("tr[data-error='PF360_UNAVAILABLE']")
    expect(group.locator(".count")).to_have_text("1")
    expect(group).to_contain_text("temporarily unavailable")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ops-failures.png"), full_page=True)
    group.get_by_role("link", name=scene.failed).click()
    expect(page).to_have_url(re.compile(f"/ops/executions/{scene.failed}$"))
    expect(page.locator("tr[data-state='Book']")).to_be_visible()


def test_replay_needs_the_token_books_once_and_is_audited(page: Page, scene: Scene) -> None:
    detail = scene.page_url(f"/executions/{scene.failed}")
    replay = scene.page_url(f"/executions/{scene.failed}/replay")
    page.goto(detail)

    # A wrong token through the form: 403 with a sentence, nothing started.
    page.fill("input[name=operator]", OPERATOR)
    page.fill("input[name=ops_token]", "not-the-token")
    page.check("input[name=confirm]")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click(".replay-form button[type=submit]")
    assert posted.value.status == 403
    expect(page.locator("#message")).to_have_text(TOKEN_WRONG)

    # No token at all, or no confirmation: refused the same way, before anything happens.
    no_token = page.request.post(replay, form={"operator": OPERATOR, "confirm": "yes"})
    assert no_token.status == 403 and TOKEN_WRONG in no_token.text()
    unconfirmed = page.request.post(
        replay, form={"operator": OPERATOR}, headers={"X-Ops-Token": OPS_TOKEN}
    )
    assert unconfirmed.status == 400 and NOT_CONFIRMED in unconfirmed.text()
    assert scene.bookings_of("12345") == []
    page.goto(detail)
    expect(page.locator("#audit")).to_contain_text("No replay has been attempted")

    # With the token and the confirmation: one replay, booked, linked.
    page.fill("input[name=operator]", OPERATOR)
    page.fill("input[name=ops_token]", OPS_TOKEN)
    page.check("input[name=confirm]")
    page.click(".replay-form button[type=submit]")
    expect(page.locator("#result")).to_contain_text("ended SUCCEEDED: booked")
    books = scene.bookings_of("12345")
    assert len(books) == 1, books
    assert (books[0]["date"], books[0]["time"]) == (scene.failed_date, scene.failed_time)

    page.locator("#result a").click()
    expect(page.locator("h2.title")).to_contain_text("SUCCEEDED")
    expect(page.locator("dl.facts")).to_contain_text(f"Replay of{scene.failed}")

    # A second replay is refused with a sentence, and still books nothing more.
    again = page.request.post(
        replay, form={"operator": OPERATOR, "confirm": "yes", "ops_token": OPS_TOKEN}
    )
    assert again.status == 409, again.text()
    assert "Refused: already replayed successfully" in again.text()
    assert len(scene.bookings_of("12345")) == 1

    page.goto(detail)
    expect(page.locator("#plan")).to_contain_text("Replay not possible: already replayed")
    audit = page.locator("#audit tbody tr")
    expect(audit).to_have_count(2)
    expect(audit.filter(has_text="succeeded: booked")).to_contain_text(OPERATOR)
    expect(audit.filter(has_text="refused: already replayed")).to_contain_text(OPERATOR)
    page.screenshot(path=str(SCREENSHOTS / "ops-detail-after-replay.png"), full_page=True)
