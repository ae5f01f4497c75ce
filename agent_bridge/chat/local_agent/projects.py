"""The customer's projects as the agent knows them, and the project a message names.

Numbers, order numbers and ordinals are read exactly; a type or category ("the flooring
one", "my floring project") is matched word by word, tolerating typos with `rapidfuzz`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from agent_bridge.chat.local_agent.wording import long_date, real_date, window


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

    @property
    def appointment(self) -> str:
        """ "Monday, December 7, 9:00 AM to 11:00 AM", or "" without a real date."""
        if real_date(self.scheduled_date) is None:
            return ""
        arrival = f", {window(self.window)}" if self.window else ""
        return long_date(self.scheduled_date) + arrival

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
    r"|\b(?:re)?(?:schedule|book|cancel|move|status of|details of)\s+#?(\d{1,3})\b"
    r"(?!\s*(?:am|pm|a\.m|p\.m|:|/|st|nd|rd|th))"
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


NAME_TYPO_SCORE = 85  # "floring" ~ "flooring", "windos" ~ "windows"; "door" is not "floor"


def _same(said: str, name: str) -> bool:
    """A word of a project's name, its start ("floor" for "Flooring") or a typo of it."""
    if said == name or (len(said) >= 4 and name.startswith(said)):
        return True
    return len(said) >= 5 and len(name) >= 5 and fuzz.ratio(said, name) >= NAME_TYPO_SCORE


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
