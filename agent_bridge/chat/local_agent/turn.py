"""One customer message: understand it, call the actions, reply, and update the memory.

Dispatch reads the rules of `understanding` in order; the replies relay the actions' own
sentences (with dates and times as people write them) and offer the next steps as buttons.
Booking and cancelling are in `booking`, what every reply needs in `base`.
"""

from __future__ import annotations

import re

from agent_bridge.chat.action_invoker import (
    INFORMATION,
    NOTES,
    SCHEDULING,
)
from agent_bridge.chat.local_agent import understanding as u
from agent_bridge.chat.local_agent.booking import TurnWithBooking
from agent_bridge.chat.local_agent.memory import Question
from agent_bridge.chat.local_agent.projects import KnownProject, find_mention
from agent_bridge.chat.local_agent.wording import (
    HANDOFF,
    HELLO,
    MENU,
    NOT_UNDERSTOOD,
    normalize,
)
from agent_bridge.chat.runtime import AgentReply

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def project_card(item: dict[str, object]) -> dict[str, str]:
    """A project for the page's card: its name (the link), status and appointment."""
    project = KnownProject.from_body(item)
    return {
        "number": str(project.number),
        "title": project.title,
        "url": str(item.get("project_url") or ""),
        "status": project.status or "Status unknown",
        "appointment": project.appointment,
    }


class Turn(TurnWithBooking):
    """A whole turn: dispatch, reads, business hours, notes, answers in context."""

    def reply(self) -> AgentReply:
        if not self.text:
            return AgentReply(HELLO, list(MENU))
        parts = [] if u.ADD_NOTE.search(self.text) else u.split_requests(self.message)
        if len(parts) < 2:
            return self.one_request()
        return self.several_requests(parts)

    def several_requests(self, parts: list[str]) -> AgentReply:
        """Two requests in one message: in order, stopping honestly at a question. A greeting
        part needs no answer of its own; a part not understood is named, not explained."""
        answers: list[str] = []
        cards: list[dict[str, str]] = []
        reply = AgentReply("")
        understood = False
        for index, part in enumerate(parts):
            turn = Turn(self.invoke, self.today, self.session_id, self.memory, part)
            reply = turn.one_request()
            cards += reply.cards
            if reply.text == NOT_UNDERSTOOD:
                answers.append(f'I didn\'t understand "{part}".')
            elif reply.text != HELLO:
                answers.append(reply.text)
                understood = True
            rest = parts[index + 1 :]
            if rest and (self.memory.pending or self.memory.question):
                left = " and ".join(f'"{p}"' for p in rest)
                answers.append(f"I haven't done {left} yet: answer this first, then ask me again.")
                break
        if not understood:
            return AgentReply(NOT_UNDERSTOOD, reply.choices)
        return AgentReply("\n\n".join(answers), reply.choices, reply.working, cards)

    def one_request(self) -> AgentReply:
        pending, self.memory.pending = self.memory.pending, None
        question, self.memory.question = self.memory.question, None
        if pending is not None:
            answered = self.answer_pending(pending)
            if answered is not None:
                return answered
        if question is not None:
            answered = self.answer_question(question)
            if answered is not None:
                return answered
        return self.understood() or self.not_understood()

    def understood(self) -> AgentReply | None:
        text = self.text
        if self.memory.working is not None and u.FOLLOW_UP.search(text):
            return self.follow_up()
        self.memory.working = None
        if u.ADD_NOTE.search(text):
            return self.add_note()
        if u.HANDOFF.search(text):
            return AgentReply(HANDOFF, list(MENU))
        if self.memory.offer is not None and u.STOP_BOOKING.match(text):
            return self.stop_booking()
        if u.SHOW_NOTES.search(text):
            return self.show_notes()
        if u.CANCEL.search(text):
            return self.cancel()
        if u.HOURS.search(text) and not u.SCHEDULE.search(text):
            return self.business_hours()
        if u.ANOTHER_DATE_ASKED.search(text) and self.memory.offer is not None:
            return self.another_date()
        if u.SCHEDULE.search(text):
            return self.schedule()
        if u.TECHNICIAN.search(text):
            return self.project_read("/get_technician_info", "Technician for project {n}")
        if u.STATUS.search(text):
            return self.project_read("/get_project_status", "Status of project {n}")
        if u.DETAILS.search(text):
            if u.ALL_PROJECTS.search(text):
                return self.list_projects("/list_all_projects", INFORMATION)
            return self.project_read("/get_project_details", "Details of project {n}")
        if u.LIST_PROJECTS.search(text):
            return self.list_projects("/list_projects", SCHEDULING)
        if u.ANOTHER_DATE_ASKED.search(text):
            return self.another_date()
        if self.memory.offer is None and self.names_a_choice(text) and self.names_a_project():
            return self.schedule()  # "first available for the flooring"
        chosen = self.choose_date_or_time()
        if chosen is not None:
            return chosen
        if u.THANKS.given(text):
            return AgentReply("You're welcome! Anything else I can help with?", list(MENU))
        if u.HELP.search(text):
            return AgentReply(HELLO, list(MENU))
        return None

    def list_projects(self, path: str, group: str) -> AgentReply:
        result = self.call(group, path)
        self.remember_projects(result)
        reply = self.relay(result, self.project_choices("{verb} project {n}") or list(MENU))
        items = result.body.get("projects")
        if not result.ok or not isinstance(items, list) or not items or path != "/list_projects":
            return reply
        cards = [project_card(item) for item in items if isinstance(item, dict)]
        total = result.body.get("total") or len(cards)
        text = f"You have {total} project{'s' if total != 1 else ''}:"
        if result.body.get("truncated"):
            text = f"You have {total} projects; here are the first {len(cards)}:"
        return AgentReply(text, reply.choices, cards=cards)

    def project_read(self, path: str, template: str) -> AgentReply:
        project = self.project_for(template)
        if not isinstance(project, KnownProject):
            return project or self.not_understood()
        result = self.call(INFORMATION, path, project_id=project.project_id)
        return self.relay(result, self.offer_choices() or list(MENU))

    def answer_question(self, question: Question) -> AgentReply | None:
        """A short answer to "which project?" or "what should the note say?"."""
        if question.kind == "note_text":
            if self.understood_elsewhere():
                return None
            return self.write_note(question.project_id, self.message.strip())
        number = u.ordinal_number(self.text, len(self.memory.projects))
        if number is None:
            mention = find_mention(self.text, self.memory.projects)
            if mention is None or len(mention.matches) != 1 or self.understood_elsewhere():
                return None
            number = mention.matches[0].number
        request = question.template.format(verb="Schedule", n=number)
        return Turn(self.invoke, self.today, self.session_id, self.memory, request).one_request()

    def understood_elsewhere(self) -> bool:
        """Does the message carry its own request (then it is no answer to a question)?"""
        patterns = [u.ADD_NOTE, u.SHOW_NOTES, u.CANCEL, u.SCHEDULE, u.TECHNICIAN, u.STATUS]
        patterns += [u.DETAILS, u.HOURS, u.LIST_PROJECTS, u.HANDOFF, u.STOP_BOOKING]
        return any(p.search(self.text) for p in patterns)

    def business_hours(self) -> AgentReply:
        result = self.call(SCHEDULING, "/get_business_hours")
        if not result.ok:
            return self.relay(result, list(MENU))
        if not isinstance(result.body.get("working_days"), list):
            return self.relay(result, list(MENU))
        days = [str(d) for d in result.body["working_days"]]
        listed = ", ".join(days) or "no days at the moment"
        asked = u.ASKED_DAY.search(self.text)
        if asked is not None:
            return AgentReply(self.day_answer(asked, days), list(MENU))
        if u.HOURS_OF_DAY.search(self.text):
            return AgentReply(
                f"We work {listed}. PF360 tells me the working days but not the opening "
                "hours; your appointment's arrival window is shown with each free time.",
                list(MENU),
            )
        return AgentReply(f"We work {listed}.", list(MENU))

    def day_answer(self, asked: re.Match[str], days: list[str]) -> str:
        """Yes or no for the one day asked about ("are you open on Saturday?")."""
        working = {d.lower() for d in days}
        listed = ", ".join(days) or "no days at the moment"
        if asked.group(2):  # the weekend
            open_days = [d for d in ("Saturday", "Sunday") if d.lower() in working]
            if open_days:
                return f"Yes, we work on {' and '.join(open_days)}. Our working days: {listed}."
            return f"No, we don't work at the weekend. Our working days: {listed}."
        if asked.group(3):
            offset = 0 if asked.group(3) == "today" else 1
            day = WEEKDAY_NAMES[(self.today.weekday() + offset) % 7]
            said = f"{asked.group(3)} ({day})"
        else:
            day = next(n for n in WEEKDAY_NAMES if n.lower().startswith(asked.group(1)))
            said = day
        if day.lower() in working:
            return f"Yes, {said} is one of our working days. Our working days: {listed}."
        return f"No, we don't work on {said}. Our working days: {listed}."

    def add_note(self) -> AgentReply:
        separator = u.NOTE_TEXT_SEPARATOR.search(self.message)
        note = self.message[separator.end() :].strip() if separator else ""
        head = u.correct(normalize(self.message[: separator.start()])) if separator else self.text
        escaped = note.replace("{", "{{").replace("}", "}}")
        template = (
            f"Add a note to project {{n}}: {escaped}" if note else "Add a note to project {n}"
        )
        project = self.project_for(template, head)
        if not isinstance(project, KnownProject):
            return project or self.not_understood()
        if not note:
            self.memory.question = Question("note_text", project_id=project.project_id)
            return AgentReply(
                f"What should the note for project {project.number} say? Type it and I'll add it.",
                list(MENU),
            )
        return self.write_note(project.project_id, note)

    def write_note(self, project_id: str, note: str) -> AgentReply:
        result = self.call(NOTES, "/add_note", project_id=project_id, note_text=note)
        return self.relay(result, self.offer_choices() or list(MENU))

    def show_notes(self) -> AgentReply:
        project = self.project_for("Show notes for project {n}", required=False)
        if isinstance(project, AgentReply):
            return project
        if project is None:
            result = self.call(NOTES, "/get_notes")
        else:
            result = self.call(NOTES, "/get_notes", project_id=project.project_id)
        return self.relay(result, self.offer_choices() or list(MENU))
