"""One customer message: understand it, call the actions, reply, and update the memory.

Dispatch reads the rules of `understanding` in order; the replies relay the actions' own
sentences (with dates and times as people write them) and offer the next steps as buttons.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from agent_bridge.chat.action_invoker import (
    INFORMATION,
    INTERNAL_ERROR,
    NOTES,
    SCHEDULING,
    ActionInvoke,
    ActionResult,
)
from agent_bridge.chat.local_agent import understanding as u
from agent_bridge.chat.local_agent.memory import Conversation, Offer, Pending, Question
from agent_bridge.chat.local_agent.projects import KnownProject, find_mention, may_name_project
from agent_bridge.chat.local_agent.when import (
    EARLIEST,
    LATEST,
    find_date,
    parse_time,
    part_of_day,
    time_in_part,
    without_dates_and_times,
)
from agent_bridge.chat.local_agent.wording import (
    ANOTHER_DATE,
    CANCEL_CHOICES,
    CONFIRM_CHOICES,
    HANDOFF,
    HELLO,
    MENU,
    NOT_UNDERSTOOD,
    clock,
    humanize,
    long_date,
    normalize,
    real_date,
    short_date,
    when,
)
from agent_bridge.chat.runtime import AgentReply

MAX_DATE_CHOICES = 14
MAX_PROJECT_CHOICES = 6
SHORT_DATE_LIST = 4  # more offered dates than this are said as a span
_AVAILABLE_LIST = re.compile(r"Available: [^.]*\.")
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


class Turn:
    """One message of one session (the session's lock is held by the caller)."""

    def __init__(
        self,
        invoke: ActionInvoke,
        today: date,
        session_id: str,
        memory: Conversation,
        message: str,
    ) -> None:
        self.invoke = invoke
        self.today = today
        self.session_id = session_id
        self.memory = memory
        self.message = message
        self.text = u.correct(normalize(message))

    # ------------------------------------------------------------------ dispatch

    def reply(self) -> AgentReply:
        if not self.text:
            return AgentReply(HELLO, list(MENU))
        parts = [] if u.ADD_NOTE.search(self.text) else u.split_requests(self.message)
        if len(parts) < 2:
            return self.one_request()
        return self.several_requests(parts)

    def several_requests(self, parts: list[str]) -> AgentReply:
        """Two requests in one message: in order, stopping honestly at a question."""
        answers: list[str] = []
        reply = AgentReply("")
        for index, part in enumerate(parts):
            turn = Turn(self.invoke, self.today, self.session_id, self.memory, part)
            reply = turn.one_request()
            answers.append(reply.text)
            rest = parts[index + 1 :]
            if rest and (self.memory.pending or self.memory.question):
                left = " and ".join(f'"{p}"' for p in rest)
                answers.append(f"I haven't done {left} yet: answer this first, then ask me again.")
                break
        return AgentReply("\n\n".join(answers), reply.choices)

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

    def not_understood(self) -> AgentReply:
        """A polite redirect; an offer or question still standing keeps its buttons."""
        return AgentReply(NOT_UNDERSTOOD, self.offer_choices() or list(MENU))

    # ------------------------------------------------------------------ actions

    def call(self, group: str, path: str, **parameters: str) -> ActionResult:
        """One action call; the session id is the only identity it carries."""
        return self.invoke(
            group, path, {"session_id": self.session_id, **parameters}, self.session_id
        )

    def relay(self, result: ActionResult, choices: list[str]) -> AgentReply:
        """The action's own sentence (its message, or its error), in people's words."""
        body = result.body
        text = body.get("message") if result.ok else body.get("error")
        return AgentReply(humanize(str(text or INTERNAL_ERROR)), choices)

    # ------------------------------------------------------------------ projects

    def remember_projects(self, result: ActionResult) -> None:
        items = result.body.get("projects")
        if result.ok and isinstance(items, list):
            self.memory.projects = [
                KnownProject.from_body(item) for item in items if isinstance(item, dict)
            ]

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

    def known_projects(self) -> ActionResult | None:
        """The project list, fetched first if we have none yet; a failed fetch is returned."""
        if self.memory.projects:
            return None
        result = self.call(SCHEDULING, "/list_projects")
        self.remember_projects(result)
        return None if result.ok else result

    def project_choices(
        self, template: str, among: Sequence[KnownProject] | None = None
    ) -> list[str]:
        """Buttons naming projects; "{verb}" is Schedule or Reschedule (then only those
        that can be booked)."""
        choices = []
        for project in among if among is not None else self.memory.projects:
            verb = "Reschedule" if project.scheduled else "Schedule"
            if "{verb}" in template and project.status.lower() in ("completed", "cancelled"):
                continue
            choices.append(template.format(verb=verb, n=project.number))
        return choices[:MAX_PROJECT_CHOICES]

    def ask_which(
        self, sentence: str, template: str, among: Sequence[KnownProject] | None = None
    ) -> AgentReply:
        """Ask which project, remembering the request so that "the second one" answers it."""
        self.memory.question = Question("which_project", template)
        return AgentReply(sentence, self.project_choices(template, among))

    def project_for(
        self, template: str, head: str | None = None, *, required: bool = True
    ) -> KnownProject | AgentReply | None:
        """The project the message names (or the one being discussed), or the question to
        ask. None only when `required` is False and the message names no project."""
        text = self.text if head is None else head
        if required or may_name_project(text):
            failed = self.known_projects()
            if failed is not None:
                return self.relay(failed, list(MENU))
        projects = self.memory.projects
        mention = find_mention(text, projects)
        if mention is not None and len(mention.matches) == 1:
            self.memory.project_id = mention.matches[0].project_id
            return mention.matches[0]
        if mention is not None and mention.matches:
            lines = "\n".join(p.line() for p in mention.matches)
            return self.ask_which(
                f"Which {mention.said} project do you mean?\n{lines}", template, mention.matches
            )
        if mention is not None:
            listing = "\n".join(p.line() for p in projects) or "You have no projects yet."
            return self.ask_which(
                f"I couldn't find {mention.said} among your projects:\n{listing}", template
            )
        if not required:
            return None
        current = self.current_project() or (projects[0] if len(projects) == 1 else None)
        if current is not None:
            self.memory.project_id = current.project_id
            return current
        if not projects:
            return AgentReply("You have no projects yet.", list(MENU))
        listing = "\n".join(p.line() for p in projects)
        return self.ask_which(f"Which project do you mean?\n{listing}", template)

    def current_project(self) -> KnownProject | None:
        wanted = self.memory.project_id
        return next((p for p in self.memory.projects if p.project_id == wanted), None)

    def project_read(self, path: str, template: str) -> AgentReply:
        project = self.project_for(template)
        if not isinstance(project, KnownProject):
            return project or self.not_understood()
        result = self.call(INFORMATION, path, project_id=project.project_id)
        return self.relay(result, self.offer_choices() or list(MENU))

    # ------------------------------------------------------------------ answers in context

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

    # ------------------------------------------------------------------ business hours

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

    # ------------------------------------------------------------------ booking

    def schedule(self) -> AgentReply:
        offer = self.memory.offer
        if offer is not None and self.memory.project_id != offer.project_id:
            self.memory.project_id = offer.project_id  # "book it" means the one on offer
        project = self.project_for("{verb} project {n}")
        if not isinstance(project, KnownProject):
            return project or self.not_understood()
        result = self.call(SCHEDULING, "/get_available_dates", project_id=project.project_id)
        answer = self.flow_answer(result, project)
        if result.body.get("step") != "await_date" or not result.ok:
            return answer
        if not self.names_a_choice(self.choice_text()):
            return answer
        return self.choose_date_or_time(answer.text) or answer  # "book project 1 on Dec 3"

    def names_a_choice(self, text: str) -> bool:
        return bool(
            find_date(text, self.today)
            or parse_time(text)
            or EARLIEST.search(text)
            or part_of_day(text)
        )

    def names_a_project(self) -> bool:
        if self.known_projects() is not None:
            return False
        mention = find_mention(self.text, self.memory.projects)
        return mention is not None and len(mention.matches) == 1

    def another_date(self) -> AgentReply:
        offer = self.memory.offer
        if offer is None:
            return self.no_booking_yet()
        result = self.call(SCHEDULING, "/get_available_dates", project_id=offer.project_id)
        return self.flow_answer(result, self.project_by_id(offer.project_id))

    def stop_booking(self) -> AgentReply:
        self.memory.offer = None
        return AgentReply("All right, I've stopped there: nothing is booked or changed.", MENU)

    def project_by_id(self, project_id: str) -> KnownProject | None:
        return next((p for p in self.memory.projects if p.project_id == project_id), None)

    def choice_text(self) -> str:
        """The message without the project it names, so that "project 2" is no date."""
        mention = find_mention(self.text, self.memory.projects)
        if mention is None or mention.span is None:
            return self.text
        start, end = mention.span
        return self.text[:start] + " " * (end - start) + self.text[end:]

    def choose_date_or_time(self, lead: str = "") -> AgentReply | None:
        """A date and/or time in the message, against the current offer; None if neither,
        or if the message says more than a date (then it is about something else)."""
        text = self.choice_text()
        offer = self.memory.offer
        dates = [] if offer is None else offer.dates or ([offer.date] if offer.date else [])
        day = find_date(text, self.today, dates)
        time = parse_time(text, [] if offer is None else offer.times)
        part = part_of_day(text)
        earliest, latest = bool(EARLIEST.search(text)), bool(LATEST.search(text))
        if day is None and time is None and part is None and not (earliest or latest):
            return None
        if not lead and not u.only_filler(without_dates_and_times(text)):
            return None  # "I'm busy on Monday lol": not an answer
        if offer is None:
            return self.no_booking_yet()
        if day is None and (earliest or latest or part) and offer.dates and not offer.times:
            day = offer.dates[-1 if latest and not part else 0]
        if day is not None and (day != offer.date or not offer.times):
            result = self.call(SCHEDULING, "/get_time_slots", project_id=offer.project_id, date=day)
            answer = self.flow_answer(result, self.project_by_id(offer.project_id))
            if not result.ok or result.body.get("step") != "await_slot":
                return answer
            offer = self.memory.offer
            if time is None and part is None and not (earliest or latest):
                return answer
            time = parse_time(text, offer.times if offer else [])
        if time is None and offer is not None and offer.times:
            time = self.time_for(part, earliest, latest, offer)
            if time is None and part is not None:
                free = ", ".join(clock(t) for t in offer.times)
                return AgentReply(
                    f"There's no {part} time free on {long_date(offer.date or '')}. Free times: "
                    f"{free}. Which one works, or another date?",
                    self.offer_choices(),
                )
        return self.choose_time(time)

    @staticmethod
    def time_for(part: str | None, earliest: bool, latest: bool, offer: Offer) -> str | None:
        if part is not None:
            return time_in_part(part, offer.times, latest=latest)
        if earliest:
            return offer.times[0]
        if latest:
            return offer.times[-1]
        return None

    def choose_time(self, time: str | None) -> AgentReply:
        offer = self.memory.offer
        if offer is None:
            return self.no_booking_yet()
        if offer.date is None or not offer.times:
            return AgentReply("Please pick a date first.", self.offer_choices() or list(MENU))
        if time is None or time not in offer.times:
            said = clock(time) if time else "That time"
            free = ", ".join(clock(t) for t in offer.times)
            return AgentReply(
                f"{said} isn't free on {long_date(offer.date)}. Free times: {free}. "
                "Which one works, or another date?",
                self.offer_choices(),
            )
        self.memory.pending = Pending("book", offer.project_id, offer.date, time)
        project = self.project_by_id(offer.project_id)
        if project is not None and project.scheduled and project.appointment:
            question = (
                f"Shall I move your appointment for {project.title} from {project.appointment} "
                f"to {when(offer.date, time)}? (yes/no)"
            )
        else:
            question = f"Shall I book {when(offer.date, time)}? (yes/no)"
        return AgentReply(question, list(CONFIRM_CHOICES))

    def no_booking_yet(self) -> AgentReply:
        sentence = (
            'Which project would you like to schedule? Say, for example, "schedule project 1".'
        )
        if self.memory.projects:
            return self.ask_which(sentence, "{verb} project {n}")
        return AgentReply(sentence, ["List my projects"])

    def flow_answer(
        self, result: ActionResult, project: KnownProject | None, *, ending: bool = False
    ) -> AgentReply:
        """A booking or cancellation answer: remember where the flow stands, offer choices.

        `ending` is a confirm or cancel call: when it fails (other than a refused choice) the
        flow is over, so its buttons go too."""
        project_id = project.project_id if project else ""
        body = result.body
        step = body.get("step") if result.ok else None
        if result.ok and body.get("status") == "working":
            return AgentReply(humanize(str(body.get("message") or "")), [], working=True)
        if not result.ok and (result.status == 409 or (ending and result.status != 400)):
            self.memory.offer = None
            self.memory.projects = []  # what happened is unknown to us: list again
            return self.relay(result, list(MENU))
        if step == "await_date":
            dates = [str(d) for d in body.get("available_dates") or []]
            self.memory.offer = Offer(project_id, dates=dates)
        elif step == "await_slot":
            previous = self.memory.offer
            kept = previous.dates if previous and previous.project_id == project_id else []
            times = [str(t) for t in body.get("available_times") or []]
            self.memory.offer = Offer(project_id, kept, str(body.get("date") or ""), times)
        elif step == "done":
            self.memory.offer = None
            self.memory.projects = []  # statuses changed: list again before naming one
        reply = self.relay(result, self.offer_choices() or list(MENU))
        if step == "await_date":
            reply = AgentReply(self.dates_in_short(reply.text), reply.choices)
        if step == "await_date" and project is not None and project.appointment:
            reply = AgentReply(
                f"You're booked for {project.appointment}; a new time replaces it. {reply.text}",
                reply.choices,
            )
        url = body.get("project_url")
        if step == "done" and url and str(url) not in reply.text:
            reply = AgentReply(f"{reply.text} Details: {url}", reply.choices)
        return reply

    def dates_in_short(self, text: str) -> str:
        """A long list of offered dates as its span: the buttons carry each date."""
        offer = self.memory.offer
        dates = [d for d in offer.dates if real_date(d)] if offer else []
        if len(dates) <= SHORT_DATE_LIST:
            return text
        span = (
            f"I have {len(dates)} free dates, from {long_date(dates[0])} to "
            f"{long_date(dates[-1])}: pick one below, or type the date you'd like."
        )
        return _AVAILABLE_LIST.sub(span, text, count=1)

    def offer_choices(self) -> list[str]:
        offer = self.memory.offer
        if offer is None:
            return []
        if offer.date and offer.times:
            return [clock(t) for t in offer.times] + [ANOTHER_DATE]
        return [short_date(d) for d in offer.dates[:MAX_DATE_CHOICES] if real_date(d)]

    # ------------------------------------------------------------------ confirmations

    def answer_pending(self, pending: Pending) -> AgentReply | None:
        """Yes or no to the pending question; None when the message is something else."""
        if pending.kind == "book":
            if u.YES_BOOK.given(self.text):
                return self.carry_out(pending)
            if u.NO_BOOK.given(self.text):
                result = self.call(
                    SCHEDULING, "/get_time_slots", project_id=pending.project_id, date=pending.date
                )
                answer = self.flow_answer(result, self.pending_project(pending))
                return AgentReply("All right, nothing is booked. " + answer.text, answer.choices)
            return None
        if u.YES_CANCEL.given(self.text):
            return self.carry_out(pending)
        if u.NO_CANCEL.given(self.text):
            return AgentReply("All right, your appointment stays as it is.", list(MENU))
        return None

    def pending_project(self, pending: Pending) -> KnownProject:
        return self.project_by_id(pending.project_id) or KnownProject(0, pending.project_id)

    def carry_out(self, pending: Pending) -> AgentReply:
        """Book or cancel as confirmed; a turn still running is remembered for a follow-up
        (the same call again is harmless: it fetches where the flow now is)."""
        if pending.kind == "book":
            result = self.call(
                SCHEDULING,
                "/confirm_appointment",
                project_id=pending.project_id,
                date=pending.date,
                time=pending.time,
            )
        else:
            result = self.call(SCHEDULING, "/cancel_appointment", project_id=pending.project_id)
        reply = self.flow_answer(result, self.pending_project(pending), ending=True)
        self.memory.working = pending if reply.working else None
        return reply

    def follow_up(self) -> AgentReply:
        """ "Is it done yet?" after a turn that was still running: ask the action again."""
        pending, self.memory.working = self.memory.working, None
        assert pending is not None
        return self.carry_out(pending)

    def cancel(self) -> AgentReply:
        project = self.project_to_cancel()
        if not isinstance(project, KnownProject):
            return project
        if not project.scheduled:
            return AgentReply(
                f"Project {project.number} ({project.title}) has no scheduled appointment "
                "to cancel.",
                list(MENU),
            )
        on = f" on {project.appointment}" if project.appointment else ""
        self.memory.pending = Pending("cancel", project.project_id)
        return AgentReply(
            f"Shall I cancel the appointment{on} for project {project.number} "
            f"({project.title})? (yes/no)",
            list(CANCEL_CHOICES),
        )

    def project_to_cancel(self) -> KnownProject | AgentReply:
        """The named project; "cancel it" is the one discussed; a bare cancel asks which."""
        template = "Cancel project {n}"
        failed = self.known_projects()
        if failed is not None:
            return self.relay(failed, list(MENU))
        if find_mention(self.text, self.memory.projects) is not None:
            named = self.project_for(template)
            return named if named is not None else self.not_understood()
        current = self.current_project()
        if current is not None and u.REFERS_TO_CURRENT.search(self.text):
            return current
        scheduled = [p for p in self.memory.projects if p.scheduled]
        if not scheduled:
            return AgentReply("You have no scheduled appointments to cancel.", list(MENU))
        lines = "\n".join(
            f"{p.line()}, {p.appointment}" if p.appointment else p.line() for p in scheduled
        )
        return self.ask_which(
            f"Which appointment would you like to cancel?\n{lines}", template, scheduled
        )

    # ------------------------------------------------------------------ notes

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
