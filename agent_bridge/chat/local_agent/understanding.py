"""What a customer's message asks for: its intent, answers to the agent's own questions, typos.

Each rule is a small pattern over a normalized message whose words were first corrected
against the agent's vocabulary with `rapidfuzz` ("shedule" -> "schedule", "tommorow" ->
"tomorrow"), so the patterns stay about meaning rather than spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

# --------------------------------------------------------------------------- typos


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


VOCABULARY = _words(
    "schedule reschedule book booking appointment cancel project projects technician "
    "installer tomorrow today monday tuesday wednesday thursday friday saturday sunday "
    "january february march april june july august september october november december "
    "morning afternoon evening available earliest business hours details status another "
    "different confirm please thanks installation flooring windows cabinets notes weekend"
)
# Real words a few letters away from a vocabulary word (or inflections of one), kept as said.
REAL_WORDS = frozenset(
    _words(
        "looking cooking working hooking booker protect prospect cancer parcel mourning "
        "statue states detail detailed other mother brother another's shoes shows notice "
        "noted booths today's monday's hours ours yours tours sunday's appoint "
        "instillation install installs installed installing scheduled rescheduled "
        "scheduling booked bookings cancelled canceled cancelling canceling cancellation "
        "appointments technicians weekends mornings afternoons evenings confirmed detail "
        "project's availability house houses horse technical technique valuable conform "
        "difference cabins"
    )
)
SHORTHAND = {
    "bok": "book",
    "appt": "appointment",
    "appts": "appointments",
    "apt": "appointment",
    "resched": "reschedule",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tomoz": "tomorrow",
    "2moro": "tomorrow",
    "2day": "today",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thanks",
    "u": "you",
    "ur": "your",
    "r": "are",
    "wanna": "want to",
    "gonna": "going to",
    "tech": "technician",
    "techs": "technicians",
    "wed": "wednesday",
    "weds": "wednesday",
    "tues": "tuesday",
    "thurs": "thursday",
    "proj": "project",
    "info": "details",
}
TYPO_SCORE = 82  # "house" (80 to "hours") stays a house
_WORD = re.compile(r"[a-z0-9']+")


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """The vocabulary word a (lower-case) word is a typo of, else the word itself."""
    if word in SHORTHAND:
        return SHORTHAND[word]
    if len(word) < 5 or word in REAL_WORDS or not word.isalpha():
        return word
    found = process.extractOne(word, VOCABULARY, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
    return str(found[0]) if found else word


def correct(text: str) -> str:
    """A normalized message with its words' typos and shorthand corrected."""
    return _WORD.sub(lambda m: correct_word(m.group(0)), text)


# --------------------------------------------------------------------------- yes and no


@dataclass(frozen=True)
class Answer:
    """A yes or a no made only of these words, with at least one that carries it."""

    core: frozenset[str]
    filler: frozenset[str] = frozenset()

    def given(self, text: str) -> bool:
        words = set(re.findall(r"[a-z']+", text))
        if not words:
            return "\U0001f44d" in text and bool(self.core & {"yes"})
        return bool(words & self.core) and words <= self.core | self.filler


_YES = {"yes", "yep", "yeah", "yup", "ya", "yea", "y", "sure", "ok", "okay", "k", "kk"}
_YES |= {"confirm", "confirmed", "correct", "absolutely", "definitely", "alright", "fine"}
_YES |= {"go", "do", "works", "good", "great", "perfect", "cool", "lovely", "awesome", "sweet"}
_YES |= {"excellent", "brilliant", "righto", "certainly", "right", "please"}
_YES_FILLER = {"ahead", "it", "that", "sounds", "thanks", "thank", "you", "for", "me", "let's"}
_YES_FILLER |= {"lets", "thing", "that's", "thats", "then", "is", "oh", "um", "ah", "all", "one"}
_YES_FILLER |= {"the", "with", "a", "plan", "deal", "mate", "much", "very", "so", "really", "yes"}
_NO = {"no", "nope", "nah", "n", "not", "never", "nevermind", "don't", "dont", "stop", "wait"}
_NO |= {"hold", "changed", "actually"}
_NO_FILLER = {"thanks", "thank", "you", "now", "yet", "mind", "do", "it", "please", "on", "my"}
_NO_FILLER |= {"that", "one", "a", "sec", "second", "minute", "i've", "i", "have", "ive"}

YES_BOOK = Answer(frozenset(_YES | {"book"}), frozenset(_YES_FILLER))
YES_CANCEL = Answer(frozenset(_YES | {"cancel"}), frozenset(_YES_FILLER))
NO_BOOK = Answer(frozenset(_NO | {"cancel"}), frozenset(_NO_FILLER))
NO_CANCEL = Answer(frozenset(_NO | {"keep"}), frozenset(_NO_FILLER))
THANKS = Answer(
    frozenset({"thanks", "thank", "thx", "cheers", "bye", "goodbye", "ta"}),
    frozenset(
        _words("you so much ok okay great that's all very a lot mate guys heaps again for help")
    ),
)

# --------------------------------------------------------------------------- intents

ADD_NOTE = re.compile(
    r"^(?:please\s+)?(?:can you\s+|could you\s+|i'd like to\s+|i want to\s+)?"
    r"(?:(?:add|leave|put|write|make|attach|save)\s+(?:a\s+|the\s+|this\s+|another\s+|my\s+)?"
    r"note\b|note\s+(?:for|on|to)\b)"
)
NOTE_TEXT_SEPARATOR = re.compile(
    r":|\s[-\u2013\u2014]\s|\s(?:saying|that says|which says|reading)\s", re.IGNORECASE
)
SHOW_NOTES = re.compile(r"\bnotes?\b")
CANCEL = re.compile(r"\bcancel\b|\bcall off\b|\bcancell?ation\b")
SCHEDULE = re.compile(
    r"\b(?:re)?schedule\b|\bbook\b|\bbooking\b|\brebook\b"
    r"|\b(?:make|set up|get|need|want|new|arrange)\s+(?:an?\s+)?(?:appointment|visit|install)"
    r"|\b(?:move|change|push|shift|postpone|bump|switch|bring)\b.{0,40}"
    r"\b(?:appointment|booking|visit|date|day|time|it|project|one|job|install(?:ation)?|forward)\b"
    r"|\b(?:come out|come by|send someone|send a technician)\b"
    r"|\b(?:get|have)\s+(?:the|my|our)\s+.{1,30}\s(?:done|installed|fitted|measured|in)\b"
)
TECHNICIAN = re.compile(
    r"\btechnicians?\b|\binstaller\b|\bwho(?:'s| is| will be)? coming\b|\bwho will come\b"
    r"|\bwho(?:'s| is) (?:doing|installing|assigned)\b"
    r"|\b(?<!you )(?:guy|guys|man|woman|person|fitter|fitters|crew|team|installers)\b"
    r".{0,12}\bcoming\b"
)
STATUS = re.compile(
    r"\bstatus\b|\bwhere (?:is|are)\b|\bhow is\b|\bhow'?s\b|\bprogress\b|\bwhen is my\b"
    r"|\bscheduled\b|\bupdates?\b|\bhappening\b|\bgoing on\b|\bwhat's up with\b"
    r"|\bwhere (?:are we|we are|do we stand)\b|\bany news\b"
    r"|\bis (?:it|(?:my|the) .{1,30}) (?:done|finished|complete)"
    r"|\bwhen (?:will|are) (?:you|they|my)\b|\beta\b"
)
DETAILS = re.compile(r"\bdetails?\b|\btell me (?:more )?about\b|\bdescribe\b|\baddress\b")
ALL_PROJECTS = re.compile(r"\b(?:all|every|each)\s+(?:(?:of\s+)?my\s+)?projects?\b")
HOURS = re.compile(
    r"\bhours\b|\b(?:are|is) (?:you|it|the office|your office)\b.{0,20}\bopen\b"
    r"|\bopen (?:on|at|today|tomorrow|saturdays?|sundays?|weekends?)\b|\byou(?:'re| guys)? open\b"
    r"|\bwhen do you open\b|\bwhat time do you open\b|\bopening\b|\bwork(?:ing)? ?days\b"
    r"|\bdays do you work\b|\bwhen do you work\b"
    r"|\bare you working\b|\bclosed\b|\bdo you (?:work|come out|install)\b.{0,30}"
    r"\b(?:weekends?|saturdays?|sundays?|mondays?|tuesdays?|wednesdays?|thursdays?|fridays?)\b"
    r"|\bwork (?:on )?(?:weekends|saturdays|sundays)\b"
)
HOURS_OF_DAY = re.compile(r"\bhours\b|\bwhat time\b|\bwhen do you (?:open|close)\b|\bopen until\b")
ASKED_DAY = re.compile(
    r"\b(mon|tues|wednes|thurs|fri|satur|sun)days?\b|\b(weekends?)\b|\b(today|tomorrow)\b"
)
LIST_PROJECTS = re.compile(
    r"\bprojects\b|\b(?:list|show|see|view)\b.*\bprojects?\b|^(?:my\s+)?projects?$|\borders\b"
    r"|\bwhat (?:do i have|have i got)\b|\bjobs\b"
)
ANOTHER_DATE_ASKED = re.compile(
    r"\b(?:another|different|other|new|later|earlier|more)\s+(?:date|day)s?\b"
    r"|\bchange (?:the )?(?:date|day)\b|\b(?:show|see)\s+(?:me\s+)?(?:the\s+)?dates\b"
    r"|\bdates again\b|\bnone of (?:these|those|them)\b|\bnone (?:work|suit)s?\b"
)
HANDOFF = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+|some\s+|your\s+)?"
    r"(?:human|person|someone|somebody|real|representative|agent|manager|operator|customer"
    r"|support|staff)"
    r"|\b(?:real|live|actual)\s+(?:person|human|agent)\b|\bhuman\b|\brepresentative\b"
    r"|\bcustomer (?:service|support|care)\b|\bcall me\b|\bcan (?:someone|somebody) call\b"
    r"|\bphone number\b|\bcontact (?:you|someone|support)\b"
)
HELP = re.compile(
    r"\b(?:hi|hello|hey|howdy|hiya|good (?:morning|afternoon|evening)|help)\b"
    r"|\bwhat can you do\b|\bwho are you\b"
)
STOP_BOOKING = re.compile(
    r"^(?:cancel|stop|never ?mind|forget it|forget about it|not now|leave it|skip it)"
    r"(?: (?:that|this|it|the booking|booking|please|thanks))*$"
)
FOLLOW_UP = re.compile(
    r"\b(?:done|finished|ready|yet|news|update|and|well|status|still there|any luck"
    r"|how(?:'s| is) it|did it work|what happened)\b|^\?*$"
)
REFERS_TO_CURRENT = re.compile(r"\b(?:it|that|this)\b")
# After "Which project?": a short answer naming it ("the second", "2", "windows").
BARE_NUMBER = re.compile(r"^(?:number\s+|no\.?\s*|#\s*)?(\d{1,3})$")
BARE_ORDINAL = re.compile(
    r"^(?:the\s+)?(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)"
    r"(?:\s+(?:one|project))?(?:\s+please)?$"
)
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth")

# Words a date or time answer may come with ("how about Friday morning?").
DATE_FILLER = frozenset(
    _words(
        "on at in the a an for how about what is are works work would could can do does be fine "
        "good ok okay please then let's lets go with maybe perhaps i'd i like prefer want take "
        "that this one ok sure yes yeah yep instead rather any anything time slot day date "
        "free available is there you have do possible around best for me us earliest "
        "works of or and but if it's its great perfect o'clock oclock next this coming "
        "sometime whenever anytime wait make change switch to actually oh hmm um no it "
        "ideal suits suit better good"
    )
)


def ordinal_number(text: str, count: int) -> int | None:
    """ "2", "the second one", "last" -> a list number (1-based), else None."""
    if match := BARE_NUMBER.match(text):
        return int(match.group(1))
    if match := BARE_ORDINAL.match(text):
        word = match.group(1)
        if word == "last":
            return count or None
        if word in _ORDINAL_WORDS:
            return _ORDINAL_WORDS.index(word) + 1
        return int(word[0])
    return None


def only_filler(text: str) -> bool:
    """Is the text made only of words that may come with a date or time?"""
    return all(word in DATE_FILLER for word in re.findall(r"[a-z']+", text))


# --------------------------------------------------------------------------- two requests

_SPLIT = re.compile(
    r"\s*(?:,\s*)?\b(?:and then|and also|then also|after that|also)\b,?\s*"
    r"|(?<=[a-z0-9])[.;!?]\s+"
    r"|\s+and\s+(?=(?:please\s+)?(?:cancel|book|schedule|reschedule|show|list|add|tell|what|who"
    r"|when|where|move|check|give|leave|is|are|can)\b)"
)


def split_requests(message: str) -> list[str]:
    """A message split where a second request starts ("... and cancel project 2")."""
    return [part.strip(" ,") for part in _SPLIT.split(message) if part and part.strip(" ,.")]
