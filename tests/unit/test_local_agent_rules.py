"""One test per understanding rule of the local agent (the parts, then the behaviour they give).

The whole-conversation behaviour with the fake actions is in test_local_agent.py; the rate
on realistic messages is in test_conversation_corpus.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from agent_bridge.chat.action_invoker import ActionResult
from agent_bridge.chat.local_agent import LocalAgent
from agent_bridge.chat.local_agent import understanding as u
from agent_bridge.chat.local_agent.projects import KnownProject, find_mention
from agent_bridge.chat.local_agent.when import (
    find_date,
    parse_time,
    part_of_day,
    time_in_part,
    without_dates_and_times,
)
from agent_bridge.chat.local_agent.wording import clock, humanize, short_date, when, window
from tests.unit.test_local_agent import FakeActions

TODAY = date(2026, 11, 30)  # a Monday
SESSION = "rules-session"


def agent_with(actions: FakeActions) -> LocalAgent:
    return LocalAgent(actions, today=lambda: TODAY)


# --------------------------------------------------------------------------- typos


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("shedule", "schedule"),
        ("reschedual", "reschedule"),
        ("apointment", "appointment"),
        ("cancle", "cancel"),
        ("tommorow", "tomorrow"),
        ("wensday", "wednesday"),
        ("tmrw", "tomorrow"),
        ("appt", "appointment"),
        ("bok", "book"),
    ],
)
def test_typos_and_shorthand_are_corrected(said: str, meant: str) -> None:
    assert u.correct_word(said) == meant


@pytest.mark.parametrize(
    "word", ["looking", "scheduled", "cancelled", "install", "house", "technical", "valuable"]
)
def test_real_words_are_kept(word: str) -> None:
    assert u.correct_word(word) == word


# --------------------------------------------------------------------------- dates and times


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("in 3 days", "2026-12-03"),
        ("two weeks from now", "2026-12-14"),
        ("the tenth", "2026-12-10"),
        ("tue, dec 8", "2026-12-08"),
        ("next week", "2026-12-07"),
    ],
)
def test_dates_and_spans(text: str, day: str) -> None:
    assert find_date(text, TODAY) == day


def test_next_week_prefers_an_offered_date() -> None:
    assert find_date("sometime next week", TODAY, ["2026-12-02", "2026-12-09"]) == "2026-12-09"


@pytest.mark.parametrize(
    ("text", "time"),
    [("half three", "15:30"), ("can you do 4", "16:00"), ("make it 9", "09:00")],
)
def test_more_times(text: str, time: str) -> None:
    assert parse_time(text) == time


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("thursday morning", "morning"),
        ("anything in the afternoon", "afternoon"),
        ("after lunch", "afternoon"),
        ("evening?", "evening"),
        ("good morning", None),
    ],
)
def test_parts_of_the_day(text: str, part: str | None) -> None:
    assert part_of_day(text) == part


def test_a_part_of_the_day_picks_from_the_offer() -> None:
    offered = ["08:00", "10:00", "13:00", "15:30"]
    assert time_in_part("morning", offered) == "08:00"
    assert time_in_part("afternoon", offered, latest=True) == "15:30"
    assert time_in_part("evening", offered) is None


def test_what_is_left_once_dates_and_times_are_taken_out() -> None:
    assert u.only_filler(without_dates_and_times("how about friday at 10am"))
    assert not u.only_filler(without_dates_and_times("i'm busy on monday"))


# --------------------------------------------------------------------------- answers and requests


@pytest.mark.parametrize(
    "text", ["yes please", "sounds great", "perfect, thanks", "yeah lets do it", "that works"]
)
def test_casual_agreement_is_a_yes(text: str) -> None:
    assert u.YES_BOOK.given(text)


@pytest.mark.parametrize("text", ["yes but friday", "ok what about the 8th", "hmm"])
def test_a_yes_with_more_is_no_yes(text: str) -> None:
    assert not u.YES_BOOK.given(text)


@pytest.mark.parametrize("text", ["nah", "hold on, not that one", "changed my mind"])
def test_casual_refusal_is_a_no(text: str) -> None:
    assert u.NO_BOOK.given(text)


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("show my projects and then cancel project 2", ["show my projects", "cancel project 2"]),
        ("status of 1, also who is the tech", ["status of 1", "who is the tech"]),
        ("cancel the windows and book the flooring", ["cancel the windows", "book the flooring"]),
        ("add a note: gate and dog", ["add a note: gate and dog"]),
        ("rock and roll", ["rock and roll"]),
    ],
)
def test_two_requests_are_split(message: str, parts: list[str]) -> None:
    assert u.split_requests(message) == parts


@pytest.mark.parametrize(
    ("text", "number"), [("2", 2), ("the second one", 2), ("last", 3), ("#1", 1), ("two", None)]
)
def test_short_answers_to_which_project(text: str, number: int | None) -> None:
    assert u.ordinal_number(text, 3) == number


def test_a_misspelt_project_name_is_found() -> None:
    projects = [KnownProject(1, "1", category="Flooring"), KnownProject(2, "2", category="Doors")]
    mention = find_mention("the floring one", projects)
    assert mention is not None and [p.number for p in mention.matches] == [1]
    assert find_mention("the door one", projects).matches[0].number == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (u.SCHEDULE, "move my window appointment"),
        (u.SCHEDULE, "can we push back the windows install"),
        (u.SCHEDULE, "can i get the floors done thursday"),
        (u.STATUS, "what's happening with my flooring job"),
        (u.STATUS, "any update on the windows"),
        (u.HOURS, "are you open on saturday"),
        (u.HANDOFF, "can i talk to a real person"),
        (u.TECHNICIAN, "when is the flooring guy coming"),
        (u.STOP_BOOKING, "never mind"),
    ],
)
def test_intent_patterns(pattern: object, text: str) -> None:
    assert pattern.search(u.correct(text))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text", ["which jobs do i have open", "i'm looking for my projects", "is it scheduled"]
)
def test_words_that_are_not_their_lookalike_intent(text: str) -> None:
    corrected = u.correct(text)
    assert not u.HOURS.search(corrected)
    assert not u.SCHEDULE.search(corrected)


# --------------------------------------------------------------------------- wording


def test_dates_and_times_as_people_write_them() -> None:
    assert when("2026-12-01", "10:00") == "Tuesday, December 1 at 10:00 AM"
    assert short_date("2026-12-01") == "Tue, Dec 1"
    assert clock("00:30") == "12:30 AM" and clock("12:00") == "12:00 PM"
    assert window("09:00-11:00") == "9:00 AM to 11:00 AM"
    assert humanize("Free on 2026-12-01, 2026-12-02: 09:00, 14:00.") == (
        "Free on Tuesday, December 1; Wednesday, December 2: 9:00 AM, 2:00 PM."
    )
    assert humanize("Booked 2026-12-07 09:00-11:00.") == (
        "Booked Monday, December 7, 9:00 AM to 11:00 AM."
    )


# --------------------------------------------------------------------------- behaviour


def test_business_hours_answer_the_day_asked() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    assert agent.ask(SESSION, "are you open on saturday?").text.startswith(
        "No, we don't work on Saturday."
    )
    assert agent.ask(SESSION, "do you work on mondays").text.startswith("Yes, Monday")
    assert "not the opening hours" in agent.ask(SESSION, "what time do you open").text
    assert agent.ask(SESSION, "are you working tomorrow").text.startswith("Yes, tomorrow (Tuesday)")


def test_a_person_is_asked_for() -> None:
    actions = FakeActions()
    reply = agent_with(actions).ask(SESSION, "let me talk to a human")
    assert "can't pass this chat to a person" in reply.text
    assert actions.calls == []


def test_off_topic_with_a_day_word_is_no_date() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    agent.ask(SESSION, "schedule project 1")
    reply = agent.ask(SESSION, "my dog ate my homework on tuesday")
    assert reply.text.startswith("Sorry, I didn't quite get that.")
    assert "/get_time_slots" not in actions.paths()


def test_a_bare_cancel_asks_which_and_the_answer_is_understood() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    reply = agent.ask(SESSION, "cancel")
    assert reply.text.startswith("Which appointment would you like to cancel?")
    assert reply.choices == ["Cancel project 2"]
    reply = agent.ask(SESSION, "the windows one")
    assert reply.text.startswith("Shall I cancel the appointment on Monday, December 7")
    assert "/cancel_appointment" not in actions.paths()


def test_moving_an_appointment_says_from_and_to() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    reply = agent.ask(SESSION, "move my windows appointment")
    assert reply.text.startswith("You're booked for Monday, December 7, 9:00 AM to 11:00 AM;")
    reply = agent.ask(SESSION, "Dec 3 at 10am")
    assert reply.text == (
        "Shall I move your appointment for Installation Windows ORD-2025-002 from Monday, "
        "December 7, 9:00 AM to 11:00 AM to Thursday, December 3 at 10:00 AM? (yes/no)"
    )


def test_two_requests_stop_honestly_at_a_question() -> None:
    actions = FakeActions()
    reply = agent_with(actions).ask(SESSION, "cancel the windows and book the flooring")
    assert reply.text.startswith("Shall I cancel the appointment")
    assert 'I haven\'t done "book the flooring" yet' in reply.text
    assert "/get_available_dates" not in actions.paths()


def test_two_requests_are_both_done() -> None:
    actions = FakeActions()
    reply = agent_with(actions).ask(SESSION, "business hours and also list my projects")
    assert actions.paths() == ["/get_business_hours", "/list_projects"]
    assert reply.text.startswith("We work Monday, Tuesday.") and "You have 3 projects" in reply.text


def test_the_earliest_slot_is_offered_for_confirmation() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    agent.ask(SESSION, "schedule project 1")
    reply = agent.ask(SESSION, "first available")
    assert reply.text == "Shall I book Tuesday, December 1 at 9:00 AM? (yes/no)"
    assert "/confirm_appointment" not in actions.paths()


def test_a_note_asked_for_is_taken_from_the_next_message() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    agent.ask(SESSION, "add a note to project 1")
    agent.ask(SESSION, "Beware of the dog")
    assert actions.notes == [("12345", "Beware of the dog")]


def test_a_failed_booking_removes_the_dead_flows_buttons() -> None:
    class Failing(FakeActions):
        def confirm_appointment(self, parameters: dict[str, str]) -> ActionResult:
            return ActionResult(502, {"error": "PF360 did not answer; nothing was booked."})

    actions = Failing()
    agent = agent_with(actions)
    for message in ("schedule project 1", "Dec 3", "10am"):
        agent.ask(SESSION, message)
    reply = agent.ask(SESSION, "yes")
    assert reply.text == "PF360 did not answer; nothing was booked."
    assert reply.choices == ["List my projects", "Business hours", "Show notes"]
    reply = agent.ask(SESSION, "10am")  # the old offer is gone: no time is taken
    assert reply.text.startswith("Which project would you like to schedule?")


def test_a_slow_turn_is_fetched_by_a_follow_up() -> None:
    class Slow(FakeActions):
        slow = True

        def confirm_appointment(self, parameters: dict[str, str]) -> ActionResult:
            if self.slow:
                self.slow = False
                message = "I'm still working on that; please ask me again in a moment."
                return ActionResult(200, {"message": message, "status": "working"})
            return super().confirm_appointment(parameters)

    actions = Slow()
    agent = agent_with(actions)
    for message in ("schedule project 1", "Dec 3", "10am"):
        agent.ask(SESSION, message)
    reply = agent.ask(SESSION, "yes")
    assert reply.working and reply.choices == []
    reply = agent.ask(SESSION, "Is it done yet?")
    assert not reply.working
    assert reply.text.startswith("Your appointment is booked for Thursday, December 3 at 10:00")
    confirms = [c for c in actions.calls if c.path == "/confirm_appointment"]
    assert len(confirms) == 2 and confirms[0].parameters == confirms[1].parameters


def test_a_greeting_or_a_part_not_understood_around_a_request() -> None:
    actions = FakeActions()
    agent = agent_with(actions)
    reply = agent.ask(SESSION, "Hi! Show me my projects")
    assert reply.text.startswith("You have 3 projects") and len(reply.cards) == 3
    reply = agent.ask(SESSION, "I moved house last year. Who is the tech for the windows?")
    assert reply.text == 'I didn\'t understand "I moved house last year".\n\nTech of Windows.'
