"""The web chat page in headless Chromium (Debian's package): phone and desktop, sign in, book
by clicking, a failed booking, a slow turn, a reload, sign-out and a rejected token.

Playwright drives /usr/bin/chromium (no browser download); the page talks to the real chat
API, which drives the deployed Lambdas and workflows against the PF360 sandbox. Screenshots
are kept under build/screenshots/ (docs/conversation.md shows them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from agent_bridge.chat.action_invoker import ActionResult, LambdaActionInvoker
from agent_bridge.chat.local_agent import LocalAgent
from agent_bridge.flow_driver import STILL_WORKING_MESSAGE
from infra.local.chat_server import ACTION_FUNCTIONS, ChatServer, local_app
from infra.local.pf360_sandbox import SandboxControl
from infra.local.stack import LocalStack
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 360, "height": 740}
MIN_TARGET_PX = 44
TURN_MS = 20_000  # one turn through Lambdas and workflows, on a machine shared by others


@pytest.fixture(scope="module")
def chat_url(local_stack: LocalStack) -> Iterator[str]:
    server = ChatServer(local_app(local_stack)).start()
    try:
        yield server.base_url
    finally:
        server.stop()


class SlowConfirmation:
    """The deployed actions, except that the first booking confirmation of each session takes
    longer than the action may wait: the booking runs for real, and the action answers
    "still working" as the flow driver does when its wait ends first."""

    def __init__(self, invoke: LambdaActionInvoker) -> None:
        self.invoke = invoke
        self.slowed: set[str] = set()

    def __call__(
        self, group: str, path: str, parameters: dict[str, str], session_id: str
    ) -> ActionResult:
        result = self.invoke(group, path, parameters, session_id)
        if path == "/confirm_appointment" and session_id not in self.slowed:
            self.slowed.add(session_id)
            time.sleep(1.5)  # long enough for the page to show that it is working
            return ActionResult(200, {"message": STILL_WORKING_MESSAGE, "status": "working"})
        return result


@pytest.fixture(scope="module")
def slow_chat_url(local_stack: LocalStack) -> Iterator[str]:
    deployed = local_stack.deployed
    assert deployed is not None
    invoker = LambdaActionInvoker(
        local_stack.client("lambda"),
        {group: deployed.functions[logical] for group, logical in ACTION_FUNCTIONS.items()},
    )
    runtime = LocalAgent(SlowConfirmation(invoker))
    server = ChatServer(local_app(local_stack, runtime=runtime)).start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    try:
        yield opened
    finally:
        context.close()


def last_bot_message(page: Page) -> str:
    return page.locator(".msg.bot").last.inner_text()


def sign_in(page: Page, url: str, customer: str = "CUST001") -> None:
    page.goto(url + "/")
    expect(page.locator("#local-signin")).to_be_visible()
    page.select_option("#customer", customer)
    page.click("#signin-button")
    expect(page.locator("#who")).to_contain_text("Signed in as")


def send(page: Page, text: str) -> None:
    page.fill("#message", text)
    page.click("#send")


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def assert_fits_and_tappable(page: Page) -> None:
    """No sideways scrolling, and every visible button at least 44 px each way."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    small = page.evaluate(
        """(min) => [...document.querySelectorAll('button, select, input')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
            .filter(([, r]) => r.height < min || r.width < min)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        MIN_TARGET_PX,
    )
    assert small == []


def book_until_question(page: Page) -> str:
    """Schedule project 1 by clicking a date and a time; the time chosen."""
    send(page, "schedule project 1")
    expect(page.locator(".msg.bot").last).to_contain_text(
        "Which date works for you?", timeout=TURN_MS
    )
    page.locator("#choices button").first.click()
    expect(page.locator(".msg.bot").last).to_contain_text("Free times on", timeout=TURN_MS)
    time_button = page.locator("#choices button", has_text=":").first
    chosen = time_button.inner_text()
    time_button.click()
    expect(page.locator(".msg.bot").last).to_contain_text("Shall I book", timeout=TURN_MS)
    return chosen


def test_sign_in_and_book_an_appointment_by_clicking(
    page: Page, chat_url: str, sandbox_control: SandboxControl
) -> None:
    sign_in(page, chat_url)
    expect(page.locator("#who")).to_contain_text("Dana Whitfield")

    page.get_by_role("button", name="Show my projects").click()
    expect(page.locator(".msg.bot").last).to_contain_text("You have", timeout=TURN_MS)
    link = page.locator(".card a[href$='/details/12345']")
    expect(link).to_have_text("Installation Flooring ORD-2025-001")  # the name is the link
    expect(link).to_have_attribute("target", "_blank")
    expect(page.locator(".card", has_text="ORD-2025-002")).to_contain_text("9:00 AM to 11:00 AM")

    chosen_time = book_until_question(page)
    assert sandbox_control.bookings() == []
    page.get_by_role("button", name="Yes, book it").click()
    expect(page.locator(".msg.bot").last).to_contain_text("is booked for", timeout=TURN_MS)
    assert " AM" in last_bot_message(page) or " PM" in last_bot_message(page)
    page.set_viewport_size({"width": 1280, "height": 1000})
    shoot(page, "chat-desktop.png")

    ledger = sandbox_control.bookings()
    assert len(ledger) == 1
    assert ledger[0]["project_id"] == "12345" and ledger[0]["action"] == "book"
    hour = int(chosen_time.split(":")[0]) % 12
    assert int(ledger[0]["time"].split(":")[0]) % 12 == hour


@pytest.mark.parametrize("width", [360, 390])
def test_a_phone_can_sign_in_and_chat(
    browser: Browser, chat_url: str, sandbox_control: SandboxControl, width: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 780}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto(chat_url + "/")
        expect(page.locator("#signin-button")).to_be_in_viewport()
        assert_fits_and_tappable(page)
        if width == PHONE["width"]:
            shoot(page, "chat-phone-signin.png")
        page.select_option("#customer", "CUST001")
        page.locator("#signin-button").tap()
        expect(page.locator("#who")).to_contain_text("Dana Whitfield")
        page.get_by_role("button", name="Show my projects").tap()
        expect(page.locator(".card").first).to_be_visible()
        send(page, "move my windows appointment")
        expect(page.locator(".msg.bot").last).to_contain_text(
            "a new time replaces it", timeout=TURN_MS
        )
        expect(page.locator("#send")).to_be_in_viewport()
        assert_fits_and_tappable(page)
        if width == PHONE["width"]:
            shoot(page, "chat-phone.png")
    finally:
        context.close()


def test_a_failed_booking_leaves_no_dead_buttons(
    phone: Page, chat_url: str, sandbox_control: SandboxControl
) -> None:
    sign_in(phone, chat_url)
    book_until_question(phone)
    sandbox_control.add_fault("schedule", "status", status=503, count=20)
    phone.get_by_role("button", name="Yes, book it").click()
    expect(phone.locator(".msg.bot, .msg.error").last).not_to_contain_text(
        "Shall I book", timeout=30_000
    )
    answer = phone.locator(".msg").last.inner_text()
    assert "booked for" not in answer
    buttons = phone.locator("#choices button").all_inner_texts()
    assert buttons and not any(":" in b or b == "Another date" for b in buttons), buttons
    assert [b for b in sandbox_control.bookings() if b["action"] == "book"] == []
    shoot(phone, "chat-failed-booking.png")


def test_a_slow_turn_shows_it_is_working_and_fetches_its_result(
    phone: Page, slow_chat_url: str, sandbox_control: SandboxControl
) -> None:
    sign_in(phone, slow_chat_url)
    book_until_question(phone)
    customer_bubbles = phone.locator(".msg.you").count()
    phone.get_by_role("button", name="Yes, book it").click()
    expect(phone.locator(".typing")).to_be_visible()
    expect(phone.locator("#choices button")).to_have_count(0)  # no buttons while it works
    shoot(phone, "chat-slow-turn.png")
    # The page asks again by itself: the result arrives without the customer doing anything.
    expect(phone.locator(".msg.bot").last).to_contain_text("is booked for", timeout=TURN_MS)
    expect(phone.locator(".typing")).to_have_count(0)
    assert phone.locator(".msg.you").count() == customer_bubbles + 1  # no follow-up bubble
    assert len([b for b in sandbox_control.bookings() if b["action"] == "book"]) == 1


def test_the_conversation_survives_a_reload_and_sign_out_forgets_it(
    phone: Page, chat_url: str, sandbox_control: SandboxControl
) -> None:
    sign_in(phone, chat_url)
    send(phone, "schedule project 1")
    expect(phone.locator(".msg.bot").last).to_contain_text(
        "Which date works for you?", timeout=TURN_MS
    )
    dates = phone.locator("#choices button").all_inner_texts()
    phone.reload()
    expect(phone.locator(".msg.you")).to_contain_text(["schedule project 1"])
    expect(phone.locator(".msg.bot").last).to_contain_text(
        "Which date works for you?", timeout=TURN_MS
    )
    assert phone.locator("#choices button").all_inner_texts() == dates
    phone.locator("#choices button").first.click()  # the same chat session continues
    expect(phone.locator(".msg.bot").last).to_contain_text("Free times on", timeout=TURN_MS)

    phone.get_by_role("button", name="Sign out").click()
    expect(phone.locator("#signin")).to_be_visible()
    expect(phone.locator("#signin-note")).to_contain_text("signed out")
    phone.reload()
    expect(phone.locator("#signin")).to_be_visible()
    expect(phone.locator(".msg.you")).to_have_count(0)


def test_a_rejected_token_leads_back_to_sign_in(page: Page, chat_url: str) -> None:
    page.goto(chat_url + "/")
    page.fill("#token", "not-a-token")
    page.click("#token-form button")
    send(page, "show my projects")
    expect(page.locator(".msg.error").last).to_contain_text("not valid")
    page.get_by_role("button", name="Sign in again").click()
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#local-signin")).to_be_visible()
