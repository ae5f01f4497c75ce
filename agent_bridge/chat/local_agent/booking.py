"""Booking, moving and cancelling: dates, times, parts of the day, the yes/no questions, and
the follow-up of a turn that was still running."""

from __future__ import annotations

import re

from agent_bridge.chat.action_invoker import (
    SCHEDULING,
    ActionResult,
)
from agent_bridge.chat.local_agent import understanding as u
from agent_bridge.chat.local_agent.base import TurnBase
from agent_bridge.chat.local_agent.memory import Offer, Pending
from agent_bridge.chat.local_agent.projects import KnownProject, find_mention
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
    CANCEL_CHOICES,
    CONFIRM_CHOICES,
    MENU,
    clock,
    humanize,
    long_date,
    real_date,
    when,
)
from agent_bridge.chat.runtime import AgentReply

SHORT_DATE_LIST = 4  # more offered dates than this are said as a span
_AVAILABLE_LIST = re.compile(r"Available: [^.]*\.")


class TurnWithBooking(TurnBase):
    """The booking and cancellation replies of a turn."""

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
        elif step in ("done", "confirming"):  # confirming: no time buttons to book again
            self.memory.offer = None
            self.memory.projects = []  # statuses changed: list again before naming one
        reply = self.relay(result, self.offer_choices() or list(MENU))
        if step == "await_date":
            reply = AgentReply(self.dates_in_short(reply.text), reply.choices)
        if step == "await_date" and project is not None and project.appointment:
            text = reply.text
            if text.startswith("This project is already booked for") and "new date. " in text:
                text = text.split("new date. ", 1)[1]  # the bridge's notice, said our way below
            reply = AgentReply(
                f"You're booked for {project.appointment}; a new time replaces it. {text}",
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
