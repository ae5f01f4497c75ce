"""The web chat page in headless Chromium (Debian's package): sign in, book by clicking.

Playwright drives /usr/bin/chromium (no browser download); the page talks to the real chat
API, which drives the deployed Lambdas and workflows against the PF360 sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from infra.local.chat_server import ChatServer, local_app
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def chat_url(local_stack: LocalStack) -> Iterator[str]:
    server = ChatServer(local_app(local_stack)).start()
    try:
        yield server.base_url
    finally:
        server.stop()


def last_bot_message(page: Page) -> str:
    return page.locator(".msg.bot").last.inner_text()


def test_sign_in_and_book_an_appointment_by_clicking(
    page: Page, chat_url: str, sandbox_control: SandboxControl
) -> None:
    page.goto(chat_url + "/")
    expect(page.locator("#local-signin")).to_be_visible()
    page.select_option("#customer", "CUST001")
    page.click("#signin-button")
    expect(page.locator("#who")).to_contain_text("Dana Whitfield")

    page.get_by_role("button", name="Show my projects").click()
    expect(page.locator(".msg.bot").last).to_contain_text("ORD-2025-001")
    link = page.locator(".msg.bot a[href$='/details/12345']").first
    expect(link).to_have_attribute("target", "_blank")

    page.fill("#message", "schedule project 1")
    page.click("#send")
    expect(page.locator(".msg.bot").last).to_contain_text("Which date works for you?")
    date_buttons = page.locator("#choices button")
    expect(date_buttons.first).to_be_visible()
    date_buttons.first.click()

    expect(page.locator(".msg.bot").last).to_contain_text("Free times on")
    time_button = page.locator("#choices button", has_text=":").first
    chosen_time = time_button.inner_text()
    time_button.click()
    expect(page.locator(".msg.bot").last).to_contain_text("Shall I book")
    assert sandbox_control.bookings() == []

    page.get_by_role("button", name="Yes, book it").click()
    expect(page.locator(".msg.bot").last).to_contain_text("is booked for")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat-booked.png"), full_page=True)

    ledger = sandbox_control.bookings()
    assert len(ledger) == 1
    assert ledger[0]["project_id"] == "12345" and ledger[0]["action"] == "book"
    hour = int(chosen_time.split(":")[0]) % 12
    assert int(ledger[0]["time"].split(":")[0]) % 12 == hour


def test_an_error_is_shown_as_a_sentence(page: Page, chat_url: str) -> None:
    page.goto(chat_url + "/")
    page.fill("#token", "not-a-token")
    page.click("#token-form button")
    page.fill("#message", "show my projects")
    page.click("#send")
    expect(page.locator(".msg.error").last).to_contain_text("not valid")
