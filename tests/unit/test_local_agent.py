"""The local stand-in agent: every documented phrasing, the confirm-before-booking rule, the
choices it offers, what its calls carry (a session id, never a customer id or a token), and
the Bedrock-format invoker it drives the Lambdas with.

The actions are an in-memory fake answering with bodies in the real format; the real
Lambdas are exercised end to end elsewhere.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from agent_bridge.chat.action_invoker import (
    INTERNAL_ERROR,
    OUTCOME_UNKNOWN,
    ActionResult,
    LambdaActionInvoker,
    bedrock_event,
    current_user_message,
    user_message,
)
from agent_bridge.chat.local_agent import (
    CANCEL_CHOICES,
    CONFIRM_CHOICES,
    MENU,
    LocalAgent,
    parse_date,
    parse_time,
    tenant_today,
)
from agent_bridge.chat.local_agent.wording import long_date
from agent_bridge.chat.runtime import AgentReply

TODAY = date(2026, 11, 30)  # a Monday
DATES = ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-08", "2026-12-10"]
DATE_CHOICES = ["Tue, Dec 1", "Wed, Dec 2", "Thu, Dec 3", "Tue, Dec 8", "Thu, Dec 10"]
TIMES = ["09:00", "10:00", "14:00"]
TIME_CHOICES = ["9:00 AM", "10:00 AM", "2:00 PM", "Another date"]
ALLOWED_PARAMETERS = {"session_id", "project_id", "date", "time", "note_text"}
SESSION = "sess-local-1"
URL = "https://portal.example/projects/"

PROJECTS: list[dict[str, Any]] = [
    {
        "number": 1,
        "project_id": "12345",
        "order_number": "ORD-2025-001",
        "type": "Installation",
        "category": "Flooring",
        "status": "Unscheduled",
        "scheduled_date": None,
        "window": None,
        "project_url": URL + "12345",
    },
    {
        "number": 2,
        "project_id": "12346",
        "order_number": "ORD-2025-002",
        "type": "Installation",
        "category": "Windows",
        "status": "Scheduled",
        "scheduled_date": "2026-12-07",
        "window": "09:00-11:00",
        "project_url": URL + "12346",
    },
    {
        "number": 3,
        "project_id": "12347",
        "order_number": "ORD-2025-003",
        "type": "Measurement",
        "category": "Cabinets",
        "status": "Completed",
        "scheduled_date": None,
        "window": None,
        "project_url": URL + "12347",
    },
]


@dataclass
class Call:
    group: str
    path: str
    parameters: dict[str, str]
    session_id: str
    input_text: str


def error(status: int, sentence: str) -> ActionResult:
    return ActionResult(status, {"error": sentence})


@dataclass
class FakeActions:
    """The three action groups in memory: records every call, answers in the real format."""

    dates: list[str] = field(default_factory=lambda: list(DATES))
    times: list[str] = field(default_factory=lambda: list(TIMES))
    calls: list[Call] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, group: str, path: str, parameters: dict[str, str], session_id: str
    ) -> ActionResult:
        # The contract every call must keep, checked on every call of every test.
        assert set(parameters) <= ALLOWED_PARAMETERS, parameters
        assert parameters["session_id"] == session_id, parameters
        assert not any(v.startswith("eyJ") for v in parameters.values()), parameters
        with self.lock:
            self.calls.append(
                Call(group, path, dict(parameters), session_id, current_user_message())
            )
        handler = getattr(self, path.strip("/"))
        expected_group = {
            "list_projects": "scheduling-actions",
            "get_available_dates": "scheduling-actions",
            "get_time_slots": "scheduling-actions",
            "confirm_appointment": "scheduling-actions",
            "cancel_appointment": "scheduling-actions",
            "get_business_hours": "scheduling-actions",
            "get_project_status": "information-actions",
            "get_project_details": "information-actions",
            "get_technician_info": "information-actions",
            "list_all_projects": "information-actions",
            "add_note": "notes-actions",
            "get_notes": "notes-actions",
        }[path.strip("/")]
        assert group == expected_group, (group, path)
        result: ActionResult = handler(parameters)
        return result

    # ------------------------------------------------------------------ what was called

    def paths(self) -> list[str]:
        return [call.path for call in self.calls]

    def last(self, path: str) -> dict[str, str]:
        return next(c.parameters for c in reversed(self.calls) if c.path == path)

    # ------------------------------------------------------------------ the actions

    @staticmethod
    def project(parameters: dict[str, str]) -> dict[str, Any]:
        return next(p for p in PROJECTS if p["project_id"] == parameters.get("project_id"))

    def list_projects(self, parameters: dict[str, str]) -> ActionResult:
        lines = "\n".join(
            f"{p['number']}. {p['type']} {p['category']} {p['order_number']} - {p['status']}"
            for p in PROJECTS
        )
        return ActionResult(
            200,
            {
                "message": f"You have {len(PROJECTS)} projects:\n{lines}",
                "projects": PROJECTS,
                "total": len(PROJECTS),
                "truncated": False,
            },
        )

    def list_all_projects(self, parameters: dict[str, str]) -> ActionResult:
        answer = self.list_projects(parameters)
        return ActionResult(200, {**answer.body, "message": "All details: " + URL})

    def get_available_dates(self, parameters: dict[str, str]) -> ActionResult:
        project = self.project(parameters)
        return ActionResult(
            200,
            {
                "message": "Which date works for you? Available: " + ", ".join(self.dates) + ".",
                "step": "await_date",
                "status": "waiting",
                "project_id": project["project_id"],
                "project_url": project["project_url"],
                "available_dates": list(self.dates),
            },
        )

    def get_time_slots(self, parameters: dict[str, str]) -> ActionResult:
        day = parameters["date"]
        if day not in self.dates:
            offered = ", ".join(self.dates)
            return error(400, f"{day} is not available; please pick one of: {offered}.")
        return ActionResult(
            200,
            {
                "message": f"Free times on {day}: "
                + ", ".join(self.times)
                + ". Which time works, or another date?",
                "step": "await_slot",
                "status": "waiting",
                "project_id": parameters["project_id"],
                "date": day,
                "available_times": list(self.times),
            },
        )

    def confirm_appointment(self, parameters: dict[str, str]) -> ActionResult:
        project = self.project(parameters)
        return ActionResult(
            200,
            {
                "message": f"Your appointment is booked for {parameters['date']} at "
                f"{parameters['time']}.",
                "step": "done",
                "status": "done",
                "project_id": project["project_id"],
                "project_url": project["project_url"],
                "outcome": "booked",
                "date": parameters["date"],
                "time": parameters["time"],
            },
        )

    def cancel_appointment(self, parameters: dict[str, str]) -> ActionResult:
        project = self.project(parameters)
        return ActionResult(
            200,
            {
                "message": "Your appointment on 2026-12-07 09:00-11:00 is cancelled.",
                "step": "done",
                "status": "done",
                "project_id": project["project_id"],
                "project_url": project["project_url"],
                "outcome": "cancelled",
            },
        )

    def get_business_hours(self, parameters: dict[str, str]) -> ActionResult:
        return ActionResult(
            200,
            {"message": "We work Monday, Tuesday.", "working_days": ["Monday", "Tuesday"]},
        )

    def get_project_status(self, parameters: dict[str, str]) -> ActionResult:
        return ActionResult(200, {"message": f"Status of {self.project(parameters)['category']}."})

    def get_project_details(self, parameters: dict[str, str]) -> ActionResult:
        return ActionResult(200, {"message": f"Details of {self.project(parameters)['category']}."})

    def get_technician_info(self, parameters: dict[str, str]) -> ActionResult:
        return ActionResult(200, {"message": f"Tech of {self.project(parameters)['category']}."})

    def add_note(self, parameters: dict[str, str]) -> ActionResult:
        project = self.project(parameters)
        self.notes.append((project["project_id"], parameters["note_text"]))
        return ActionResult(200, {"message": f"Your note was added to {project['category']}."})

    def get_notes(self, parameters: dict[str, str]) -> ActionResult:
        scope = parameters.get("project_id", "all")
        return ActionResult(200, {"message": f"Notes for {scope}.", "notes": []})


@pytest.fixture
def actions() -> FakeActions:
    return FakeActions()


@pytest.fixture
def agent(actions: FakeActions) -> LocalAgent:
    return LocalAgent(actions, today=lambda: TODAY)


def say(agent: LocalAgent, *messages: str, session: str = SESSION) -> AgentReply:
    reply = AgentReply("")
    for message in messages:
        reply = agent.ask(session, message)
    return reply


def scheduling(actions: FakeActions) -> list[str]:
    return [p for p in actions.paths() if p != "/list_projects"]


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    "message", ["hi", "Hello!", "hey there", "help", "What can you do?", "good morning", ""]
)
def test_greetings_and_help_say_what_it_can_do(
    agent: LocalAgent, actions: FakeActions, message: str
) -> None:
    reply = say(agent, message)
    assert "I can list your projects" in reply.text
    assert reply.choices == MENU
    assert actions.calls == []


@pytest.mark.parametrize("message", ["thanks!", "Thank you so much", "ok thanks", "bye"])
def test_thanks(agent: LocalAgent, actions: FakeActions, message: str) -> None:
    reply = say(agent, message)
    assert reply.text == "You're welcome! Anything else I can help with?"
    assert reply.choices == MENU
    assert actions.calls == []


@pytest.mark.parametrize("message", ["what's the weather", "asdf", "no", "yes"])
def test_anything_else_gets_a_polite_sentence(
    agent: LocalAgent, actions: FakeActions, message: str
) -> None:
    reply = say(agent, message)
    assert reply.text.startswith("Sorry, I didn't quite get that.")
    assert "schedule or reschedule" in reply.text
    assert reply.choices == MENU
    assert actions.calls == []


# --------------------------------------------------------------------------- projects


@pytest.mark.parametrize(
    "message", ["list my projects", "Show my projects", "What projects do I have?", "projects"]
)
def test_list_projects(agent: LocalAgent, actions: FakeActions, message: str) -> None:
    reply = say(agent, message)
    assert actions.paths() == ["/list_projects"]
    assert actions.calls[0].parameters == {"session_id": SESSION}
    assert reply.text.startswith("You have 3 projects:")
    # Completed projects get no button; a scheduled one is rescheduled.
    assert reply.choices == ["Schedule project 1", "Reschedule project 2"]


def test_details_of_all_projects(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "details of all my projects")
    assert actions.paths() == ["/list_all_projects"]
    assert actions.calls[0].group == "information-actions"
    assert reply.text == "All details: " + URL


# --------------------------------------------------------------------------- scheduling


@pytest.mark.parametrize(
    ("message", "project_id"),
    [
        ("schedule project 1", "12345"),
        ("Book number 1", "12345"),
        ("schedule #1", "12345"),
        ("schedule 1", "12345"),
        ("book the first one", "12345"),
        ("Schedule ORD-2025-001", "12345"),
        ("schedule the flooring one", "12345"),
        ("I'd like to book my floor project", "12345"),
        ("schedule my windows project", "12346"),
        ("reschedule project 2", "12346"),
        ("Reschedule ord-2025-002", "12346"),
        ("book number 2", "12346"),
        ("make an appointment for the window one", "12346"),
    ],
)
def test_schedule_a_project_named_any_way(
    agent: LocalAgent, actions: FakeActions, message: str, project_id: str
) -> None:
    reply = say(agent, message)
    # The projects were not known yet: listed first (silently) to resolve the name.
    assert actions.paths() == ["/list_projects", "/get_available_dates"]
    assert actions.last("/get_available_dates") == {
        "session_id": SESSION,
        "project_id": project_id,
    }
    assert (
        "Which date works for you? I have 5 free dates, from Tuesday, December 1 to Thursday, "
        "December 10: pick one below" in reply.text
    )
    assert reply.choices == DATE_CHOICES


def test_a_known_list_is_not_fetched_again(agent: LocalAgent, actions: FakeActions) -> None:
    say(agent, "list my projects", "book number 2")
    assert actions.paths() == ["/list_projects", "/get_available_dates"]


def test_an_ambiguous_type_asks_which(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "schedule my installation project")
    assert "/get_available_dates" not in actions.paths()
    assert reply.text.startswith("Which Flooring project do you mean?")
    assert "1. Installation Flooring ORD-2025-001" in reply.text
    assert reply.choices == ["Schedule project 1", "Reschedule project 2"]


@pytest.mark.parametrize(
    ("message", "said"),
    [("schedule project 9", "project 9"), ("book ORD-2099-999", "ORD-2099-999")],
)
def test_an_unknown_project_is_said_so(
    agent: LocalAgent, actions: FakeActions, message: str, said: str
) -> None:
    reply = say(agent, message)
    assert actions.paths() == ["/list_projects"]
    assert reply.text.startswith(f"I couldn't find {said} among your projects")
    assert reply.choices == ["Schedule project 1", "Reschedule project 2"]


def test_schedule_without_a_name_asks_which(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "I want to book an appointment")
    assert actions.paths() == ["/list_projects"]
    assert reply.text.startswith("Which project do you mean?")
    assert reply.choices == ["Schedule project 1", "Reschedule project 2"]


@pytest.mark.parametrize(
    ("message", "day"),
    [
        ("2026-12-03", "2026-12-03"),
        ("Dec 3", "2026-12-03"),
        ("December 3rd", "2026-12-03"),
        ("3 December", "2026-12-03"),
        ("the 3rd of december", "2026-12-03"),
        ("12/03", "2026-12-03"),
        ("12/3/2026", "2026-12-03"),
        ("the 3rd", "2026-12-03"),
        ("3rd please", "2026-12-03"),
        ("Thu Dec 3", "2026-12-03"),  # the button
        ("Thursday", "2026-12-03"),
        ("next Tuesday", "2026-12-01"),
        ("Tuesday works", "2026-12-01"),
        ("tues", "2026-12-01"),
        ("tomorrow", "2026-12-01"),
        ("the day after tomorrow", "2026-12-02"),
        ("the 10th", "2026-12-10"),
        ("Tue Dec 8", "2026-12-08"),
    ],
)
def test_dates_in_common_forms(
    agent: LocalAgent, actions: FakeActions, message: str, day: str
) -> None:
    reply = say(agent, "schedule project 1", message)
    assert actions.paths()[-1] == "/get_time_slots"
    assert actions.last("/get_time_slots") == {
        "session_id": SESSION,
        "project_id": "12345",
        "date": day,
    }
    assert reply.text.startswith(f"Free times on {long_date(day)}: 9:00 AM, 10:00 AM, 2:00 PM.")
    assert reply.choices == TIME_CHOICES


def test_a_weekday_prefers_an_offered_date(actions: FakeActions) -> None:
    actions.dates = ["2026-12-08", "2026-12-15"]  # no Tuesday Dec 1 on offer
    agent = LocalAgent(actions, today=lambda: TODAY)
    say(agent, "schedule project 1", "next Tuesday")
    assert actions.last("/get_time_slots")["date"] == "2026-12-08"
    say(agent, "another date", "the 15th")
    assert actions.last("/get_time_slots")["date"] == "2026-12-15"


def test_a_date_not_offered_is_still_sent_and_the_action_answers(
    agent: LocalAgent, actions: FakeActions
) -> None:
    reply = say(agent, "schedule project 1", "Friday")
    assert actions.last("/get_time_slots")["date"] == "2026-12-04"
    assert reply.text.startswith("Friday, December 4 is not available; please pick one of:")
    assert reply.choices == DATE_CHOICES  # the offer still stands


def test_a_date_before_scheduling_asks_for_the_project(
    agent: LocalAgent, actions: FakeActions
) -> None:
    reply = say(agent, "Dec 3")
    assert actions.paths() == ["/list_projects"]  # to offer the projects as buttons
    assert reply.text.startswith("Which project would you like to schedule?")
    assert reply.choices == ["Schedule project 1", "Reschedule project 2"]
    reply = say(agent, "the flooring one")  # the answer to that question
    assert actions.last("/get_available_dates")["project_id"] == "12345"


@pytest.mark.parametrize(
    ("message", "time"),
    [
        ("10", "10:00"),
        ("at 10", "10:00"),
        ("ten", "10:00"),
        ("10am", "10:00"),
        ("10 am", "10:00"),
        ("10 a.m.", "10:00"),
        ("10:00", "10:00"),
        ("10:00 AM", "10:00"),  # the button
        ("9", "09:00"),
        ("2pm", "14:00"),
        ("2", "14:00"),
        ("at 2 o'clock", "14:00"),
        ("14:00", "14:00"),
        ("2:00 PM", "14:00"),
    ],
)
def test_times_then_a_confirmation_question(
    agent: LocalAgent, actions: FakeActions, message: str, time: str
) -> None:
    reply = say(agent, "schedule project 1", "Dec 3", message)
    assert "/confirm_appointment" not in actions.paths()
    hour = {"09:00": "9:00 AM", "10:00": "10:00 AM", "14:00": "2:00 PM"}[time]
    assert reply.text == f"Shall I book Thursday, December 3 at {hour}? (yes/no)"
    assert reply.choices == CONFIRM_CHOICES


def test_a_time_not_offered_lists_the_free_times(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "schedule project 1", "Dec 3", "11:30am")
    assert scheduling(actions) == ["/get_available_dates", "/get_time_slots"]
    assert reply.text == (
        "11:30 AM isn't free on Thursday, December 3. Free times: 9:00 AM, 10:00 AM, "
        "2:00 PM. Which one works, or another date?"
    )
    assert reply.choices == TIME_CHOICES


def test_a_time_before_a_date_asks_for_the_date(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "schedule project 1", "10am")
    assert scheduling(actions) == ["/get_available_dates"]
    assert reply.text == "Please pick a date first."
    assert reply.choices == DATE_CHOICES


def test_date_and_time_in_one_sentence(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "book project 1 on Dec 3 at 10am")
    assert actions.paths() == ["/list_projects", "/get_available_dates", "/get_time_slots"]
    assert reply.text == "Shall I book Thursday, December 3 at 10:00 AM? (yes/no)"
    reply = say(agent, "Tuesday at 2")
    assert actions.last("/get_time_slots")["date"] == "2026-12-01"
    assert reply.text == "Shall I book Tuesday, December 1 at 2:00 PM? (yes/no)"


@pytest.mark.parametrize(
    "message", ["another date", "Another date", "a different day", "other dates", "change the date"]
)
def test_another_date(agent: LocalAgent, actions: FakeActions, message: str) -> None:
    reply = say(agent, "schedule project 1", "Dec 3", message)
    assert scheduling(actions) == [
        "/get_available_dates",
        "/get_time_slots",
        "/get_available_dates",
    ]
    assert actions.last("/get_available_dates")["project_id"] == "12345"
    assert reply.choices == DATE_CHOICES


def test_another_date_without_a_booking(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "another date")
    assert actions.calls == []
    assert reply.text.startswith("Which project would you like to schedule?")


# --------------------------------------------------------------------------- confirm first


@pytest.mark.parametrize(
    "answer",
    ["yes", "Yes, book it", "yep", "Yeah!", "confirm", "book it", "sure", "ok", "go ahead"],
)
def test_books_only_after_yes(agent: LocalAgent, actions: FakeActions, answer: str) -> None:
    say(agent, "schedule project 1", "Dec 3", "10am")
    assert "/confirm_appointment" not in actions.paths()
    reply = say(agent, answer)
    assert actions.last("/confirm_appointment") == {
        "session_id": SESSION,
        "project_id": "12345",
        "date": "2026-12-03",
        "time": "10:00",
    }
    assert reply.text == (
        "Your appointment is booked for Thursday, December 3 at 10:00 AM. Details: " + URL + "12345"
    )
    assert reply.choices == MENU


@pytest.mark.parametrize("answer", ["no", "No.", "nope", "No thanks", "never mind", "cancel"])
def test_no_offers_the_times_again(agent: LocalAgent, actions: FakeActions, answer: str) -> None:
    say(agent, "schedule project 1", "Dec 3", "10am")
    reply = say(agent, answer)
    assert "/confirm_appointment" not in actions.paths()
    assert actions.paths()[-1] == "/get_time_slots"
    assert reply.text.startswith(
        "All right, nothing is booked. Free times on Thursday, December 3:"
    )
    assert reply.choices == TIME_CHOICES
    say(agent, "yes")  # the question was answered: a later yes books nothing
    assert "/confirm_appointment" not in actions.paths()


@pytest.mark.parametrize("answer", ["yes but not on Thursday", "ok what about the 8th", "hmm"])
def test_a_yes_with_more_is_not_a_yes(agent: LocalAgent, actions: FakeActions, answer: str) -> None:
    say(agent, "schedule project 1", "Dec 3", "10am", answer)
    assert "/confirm_appointment" not in actions.paths()


def test_another_answer_drops_the_question(agent: LocalAgent, actions: FakeActions) -> None:
    say(agent, "schedule project 1", "Dec 3", "10am")
    reply = say(agent, "9am instead")
    assert reply.text == "Shall I book Thursday, December 3 at 9:00 AM? (yes/no)"
    say(agent, "yes")
    assert actions.last("/confirm_appointment")["time"] == "09:00"
    assert actions.paths().count("/confirm_appointment") == 1


def test_confirm_is_always_right_after_a_question(agent: LocalAgent, actions: FakeActions) -> None:
    replies = [
        agent.ask(SESSION, m)
        for m in (
            "yes",
            "book it",
            "schedule project 1",
            "yes",
            "Dec 3",
            "yes",
            "10am",
            "another date",
            "yes",
            "the 8th",
            "2pm",
            "yes",
            "yes",
        )
    ]
    assert actions.paths().count("/confirm_appointment") == 1
    assert actions.last("/confirm_appointment")["date"] == "2026-12-08"
    asked = [i for i, r in enumerate(replies) if r.text.startswith("Shall I book")]
    assert asked == [6, 10]


def test_after_booking_the_offer_is_gone(agent: LocalAgent, actions: FakeActions) -> None:
    say(agent, "schedule project 1", "Dec 3", "10am", "yes")
    reply = say(agent, "Dec 8")
    assert reply.text.startswith("Which project would you like to schedule?")
    assert "/get_time_slots" not in actions.paths()[-1:]


# --------------------------------------------------------------------------- cancel


@pytest.mark.parametrize(
    "message",
    ["cancel project 2", "Cancel my windows appointment", "cancel ORD-2025-002", "cancel 2"],
)
def test_cancel_asks_first(agent: LocalAgent, actions: FakeActions, message: str) -> None:
    reply = say(agent, message)
    assert "/cancel_appointment" not in actions.paths()
    assert reply.text == (
        "Shall I cancel the appointment on Monday, December 7, 9:00 AM to 11:00 AM for project 2 "
        "(Installation Windows ORD-2025-002)? (yes/no)"
    )
    assert reply.choices == CANCEL_CHOICES
    reply = say(agent, "Yes, cancel it")
    assert actions.last("/cancel_appointment") == {"session_id": SESSION, "project_id": "12346"}
    assert reply.text.startswith(
        "Your appointment on Monday, December 7, 9:00 AM to 11:00 AM is cancelled."
    )


@pytest.mark.parametrize("answer", ["no", "No, keep it", "nope"])
def test_no_keeps_the_appointment(agent: LocalAgent, actions: FakeActions, answer: str) -> None:
    reply = say(agent, "cancel project 2", answer)
    assert "/cancel_appointment" not in actions.paths()
    assert reply.text == "All right, your appointment stays as it is."
    say(agent, "yes")
    assert "/cancel_appointment" not in actions.paths()


def test_nothing_to_cancel(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "cancel the flooring one")
    assert "/cancel_appointment" not in actions.paths()
    assert reply.text == (
        "Project 1 (Installation Flooring ORD-2025-001) has no scheduled appointment to cancel."
    )


# --------------------------------------------------------------------------- information


@pytest.mark.parametrize(
    ("message", "path", "project_id"),
    [
        ("status of project 1", "/get_project_status", "12345"),
        ("What's the status of ORD-2025-002?", "/get_project_status", "12346"),
        ("where is my windows project", "/get_project_status", "12346"),
        ("when is my appointment for project 2", "/get_project_status", "12346"),
        ("is the flooring one scheduled?", "/get_project_status", "12345"),
        ("who is the technician for ORD-2025-002", "/get_technician_info", "12346"),
        ("who's coming for project 2", "/get_technician_info", "12346"),
        ("details of the flooring project", "/get_project_details", "12345"),
        ("tell me about project 3", "/get_project_details", "12347"),
        ("info on the cabinets one", "/get_project_details", "12347"),
    ],
)
def test_status_details_and_technician(
    agent: LocalAgent, actions: FakeActions, message: str, path: str, project_id: str
) -> None:
    reply = say(agent, message)
    assert actions.paths() == ["/list_projects", path]
    assert actions.calls[-1].group == "information-actions"
    assert actions.last(path) == {"session_id": SESSION, "project_id": project_id}
    assert reply.text.endswith(".")
    assert reply.choices == MENU


def test_a_read_without_a_name_uses_the_project_being_discussed(
    agent: LocalAgent, actions: FakeActions
) -> None:
    say(agent, "schedule my windows project")
    say(agent, "who is the technician")
    assert actions.last("/get_technician_info")["project_id"] == "12346"
    reply = say(agent, "and its status")
    assert actions.last("/get_project_status")["project_id"] == "12346"
    assert reply.choices == DATE_CHOICES  # the offer still stands


def test_a_read_without_a_name_asks_which(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "what's the status")
    assert actions.paths() == ["/list_projects"]
    assert reply.text.startswith("Which project do you mean?")
    assert reply.choices == ["Status of project 1", "Status of project 2", "Status of project 3"]


@pytest.mark.parametrize(
    "message", ["When are you open?", "business hours", "What days do you work", "your hours"]
)
def test_business_hours(agent: LocalAgent, actions: FakeActions, message: str) -> None:
    reply = say(agent, message)
    assert actions.paths() == ["/get_business_hours"]
    assert actions.calls[0].parameters == {"session_id": SESSION}
    assert reply.text.startswith("We work Monday, Tuesday.")


# --------------------------------------------------------------------------- notes


@pytest.mark.parametrize(
    ("message", "project_id", "text"),
    [
        ("add a note to project 1: gate code 1234", "12345", "gate code 1234"),
        ("Note for ORD-2025-001: Call before arriving", "12345", "Call before arriving"),
        (
            "add a note to the windows project saying The dog is friendly",
            "12346",
            "The dog is friendly",
        ),
        (
            "Please add a note to project 2: arrive after 10:30, cancel if raining",
            "12346",
            "arrive after 10:30, cancel if raining",
        ),
    ],
)
def test_add_a_note(
    agent: LocalAgent, actions: FakeActions, message: str, project_id: str, text: str
) -> None:
    reply = say(agent, message)
    assert actions.paths() == ["/list_projects", "/add_note"]
    assert actions.calls[-1].group == "notes-actions"
    assert actions.last("/add_note") == {
        "session_id": SESSION,
        "project_id": project_id,
        "note_text": text,
    }
    assert reply.text.startswith("Your note was added to")


def test_a_note_without_text_asks_for_it(agent: LocalAgent, actions: FakeActions) -> None:
    reply = say(agent, "add a note to project 1")
    assert "/add_note" not in actions.paths()
    assert reply.text.startswith("What should the note for project 1 say?")


def test_a_note_without_a_project_offers_it_for_each(
    agent: LocalAgent, actions: FakeActions
) -> None:
    reply = say(agent, "add a note: gate {code} 1234")
    assert "/add_note" not in actions.paths()
    assert reply.choices[0] == "Add a note to project 1: gate {code} 1234"
    say(agent, reply.choices[0])  # the button sends the whole command
    assert actions.notes == [("12345", "gate {code} 1234")]


@pytest.mark.parametrize(
    ("message", "project_id"),
    [
        ("show notes", None),
        ("Show my notes", None),
        ("show notes for project 1", "12345"),
        ("any notes on ORD-2025-002?", "12346"),
        ("show the notes for the flooring project", "12345"),
    ],
)
def test_show_notes(
    agent: LocalAgent, actions: FakeActions, message: str, project_id: str | None
) -> None:
    reply = say(agent, message)
    assert actions.paths()[-1] == "/get_notes"
    expected = {"session_id": SESSION} | ({"project_id": project_id} if project_id else {})
    assert actions.last("/get_notes") == expected
    if project_id is None:
        assert actions.paths() == ["/get_notes"]  # no list needed for all notes
    assert reply.text == f"Notes for {project_id or 'all'}."


# --------------------------------------------------------------------------- what calls carry


def test_a_whole_conversation_carries_only_the_session_id(
    agent: LocalAgent, actions: FakeActions
) -> None:
    conversation = [
        "hi",
        "list my projects",
        "schedule the flooring one",
        "next Tuesday",
        "10am",
        "yes",
        "add a note to project 1: gate code 1234",
        "show notes",
        "status of project 1",
        "who is the technician for ORD-2025-002",
        "details of project 2",
        "business hours",
        "cancel project 2",
        "yes",
    ]
    for message in conversation:
        agent.ask(SESSION, message)
    assert len(actions.calls) >= 12
    for call in actions.calls:
        assert call.session_id == SESSION
        assert call.parameters["session_id"] == SESSION
        assert "customer_id" not in call.parameters
        assert set(call.parameters) <= ALLOWED_PARAMETERS
        assert call.input_text in conversation  # Bedrock's inputText: the customer's words
    assert not re.search(r"eyJ|token|CUST", json.dumps([c.parameters for c in actions.calls]))


def test_memory_is_per_session(agent: LocalAgent, actions: FakeActions) -> None:
    say(agent, "schedule project 1", "Dec 3", "10am", session="a")
    reply = say(agent, "yes", session="b")
    assert "/confirm_appointment" not in actions.paths()
    assert reply.text.startswith("Sorry")
    say(agent, "book number 2", session="b")
    assert [c.session_id for c in actions.calls if c.path == "/list_projects"] == ["a", "b"]
    say(agent, "yes", session="a")
    assert actions.last("/confirm_appointment")["project_id"] == "12345"


def test_least_recently_used_sessions_are_forgotten(actions: FakeActions) -> None:
    agent = LocalAgent(actions, today=lambda: TODAY, max_sessions=1)
    say(agent, "list my projects", session="a")
    say(agent, "list my projects", session="b")
    say(agent, "status of project 1", session="a")
    assert actions.paths() == ["/list_projects"] * 3 + ["/get_project_status"]


def test_concurrent_sessions(actions: FakeActions) -> None:
    agent = LocalAgent(actions, today=lambda: TODAY)
    failures: list[BaseException] = []

    def chat(session: str) -> None:
        try:
            for _ in range(5):
                say(agent, "schedule project 1", "Dec 3", "10am", "yes", session=session)
        except BaseException as error:  # surfaced by the main thread
            failures.append(error)

    threads = [threading.Thread(target=chat, args=(f"s{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    booked = [c.session_id for c in actions.calls if c.path == "/confirm_appointment"]
    assert sorted(booked) == sorted(f"s{i}" for i in range(8) for _ in range(5))


def test_errors_are_relayed_as_their_sentence(actions: FakeActions) -> None:
    def refusing(group: str, path: str, parameters: dict[str, str], session: str) -> ActionResult:
        if path == "/get_project_status":
            return error(403, "That project isn't on your dashboard.")
        if path == "/get_business_hours":
            return ActionResult(500, {"error": INTERNAL_ERROR})
        return actions(group, path, parameters, session)

    agent = LocalAgent(refusing, today=lambda: TODAY)
    assert say(agent, "status of project 1").text == "That project isn't on your dashboard."
    assert say(agent, "business hours").text == INTERNAL_ERROR


def test_a_failed_list_is_relayed(actions: FakeActions) -> None:
    def down(group: str, path: str, parameters: dict[str, str], session: str) -> ActionResult:
        return error(503, "PF360 is not answering right now; please try again shortly.")

    reply = say(LocalAgent(down, today=lambda: TODAY), "schedule project 1")
    assert reply.text == "PF360 is not answering right now; please try again shortly."
    assert reply.choices == MENU


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("text", "offered", "expected"),
    [
        ("jan 5", [], "2027-01-05"),  # already past this year: next year
        ("dec 31", [], "2026-12-31"),
        ("11/29", [], "2027-11-29"),
        ("the 31st", [], "2026-12-31"),
        ("the 30th", [], "2026-11-30"),  # today counts
        ("the 29th", [], "2026-12-29"),
        ("feb 30", [], "2027-02-30"),  # not a real date: sent anyway, the action says so
        ("monday", [], "2026-12-07"),  # a weekday is after today
        ("today", [], "2026-11-30"),
        ("the 3rd", ["2027-01-03", "2026-12-03"], "2027-01-03"),  # the offer wins
        ("nothing here", [], None),
        ("project 2", [], None),
    ],
)
def test_parse_date(text: str, offered: list[str], expected: str | None) -> None:
    assert parse_date(text, TODAY, offered) == expected


@pytest.mark.parametrize(
    ("text", "offered", "expected"),
    [
        ("noon", [], "12:00"),
        ("12pm", [], "12:00"),
        ("12am", [], "00:00"),
        ("3", [], "15:00"),
        ("8", ["08:00", "20:00"], "08:00"),
        ("8", ["20:00"], "20:00"),
        ("2:30 pm", [], "14:30"),
        ("13pm", [], None),
        ("dec 3", [], None),
        ("12/03", [], None),
        ("project 10", [], None),
    ],
)
def test_parse_time(text: str, offered: list[str], expected: str | None) -> None:
    assert parse_time(text, offered) == expected


def test_tenant_today_is_a_date() -> None:
    assert isinstance(tenant_today("Pacific/Auckland")(), date)


# --------------------------------------------------------------------------- the invoker


class FakeLambda:
    """`lambda.invoke` answering like a deployed action-group function (or failing)."""

    def __init__(self, answer: Any = None, *, function_error: bool = False) -> None:
        self.answer = answer
        self.function_error = function_error
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        event = json.loads(Payload)
        self.invocations.append({"FunctionName": FunctionName, "event": event})
        if isinstance(self.answer, Exception):
            raise self.answer
        raw = self.answer if isinstance(self.answer, bytes) else json.dumps(self.answer).encode()
        response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(raw)}
        if self.function_error:
            response["FunctionError"] = "Unhandled"
        return response


def bedrock_answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageVersion": "1.0",
        "response": {
            "actionGroup": "scheduling-actions",
            "apiPath": "/get_time_slots",
            "httpMethod": "POST",
            "httpStatusCode": status,
            "responseBody": {"application/json": {"body": json.dumps(body)}},
        },
    }


FUNCTIONS = {
    "scheduling-actions": "fn-scheduling",
    "information-actions": "fn-information",
    "notes-actions": "fn-notes",
}


def test_the_invoker_sends_bedrocks_event() -> None:
    client = FakeLambda(bedrock_answer(200, {"message": "Free times", "step": "await_slot"}))
    invoker = LambdaActionInvoker(client, FUNCTIONS)
    parameters = {"session_id": "s1", "project_id": "12345", "date": "2026-12-03"}
    with user_message("Dec 3 please"):
        result = invoker("scheduling-actions", "/get_time_slots", parameters, "s1")
    assert result == ActionResult(200, {"message": "Free times", "step": "await_slot"})
    assert client.invocations[0]["FunctionName"] == "fn-scheduling"
    assert client.invocations[0]["event"] == {
        "messageVersion": "1.0",
        "agent": {"name": "local-agent", "id": "LOCAL", "alias": "LOCAL", "version": "DRAFT"},
        "inputText": "Dec 3 please",
        "sessionId": "s1",
        "actionGroup": "scheduling-actions",
        "apiPath": "/get_time_slots",
        "httpMethod": "POST",
        "parameters": [
            {"name": "session_id", "type": "string", "value": "s1"},
            {"name": "project_id", "type": "string", "value": "12345"},
            {"name": "date", "type": "string", "value": "2026-12-03"},
        ],
        "sessionAttributes": {"session_id": "s1"},
        "promptSessionAttributes": {},
    }


def test_the_agent_through_the_invoker_sends_the_customers_words() -> None:
    client = FakeLambda(bedrock_answer(200, {"message": "We work Monday."}))
    agent = LocalAgent(LambdaActionInvoker(client, FUNCTIONS), today=lambda: TODAY)
    assert agent.ask("s9", "When are you open?").text == "We work Monday."
    event = client.invocations[0]["event"]
    assert event["inputText"] == "When are you open?"
    assert event["apiPath"] == "/get_business_hours"
    assert event["parameters"] == [{"name": "session_id", "type": "string", "value": "s9"}]
    assert bedrock_event("notes-actions", "/get_notes", {}, "s9")["inputText"] == ""


def test_a_refusal_passes_through() -> None:
    client = FakeLambda(bedrock_answer(403, {"error": "Not your project."}))
    result = LambdaActionInvoker(client, FUNCTIONS)("notes-actions", "/add_note", {}, "s1")
    assert result == ActionResult(403, {"error": "Not your project."})
    assert client.invocations[0]["FunctionName"] == "fn-notes"


@pytest.mark.parametrize(
    "client",
    [
        FakeLambda({"errorMessage": "boom", "errorType": "KeyError"}, function_error=True),
        FakeLambda(b"not json"),
        FakeLambda({"messageVersion": "1.0"}),
        FakeLambda(bedrock_answer(200, {})),  # replaced below: a body that is not an object
        FakeLambda(ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "Invoke")),
    ],
)
def test_failures_become_one_sentence(client: FakeLambda) -> None:
    if client.answer == bedrock_answer(200, {}):
        client.answer["response"]["responseBody"]["application/json"]["body"] = "[1, 2]"
    result = LambdaActionInvoker(client, FUNCTIONS)("scheduling-actions", "/list_projects", {}, "s")
    assert result == ActionResult(500, {"error": INTERNAL_ERROR})


@pytest.mark.parametrize(
    ("group", "path"),
    [
        ("scheduling-actions", "/confirm_appointment"),
        ("scheduling-actions", "/cancel_appointment"),
        ("notes-actions", "/add_note"),
    ],
)
@pytest.mark.parametrize(
    "client",
    [
        FakeLambda(
            {"errorMessage": "timed out", "errorType": "Sandbox.Timedout"}, function_error=True
        ),
        FakeLambda(ReadTimeoutError(endpoint_url="http://lambda")),
        FakeLambda(ClientError({"Error": {"Code": "ServiceException"}}, "Invoke")),
    ],
)
def test_an_action_that_may_have_changed_pf360_and_failed_is_unknown_not_try_again(
    client: FakeLambda, group: str, path: str
) -> None:
    """A confirm that timed out may have booked: never "please try again"."""
    result = LambdaActionInvoker(client, FUNCTIONS)(group, path, {}, "s")
    assert result.status == 504 and result.body["outcome_unknown"] is True
    assert result.body["error"] == OUTCOME_UNKNOWN
    assert "try again" not in OUTCOME_UNKNOWN and "can't tell yet" in OUTCOME_UNKNOWN


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ResourceNotFoundException"])
def test_a_confirm_whose_invoke_was_refused_before_running_is_a_plain_failure(code: str) -> None:
    """Throttled or not found: the function never ran, so nothing was booked."""
    client = FakeLambda(ClientError({"Error": {"Code": code}}, "Invoke"))
    invoke = LambdaActionInvoker(client, FUNCTIONS)
    result = invoke("scheduling-actions", "/confirm_appointment", {}, "s")
    assert result == ActionResult(500, {"error": INTERNAL_ERROR})


def test_an_unknown_action_group_is_a_failure() -> None:
    client = FakeLambda(bedrock_answer(200, {"message": "x"}))
    result = LambdaActionInvoker(client, FUNCTIONS)("general-actions", "/x", {}, "s")
    assert result.status == 500
    assert client.invocations == []
