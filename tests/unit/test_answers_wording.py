"""The actions' answers in people's words, and only future times offered for today."""

from __future__ import annotations

from datetime import datetime

import pytz

from agent_bridge.actions import answers
from agent_bridge.chat.app import reply_body
from agent_bridge.chat.runtime import AgentReply
from agent_bridge.flow_driver import STILL_WORKING_MESSAGE, FlowView
from tasks.pf360 import Project

# 10:30 in Auckland on Tuesday, December 1 (still Monday, November 30 in New York).
NOW = pytz.timezone("Pacific/Auckland").localize(datetime(2026, 12, 1, 10, 30))
TIMES = ["09:00", "10:30", "11:00", "14:00"]


def test_dates_and_windows_as_people_write_them() -> None:
    assert answers.friendly_date("2026-12-01") == "Tuesday, December 1"
    assert answers.friendly_date("soon") == "soon"
    assert answers.friendly_time("14:05") == "2:05 PM"
    assert answers.friendly_window("09:00-11:00") == "9:00 AM to 11:00 AM"


def test_a_project_line_says_its_status_once() -> None:
    project = Project(
        project_id="12346",
        project_number=2,
        project_type="Installation",
        category="Windows",
        order_number="ORD-2025-002",
        status="Scheduled",
        scheduled_date="2026-12-08",
        window="09:00-11:00",
    )
    assert answers.project_line(project) == (
        "2. Installation Windows ORD-2025-002 - Scheduled for Tuesday, December 8, "
        "9:00 AM to 11:00 AM"
    )


def test_only_future_times_are_offered_for_today_in_the_tenants_zone() -> None:
    assert answers.future_times("2026-12-01", TIMES, "Pacific/Auckland", NOW) == [
        "11:00",
        "14:00",
    ]
    # Another day: nothing has passed. New York is still at 16:30 on Monday, November 30.
    assert answers.future_times("2026-12-02", TIMES, "Pacific/Auckland", NOW) == TIMES
    assert answers.future_times("2026-12-01", TIMES, "America/New_York", NOW) == TIMES
    assert answers.future_times("2026-11-30", TIMES, "America/New_York", NOW) == []


def slots_view(times: list[str]) -> FlowView:
    message = f"Free times on 2026-12-01: {', '.join(times)}. Which time works, or another date?"
    return FlowView(
        status="waiting",
        message=message,
        step="await_slot",
        offer={"date": "2026-12-01", "times": times},
    )


def test_the_slots_answer_drops_past_times_from_the_list_and_the_sentence() -> None:
    body = answers.flow_body(slots_view(TIMES), timezone="Pacific/Auckland", now=NOW)
    assert body["available_times"] == ["11:00", "14:00"]
    assert body["message"].startswith("Free times on Tuesday, December 1: 11:00, 14:00.")
    past = answers.flow_body(slots_view(["08:00"]), timezone="Pacific/Auckland", now=NOW)
    assert past["available_times"] == []
    assert "no free times left on Tuesday, December 1" in past["message"]


def test_the_chat_answer_says_when_a_turn_is_still_running() -> None:
    assert reply_body(AgentReply("Booked."), "s-1")["working"] is False
    assert reply_body(AgentReply("x", working=True), "s-1")["working"] is True
    # Any agent's "still working" sentence (Bedrock relays the action's) counts too.
    assert reply_body(AgentReply(STILL_WORKING_MESSAGE), "s-1")["working"] is True
    cards = [{"title": "Flooring", "url": "https://x/1"}]
    assert reply_body(AgentReply("You have 1 project:", cards=cards), "s-1")["cards"] == cards
