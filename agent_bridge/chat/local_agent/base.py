"""What every turn needs: the action calls, the project list and naming a project, the offer's
buttons. `booking.TurnWithBooking` and `turn.Turn` build on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from agent_bridge.chat.action_invoker import (
    INTERNAL_ERROR,
    SCHEDULING,
    ActionInvoke,
    ActionResult,
)
from agent_bridge.chat.local_agent import understanding as u
from agent_bridge.chat.local_agent.memory import Conversation, Question
from agent_bridge.chat.local_agent.projects import KnownProject, find_mention, may_name_project
from agent_bridge.chat.local_agent.wording import (
    ANOTHER_DATE,
    MENU,
    NOT_UNDERSTOOD,
    clock,
    humanize,
    normalize,
    real_date,
    short_date,
)
from agent_bridge.chat.runtime import AgentReply

MAX_DATE_CHOICES = 14
MAX_PROJECT_CHOICES = 6


class TurnBase:
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

    def not_understood(self) -> AgentReply:
        """A polite redirect; an offer or question still standing keeps its buttons."""
        return AgentReply(NOT_UNDERSTOOD, self.offer_choices() or list(MENU))

    def remember_projects(self, result: ActionResult) -> None:
        items = result.body.get("projects")
        if result.ok and isinstance(items, list):
            self.memory.projects = [
                KnownProject.from_body(item) for item in items if isinstance(item, dict)
            ]

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

    def project_by_id(self, project_id: str) -> KnownProject | None:
        return next((p for p in self.memory.projects if p.project_id == project_id), None)

    def offer_choices(self) -> list[str]:
        offer = self.memory.offer
        if offer is None:
            return []
        if offer.date and offer.times:
            return [clock(t) for t in offer.times] + [ANOTHER_DATE]
        return [short_date(d) for d in offer.dates[:MAX_DATE_CHOICES] if real_date(d)]
