"""What a note may say: cleaned before it goes anywhere, refused before anything is sent.

Control characters are stripped (they garble PF360's notes view and can hide text); a newline
is kept, since a customer may write a list, and a tab becomes a space. Bidirectional-override
characters go too: they can make a note read differently from what it says.
"""

from __future__ import annotations

import re
import unicodedata

from agent_bridge.actions import errors

MAX_NOTE_CHARS = 2000

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def clean_note(text: str) -> str:
    """The note with control characters removed and surrounding whitespace trimmed."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = "".join(
        ch
        for ch in unified
        if ch == "\n" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    )
    lines = [line.rstrip() for line in kept.split("\n")]
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def storable(text: str) -> bool:
    """Text that PF360 and the notes table can both keep as it is: valid Unicode (no lone
    UTF-16 surrogates, which JSON can carry but UTF-8 cannot encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def valid_note(text: str | None) -> str:
    """The cleaned note, or a 400 refusal when it is empty, over the limit or unstorable."""
    if text is not None and not storable(text):
        raise errors.bad_input(
            "That note contains characters that can't be saved (a broken emoji or symbol); "
            "please type it again."
        )
    cleaned = clean_note(text or "")
    if not cleaned:
        raise errors.bad_input("The note is empty; please tell me what the note should say.")
    if len(cleaned) > MAX_NOTE_CHARS:
        raise errors.bad_input(
            f"That note is {len(cleaned)} characters long; please keep it to "
            f"{MAX_NOTE_CHARS} characters or fewer."
        )
    return cleaned
