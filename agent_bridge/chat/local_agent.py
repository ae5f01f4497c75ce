"""A deterministic stand-in for the Bedrock agents, for local runs and tests.

It drives the same three action-group Lambdas with the same events as Bedrock (through an
injected `ActionInvoke`), so everything behind the agent runs for real without Bedrock.
It knows only the session id: never a token or a customer id (the actions take those from
the session record). It replies with the sentences the actions return, plus suggested
replies (`choices`) that the web page shows as buttons.

What it understands (case does not matter; punctuation mostly does not either):

* Greetings and help: "hi", "hello", "good morning", "help", "what can you do" -> what it
  can do; "thanks", "bye" -> a short "you're welcome".
* Projects: "list my projects", "show my projects", "what projects do I have", "projects".
  "details of all projects" lists them with their details.
* Naming a project (in any sentence below): its number in the list ("project 1",
  "number 2", "#2", "the second one", "schedule 1"), its order number ("ORD-2025-001"),
  or its type or category, or the start of one ("the flooring one", "my floor project",
  "my windows project"); when several fit, it asks which. Without a name it means the
  project being discussed, or the only project there is, else it asks which (the buttons
  then carry the whole request, e.g. "Status of project 2").
  If it has not listed the projects yet, it lists them first (silently) to resolve a name.
* Scheduling: "schedule project 1", "reschedule ORD-2025-002", "book number 2",
  "schedule my windows project", "I'd like to book the flooring one". A date (and time)
  in the same sentence is taken too: "book project 1 on Dec 3 at 10am".
* A date, resolved against the dates last offered: 2026-12-03, Dec 3, December 3rd,
  3 December, 12/03 (US month/day), 12/03/2026, "the 3rd", "3rd", "Tuesday",
  "next Tuesday", "this Tuesday", "today", "tomorrow", "the day after tomorrow".
  A month and day without a year is the offered date with that month and day, else its
  next occurrence. A day of the month ("the 3rd") is the offered date on that day, else
  its next occurrence. A weekday ("Tuesday", "next Tuesday") is the first offered date on
  that weekday after today, else the first such day after today. A date that was not
  offered is still sent, so the action answers with its own sentence.
* A time, resolved against the times last offered: 10, "at 10", "ten", 10am, 10 am,
  10 a.m., 10:00, 2pm, 2:30 pm, 14:00, noon. A bare hour is the offered time at that hour,
  morning or afternoon, whichever is offered (else 1-6 is afternoon).
* "another date", "different day", "other dates", "change the date", "show the dates".
* Booking needs a yes: after a time is picked it asks "Shall I book <Weekday, Month Day> at
  <time>? (yes/no)" and books only when the answer is a yes and nothing else: yes, yep,
  yeah, yup, sure, ok, confirm, correct, "book it", "yes, book it", "go ahead", "do it",
  "sounds good" (with "please", "thanks" allowed). A no ("no", "nope", "no thanks",
  "never mind", "not now", "cancel") offers the times again; anything else ("9am instead",
  "another date") drops the question and is understood as usual.
* Cancelling: "cancel project 2", "cancel my windows appointment", "cancel ORD-2025-002"
  -> asks to confirm, then cancels on a yes ("yes, cancel it", "yes", "confirm"); a no
  ("no", "no, keep it") keeps the appointment. A project that is not scheduled is said so.
* Information: "status of project 1", "where is my flooring project", "when is my
  appointment for project 2", "is the flooring one scheduled", "who is the technician for
  ORD-2025-002", "who is coming for project 2", "details of the flooring project",
  "tell me about project 1".
* Business hours: "when are you open", "business hours", "what days do you work".
* Notes: "add a note to project 1: gate code 1234", "note for ORD-2025-001: call before
  arriving", "add a note to the flooring project saying the dog is friendly"; "show notes",
  "show notes for project 1", "any notes on ORD-2025-001".
* Anything else -> a polite sentence listing what it can do.

Memory is per session id, like Bedrock's session memory: the last project list, the
project being discussed, the last offer and a pending confirmation. It lives in this
instance only (never persisted), holds no token, and the least recently used sessions are
forgotten beyond `max_sessions`.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pytz

from agent_bridge.chat.action_invoker import (
    INFORMATION,
    INTERNAL_ERROR,
    NOTES,
    SCHEDULING,
    ActionInvoke,
    ActionResult,
    user_message,
)
from agent_bridge.chat.runtime import AgentReply

DEFAULT_TIMEZONE = "America/New_York"
MAX_SESSIONS = 10_000
MAX_DATE_CHOICES = 14
MAX_PROJECT_CHOICES = 6

CAPABILITIES = (
    "I can list your projects, schedule or reschedule one (pick a date, then a time, then "
    "confirm), cancel an appointment, tell you a project's status, details or technician, "
    "give our business hours, add a note to a project and show your notes."
)
HELLO = "Hi! " + CAPABILITIES + ' Try "list my projects".'
NOT_UNDERSTOOD = "Sorry, I didn't quite get that. " + CAPABILITIES + ' Try "list my projects".'
MENU = ["List my projects", "Business hours", "Show notes"]
CONFIRM_CHOICES = ["Yes, book it", "No", "Another date"]
CANCEL_CHOICES = ["Yes, cancel it", "No"]
ANOTHER_DATE = "Another date"


def tenant_today(timezone: str = DEFAULT_TIMEZONE) -> Callable[[], date]:
    """Today's date in the tenant's time zone ("next Tuesday" depends on it, not the host)."""
    zone = pytz.timezone(timezone)
    return lambda: datetime.now(zone).date()


# --------------------------------------------------------------------------- wording


def normalize(message: str) -> str:
    """Lower case, plain quotes, single spaces, no trailing punctuation."""
    text = message.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"\s+", " ", text).strip().rstrip("?!. ")


def long_date(day: str) -> str:
    """ "Thursday, December 3" (what the confirmation question says)."""
    parsed = date.fromisoformat(day)
    return f"{parsed:%A, %B} {parsed.day}"


def short_date(day: str) -> str:
    """ "Thu Dec 3" (a button; the date parser reads it back)."""
    parsed = date.fromisoformat(day)
    return f"{parsed:%a %b} {parsed.day}"


def clock(time: str) -> str:
    """ "14:00" -> "2:00 PM" (a button; the time parser reads it back)."""
    hour, minute = (int(part) for part in time.split(":"))
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


# --------------------------------------------------------------------------- dates

_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?")
_DAY_MONTH = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b\.?(?:,?\s+(\d{4})\b)?"
)
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
_DAY_OF_MONTH = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)\b")
_RELATIVE = re.compile(r"\b(?:the\s+)?(day after tomorrow|tomorrow|today)\b")
_WEEKDAY = re.compile(
    r"\b(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|s|nesday|rsday|rs|r|urday|)\b",
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _iso(year: int, month: int, day: int) -> str:
    """The date as YYYY-MM-DD even when it is not a real one (the action says so)."""
    return f"{year:04d}-{month:02d}-{day:02d}"


def _offered_where(offered: Sequence[str], test: Callable[[date], bool]) -> str | None:
    for text in offered:
        try:
            if test(date.fromisoformat(text)):
                return text
        except ValueError:
            continue
    return None


def _month_day(month: int, day: int, year: str | None, today: date, offered: Sequence[str]) -> str:
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _iso(full, month, day)
    found = _offered_where(offered, lambda d: (d.month, d.day) == (month, day))
    if found:
        return found
    upcoming = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _iso(upcoming, month, day)


def _day_of_month(day: int, today: date, offered: Sequence[str]) -> str:
    found = _offered_where(offered, lambda d: d.day == day)
    if found:
        return found
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate.isoformat()
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _iso(today.year, today.month, day)


def _weekday(weekday: int, today: date, offered: Sequence[str]) -> str:
    first = today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    found = _offered_where(offered, lambda d: d.weekday() == weekday and d >= first)
    return found or first.isoformat()


def parse_date(text: str, today: date, offered: Sequence[str] = ()) -> str | None:
    """The date a (normalized) message names, as YYYY-MM-DD, or None if it names none."""
    if match := _ISO_DATE.search(text):
        return _iso(*(int(part) for part in match.groups()))
    if match := _MONTH_DAY.search(text):
        month = _MONTHS.index(match.group(1)[:3]) + 1
        return _month_day(month, int(match.group(2)), match.group(3), today, offered)
    if match := _DAY_MONTH.search(text):
        month = _MONTHS.index(match.group(2)[:3]) + 1
        return _month_day(month, int(match.group(1)), match.group(3), today, offered)
    if match := _US_DATE.search(text):
        month, day = int(match.group(1)), int(match.group(2))
        return _month_day(month, day, match.group(3), today, offered)
    if match := _RELATIVE.search(text):
        ahead = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}[match.group(1)]
        return (today + timedelta(days=ahead)).isoformat()
    if match := _DAY_OF_MONTH.search(text):
        return _day_of_month(int(match.group(1) or match.group(2)), today, offered)
    if match := _WEEKDAY.search(text):
        return _weekday(_WEEKDAYS.index(match.group(1)), today, offered)
    return None


# --------------------------------------------------------------------------- times

_HOUR_WORDS = {
    word: number
    for number, word in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
        start=1,
    )
} | {"eleven": 11, "twelve": 12}
_HOUR = r"(\d{1,2}|" + "|".join(_HOUR_WORDS) + r")"
_MERIDIEM = r"(a\.?m\.?|p\.?m\.?)"
_CLOCK_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?!\d)(?:\s*" + _MERIDIEM + r"(?!\w))?")
_HOUR_MERIDIEM = re.compile(r"\b" + _HOUR + r"\s*" + _MERIDIEM + r"(?!\w)")
_NOON = re.compile(r"\b(?:noon|midday)\b")
_AT_HOUR = re.compile(r"\bat\s+" + _HOUR + r"\b(?!\s*(?:st|nd|rd|th|/|-|:))")
_BARE_HOUR = re.compile(r"^(?:at\s+)?" + _HOUR + r"(?:\s*o'?clock)?(?:\s+please)?$")


def _hour(text: str) -> int:
    return _HOUR_WORDS.get(text) or int(text)


def _pick_time(hour: int, minute: int, meridiem: str | None, offered: Sequence[str]) -> str | None:
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
        return f"{hour:02d}:{minute:02d}"
    if hour > 23 or minute > 59:
        return None
    options = [hour] if hour >= 12 or hour == 0 else [hour, hour + 12]
    for option in options:
        if f"{option:02d}:{minute:02d}" in offered:
            return f"{option:02d}:{minute:02d}"
    if 1 <= hour <= 6:
        hour += 12  # nobody books 3 in the morning: "at 3" is the afternoon
    return f"{hour:02d}:{minute:02d}"


def parse_time(text: str, offered: Sequence[str] = ()) -> str | None:
    """The time a (normalized) message names, as HH:MM, or None if it names none."""
    if match := _CLOCK_TIME.search(text):
        return _pick_time(int(match.group(1)), int(match.group(2)), match.group(3), offered)
    if match := _HOUR_MERIDIEM.search(text):
        return _pick_time(_hour(match.group(1)), 0, match.group(2), offered)
    if _NOON.search(text):
        return "12:00"
    if match := _AT_HOUR.search(text) or _BARE_HOUR.match(text):
        return _pick_time(_hour(match.group(1)), 0, None, offered)
    return None


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class KnownProject:
    """A project as list_projects described it (the facts needed to name and resolve it)."""

    number: int
    project_id: str
    order_number: str = ""
    type: str = ""
    category: str = ""
    status: str = ""
    scheduled_date: str = ""
    window: str = ""

    @classmethod
    def from_body(cls, item: dict[str, Any]) -> KnownProject:
        def text(key: str) -> str:
            return str(item.get(key) or "")

        return cls(
            number=int(item.get("number") or 0),
            project_id=text("project_id"),
            order_number=text("order_number"),
            type=text("type"),
            category=text("category"),
            status=text("status"),
            scheduled_date=text("scheduled_date"),
            window=text("window"),
        )

    @property
    def title(self) -> str:
        kind = " ".join(part for part in (self.type, self.category) if part) or "Project"
        return f"{kind} {self.order_number}" if self.order_number else kind

    @property
    def scheduled(self) -> bool:
        return self.status.lower() == "scheduled"

    def line(self) -> str:
        return f"{self.number}. {self.title} ({self.status or 'status unknown'})"


@dataclass(frozen=True)
class Mention:
    """The project a message names: what was said, the projects it fits, where it was said."""

    said: str
    matches: tuple[KnownProject, ...]
    span: tuple[int, int] | None = None


_ORDER_NUMBER = re.compile(r"\b([a-z]{2,6}-\d[a-z0-9]*(?:-[a-z0-9]+)*)\b")
_PROJECT_NUMBER = re.compile(
    r"\b(?:project|number|num|no\.?|order)\s*#?\s*(\d{1,9})\b(?!\s*(?:am|pm|:|/|st|nd|rd|th))"
    r"|#\s*(\d{1,9})\b"
    r"|\b(?:re)?(?:schedule|book|cancel)\s+#?(\d{1,3})\b(?!\s*(?:am|pm|a\.m|p\.m|:|/|st|nd|rd|th))"
)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_ORDINAL_PROJECT = re.compile(
    r"\b(?:the\s+)?(" + "|".join(_ORDINALS) + r"|[1-8](?:st|nd|rd|th))\s+(?:one|project)\b"
)
_REFERENCE_HINT = re.compile(
    r"\b(?:project|number|order|one)\b|#\s*\d|\b(?:for|on|of|about|to)\s+(?:my|the)\b"
)


def _stems(text: str) -> list[str]:
    """Words without a plural "s", so "window" finds "Windows" and "doors" finds "Door"."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


def _same(said: str, name: str) -> bool:
    """A word of a project's name, or its start ("floor" for "Flooring")."""
    return said == name or (len(said) >= 4 and name.startswith(said))


def _contains(words: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    return size > 0 and any(
        all(_same(said, name) for said, name in zip(words[i : i + size], phrase, strict=True))
        for i in range(len(words) - size + 1)
    )


def _by_number(number: int, projects: Sequence[KnownProject]) -> tuple[KnownProject, ...]:
    found = tuple(p for p in projects if p.number == number)
    return found or tuple(p for p in projects if p.project_id == str(number))


def find_mention(text: str, projects: Sequence[KnownProject]) -> Mention | None:
    """The project a (normalized) message names, or None if it names none."""
    if match := _ORDER_NUMBER.search(text):
        said = match.group(1)
        found = tuple(p for p in projects if p.order_number.lower() == said)
        return Mention(said.upper(), found, match.span())
    if match := _PROJECT_NUMBER.search(text):
        number = next(group for group in match.groups() if group)
        return Mention(f"project {number}", _by_number(int(number), projects), match.span())
    if match := _ORDINAL_PROJECT.search(text):
        word = match.group(1)
        number = _ORDINALS.index(word) + 1 if word in _ORDINALS else int(word[0])
        return Mention(f"project {number}", _by_number(number, projects), match.span())
    words = _stems(text)
    for field_name in ("category", "type"):
        found = tuple(p for p in projects if _contains(words, _stems(getattr(p, field_name))))
        if found:
            if len(found) > 1:  # "installation flooring": the type narrows the category
                narrowed = tuple(p for p in found if _contains(words, _stems(p.type)))
                found = narrowed or found
            return Mention(found[0].category or found[0].type, found)
    return None


def may_name_project(text: str) -> bool:
    """Could the message name a project we cannot resolve without the list?"""
    return bool(_REFERENCE_HINT.search(text)) or find_mention(text, ()) is not None


# --------------------------------------------------------------------------- intents


@dataclass(frozen=True)
class Answer:
    """A yes or a no made only of these words, with at least one that carries it."""

    core: frozenset[str]
    filler: frozenset[str] = frozenset()

    def given(self, text: str) -> bool:
        words = set(re.findall(r"[a-z']+", text))
        return bool(words & self.core) and words <= self.core | self.filler


_YES = {"yes", "yep", "yeah", "yup", "y", "sure", "ok", "okay", "confirm", "confirmed", "correct"}
_YES |= {"go", "do", "works", "good", "great", "perfect"}  # "go ahead", "do it", "sounds good"
_YES_FILLER = {"please", "ahead", "it", "that", "sounds", "thanks", "thank", "you"}
_NO = {"no", "nope", "nah", "n", "not", "never", "nevermind", "don't", "dont", "stop", "wait"}
_NO_FILLER = {"thanks", "thank", "you", "now", "yet", "mind", "do", "it", "please"}

YES_BOOK = Answer(frozenset(_YES | {"book"}), frozenset(_YES_FILLER))
YES_CANCEL = Answer(frozenset(_YES | {"cancel"}), frozenset(_YES_FILLER))
NO_BOOK = Answer(frozenset(_NO | {"cancel"}), frozenset(_NO_FILLER))
NO_CANCEL = Answer(frozenset(_NO | {"keep"}), frozenset(_NO_FILLER))
THANKS = Answer(
    frozenset({"thanks", "thank", "thx", "cheers", "bye", "goodbye"}),
    frozenset({"you", "so", "much", "ok", "okay", "great", "that's", "all"}),
)

ADD_NOTE = re.compile(
    r"^(?:please\s+)?(?:can you\s+|could you\s+|i'd like to\s+|i want to\s+)?"
    r"(?:(?:add|leave|put|write|make|attach|save)\s+(?:a\s+|the\s+|this\s+|another\s+|my\s+)?"
    r"note\b|note\s+(?:for|on|to)\b)"
)
NOTE_TEXT_SEPARATOR = re.compile(r":|\s(?:saying|that says|which says|reading)\s", re.IGNORECASE)
SHOW_NOTES = re.compile(r"\bnotes?\b")
CANCEL = re.compile(r"\bcancel\b|\bcall off\b")
SCHEDULE = re.compile(
    r"\b(?:re)?schedule\b|\bbook\b|\bbooking\b"
    r"|\b(?:make|set up|get|need|want|new)\s+(?:an?\s+)?appointment\b"
)
TECHNICIAN = re.compile(
    r"\btech(?:nician)?s?\b|\binstaller\b|\bwho(?:'s| is| will be)? coming\b|\bwho will come\b"
)
STATUS = re.compile(
    r"\bstatus\b|\bwhere (?:is|are)\b|\bhow is\b|\bprogress\b|\bwhen is my\b|\bscheduled\b"
)
DETAILS = re.compile(r"\bdetails?\b|\binfo(?:rmation)?\b|\btell me (?:more )?about\b|\bdescribe\b")
ALL_PROJECTS = re.compile(r"\b(?:all|every|each)\s+(?:(?:of\s+)?my\s+)?projects?\b")
HOURS = re.compile(
    r"\bhours\b|\bopen\b|\bwork(?:ing)? ?days\b|\bdays do you work\b|\bwhen do you work\b"
    r"|\bare you working\b|\bclosed\b"
)
LIST_PROJECTS = re.compile(
    r"\bprojects\b|\b(?:list|show|see|view)\b.*\bprojects?\b|^(?:my\s+)?projects?$|\borders\b"
)
ANOTHER_DATE_ASKED = re.compile(
    r"\b(?:another|different|other|new|later|earlier|more)\s+(?:date|day)s?\b"
    r"|\bchange (?:the )?(?:date|day)\b|\b(?:show|see)\s+(?:me\s+)?(?:the\s+)?dates\b"
    r"|\bdates again\b|\bnone of (?:these|those|them)\b"
)
HELP = re.compile(
    r"\b(?:hi|hello|hey|howdy|hiya|good (?:morning|afternoon|evening)|help)\b"
    r"|\bwhat can you do\b|\bwho are you\b"
)


# --------------------------------------------------------------------------- memory


@dataclass
class Offer:
    """What the booking flow last offered for a project (the dates, then a day's times)."""

    project_id: str
    dates: list[str] = field(default_factory=list)
    date: str | None = None
    times: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pending:
    """A question awaiting yes or no: book `date` at `time`, or cancel the appointment."""

    kind: Literal["book", "cancel"]
    project_id: str
    date: str = ""
    time: str = ""


@dataclass
class Conversation:
    """One session's memory (never persisted; no token, no customer id)."""

    projects: list[KnownProject] = field(default_factory=list)
    project_id: str | None = None
    offer: Offer | None = None
    pending: Pending | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# --------------------------------------------------------------------------- the agent


class LocalAgent:
    """`AgentRuntime` that understands the documented phrasings and calls the actions."""

    def __init__(
        self,
        invoke: ActionInvoke,
        *,
        today: Callable[[], date] | None = None,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self._invoke = invoke
        self._today = today or tenant_today()
        self._max_sessions = max_sessions
        self._sessions: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def ask(self, session_id: str, message: str) -> AgentReply:
        conversation = self._conversation(session_id)
        # One turn at a time per session (like Bedrock); other sessions run concurrently.
        with conversation.lock, user_message(message):
            turn = _Turn(self._invoke, self._today(), session_id, conversation, message)
            return turn.reply()

    def _conversation(self, session_id: str) -> Conversation:
        with self._lock:
            conversation = self._sessions.pop(session_id, None) or Conversation()
            self._sessions[session_id] = conversation
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
            return conversation


class _Turn:
    """One customer message: understand it, call the actions, answer, update the memory."""

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
        self.text = normalize(message)

    # ------------------------------------------------------------------ dispatch

    def reply(self) -> AgentReply:
        if not self.text:
            return AgentReply(HELLO, list(MENU))
        pending, self.memory.pending = self.memory.pending, None
        if pending is not None:
            answered = self.answer_pending(pending)
            if answered is not None:
                return answered
        if ADD_NOTE.search(self.text):
            return self.add_note()
        if SHOW_NOTES.search(self.text):
            return self.show_notes()
        if CANCEL.search(self.text):
            return self.cancel()
        if SCHEDULE.search(self.text):
            return self.schedule()
        if TECHNICIAN.search(self.text):
            return self.project_read("/get_technician_info", "Technician for project {n}")
        if STATUS.search(self.text):
            return self.project_read("/get_project_status", "Status of project {n}")
        if DETAILS.search(self.text):
            if ALL_PROJECTS.search(self.text):
                return self.list_projects("/list_all_projects", INFORMATION)
            return self.project_read("/get_project_details", "Details of project {n}")
        if HOURS.search(self.text):
            return self.relay(self.call(SCHEDULING, "/get_business_hours"), list(MENU))
        if LIST_PROJECTS.search(self.text):
            return self.list_projects("/list_projects", SCHEDULING)
        if ANOTHER_DATE_ASKED.search(self.text):
            return self.another_date()
        chosen = self.choose_date_or_time()
        if chosen is not None:
            return chosen
        if THANKS.given(self.text):
            return AgentReply("You're welcome! Anything else I can help with?", list(MENU))
        if HELP.search(self.text):
            return AgentReply(HELLO, list(MENU))
        return AgentReply(NOT_UNDERSTOOD, list(MENU))

    # ------------------------------------------------------------------ actions

    def call(self, group: str, path: str, **parameters: str) -> ActionResult:
        """One action call; the session id is the only identity it carries."""
        return self.invoke(
            group, path, {"session_id": self.session_id, **parameters}, self.session_id
        )

    def relay(self, result: ActionResult, choices: list[str]) -> AgentReply:
        """The action's own sentence: its message, or its error."""
        body = result.body
        text = body.get("message") if result.ok else body.get("error")
        return AgentReply(str(text or INTERNAL_ERROR), choices)

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
        return self.relay(result, self.project_choices("{verb} project {n}") or list(MENU))

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
            return AgentReply(
                f"Which {mention.said} project do you mean?\n{lines}",
                self.project_choices(template, mention.matches),
            )
        if mention is not None:
            listing = "\n".join(p.line() for p in projects) or "You have no projects yet."
            return AgentReply(
                f"I couldn't find {mention.said} among your projects:\n{listing}",
                self.project_choices(template),
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
        return AgentReply(f"Which project do you mean?\n{listing}", self.project_choices(template))

    def current_project(self) -> KnownProject | None:
        wanted = self.memory.project_id
        return next((p for p in self.memory.projects if p.project_id == wanted), None)

    def project_read(self, path: str, template: str) -> AgentReply:
        project = self.project_for(template)
        if not isinstance(project, KnownProject):
            return project or AgentReply(NOT_UNDERSTOOD, list(MENU))
        result = self.call(INFORMATION, path, project_id=project.project_id)
        return self.relay(result, self.offer_choices() or list(MENU))

    # ------------------------------------------------------------------ booking

    def schedule(self) -> AgentReply:
        offer = self.memory.offer
        if offer is not None and self.memory.project_id != offer.project_id:
            self.memory.project_id = offer.project_id  # "book it" means the one on offer
        project = self.project_for("{verb} project {n}")
        if not isinstance(project, KnownProject):
            return project or AgentReply(NOT_UNDERSTOOD, list(MENU))
        result = self.call(SCHEDULING, "/get_available_dates", project_id=project.project_id)
        answer = self.flow_answer(result, project.project_id)
        if result.body.get("step") != "await_date" or not result.ok:
            return answer
        if parse_date(self.choice_text(), self.today) is None:
            return answer
        return self.choose_date_or_time() or answer  # "book project 1 on Dec 3 at 10am"

    def another_date(self) -> AgentReply:
        offer = self.memory.offer
        if offer is None:
            return self.no_booking_yet()
        result = self.call(SCHEDULING, "/get_available_dates", project_id=offer.project_id)
        return self.flow_answer(result, offer.project_id)

    def choice_text(self) -> str:
        """The message without the project it names, so that "project 2" is no date."""
        mention = find_mention(self.text, self.memory.projects)
        if mention is None or mention.span is None:
            return self.text
        start, end = mention.span
        return self.text[:start] + " " * (end - start) + self.text[end:]

    def choose_date_or_time(self) -> AgentReply | None:
        """A date and/or time in the message, against the current offer; None if neither."""
        text = self.choice_text()
        offer = self.memory.offer
        dates = [] if offer is None else offer.dates or ([offer.date] if offer.date else [])
        day = parse_date(text, self.today, dates)
        time = parse_time(text, [] if offer is None else offer.times)
        if day is None and time is None:
            return None
        if offer is None:
            return self.no_booking_yet()
        if day is not None and (day != offer.date or time is None):
            result = self.call(SCHEDULING, "/get_time_slots", project_id=offer.project_id, date=day)
            answer = self.flow_answer(result, offer.project_id)
            if time is None or not result.ok or result.body.get("step") != "await_slot":
                return answer
            time = parse_time(text, self.memory.offer.times if self.memory.offer else [])
        return self.choose_time(time)

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
        return AgentReply(
            f"Shall I book {long_date(offer.date)} at {clock(time)}? (yes/no)",
            list(CONFIRM_CHOICES),
        )

    def no_booking_yet(self) -> AgentReply:
        return AgentReply(
            'Which project would you like to schedule? Say, for example, "schedule project 1".',
            self.project_choices("{verb} project {n}") or ["List my projects"],
        )

    def flow_answer(self, result: ActionResult, project_id: str) -> AgentReply:
        """A booking or cancellation answer: remember where the flow stands, offer choices."""
        body = result.body
        step = body.get("step") if result.ok else None
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
        url = body.get("project_url")
        if step == "done" and url and str(url) not in reply.text:
            reply = AgentReply(f"{reply.text} Details: {url}", reply.choices)
        return reply

    def offer_choices(self) -> list[str]:
        offer = self.memory.offer
        if offer is None:
            return []
        if offer.date and offer.times:
            return [clock(t) for t in offer.times] + [ANOTHER_DATE]
        return [short_date(d) for d in offer.dates[:MAX_DATE_CHOICES] if _real(d)]

    # ------------------------------------------------------------------ confirmations

    def answer_pending(self, pending: Pending) -> AgentReply | None:
        """Yes or no to the pending question; None when the message is something else."""
        if pending.kind == "book":
            if YES_BOOK.given(self.text):
                result = self.call(
                    SCHEDULING,
                    "/confirm_appointment",
                    project_id=pending.project_id,
                    date=pending.date,
                    time=pending.time,
                )
                return self.flow_answer(result, pending.project_id)
            if NO_BOOK.given(self.text):
                result = self.call(
                    SCHEDULING, "/get_time_slots", project_id=pending.project_id, date=pending.date
                )
                answer = self.flow_answer(result, pending.project_id)
                return AgentReply("All right, nothing is booked. " + answer.text, answer.choices)
            return None
        if YES_CANCEL.given(self.text):
            result = self.call(SCHEDULING, "/cancel_appointment", project_id=pending.project_id)
            return self.flow_answer(result, pending.project_id)
        if NO_CANCEL.given(self.text):
            return AgentReply("All right, your appointment stays as it is.", list(MENU))
        return None

    def cancel(self) -> AgentReply:
        project = self.project_for("Cancel project {n}")
        if not isinstance(project, KnownProject):
            return project or AgentReply(NOT_UNDERSTOOD, list(MENU))
        if not project.scheduled:
            return AgentReply(
                f"Project {project.number} ({project.title}) has no scheduled appointment "
                "to cancel.",
                list(MENU),
            )
        when = ""
        if _real(project.scheduled_date):
            window = f" ({project.window})" if project.window else ""
            when = f" on {long_date(project.scheduled_date)}{window}"
        self.memory.pending = Pending("cancel", project.project_id)
        return AgentReply(
            f"Shall I cancel the appointment{when} for project {project.number} "
            f"({project.title})? (yes/no)",
            list(CANCEL_CHOICES),
        )

    # ------------------------------------------------------------------ notes

    def add_note(self) -> AgentReply:
        separator = NOTE_TEXT_SEPARATOR.search(self.message)
        note = self.message[separator.end() :].strip() if separator else ""
        head = normalize(self.message[: separator.start()]) if separator else self.text
        escaped = note.replace("{", "{{").replace("}", "}}")
        template = (
            f"Add a note to project {{n}}: {escaped}" if note else "Add a note to project {n}"
        )
        project = self.project_for(template, head)
        if not isinstance(project, KnownProject):
            return project or AgentReply(NOT_UNDERSTOOD, list(MENU))
        if not note:
            return AgentReply(
                "What should the note say? Put it after a colon, for example: "
                f'"add a note to project {project.number}: gate code 1234".',
                list(MENU),
            )
        result = self.call(NOTES, "/add_note", project_id=project.project_id, note_text=note)
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


def _real(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True
