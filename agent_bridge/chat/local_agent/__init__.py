"""A deterministic stand-in for the Bedrock agents, for local runs, demos and tests.

It drives the same three action-group Lambdas with the same events as Bedrock (through an
injected `ActionInvoke`), so everything behind the agent runs for real without Bedrock.
It knows only the session id: never a token or a customer id (the actions take those from
the session record). It replies with the actions' sentences, dates and times written as
people write them, plus suggested replies (`choices`) that the web page shows as buttons.

The parts, each small and testable on its own:

* `understanding`: intents, yes/no answers, typo correction (rapidfuzz), two requests.
* `when`: dates and times (calendar forms, weekdays, "in 3 days" via dateparser), parts of
  the day and "earliest", resolved against the offer.
* `projects`: the project a message names (number, order number, ordinal, type/category
  with typos).
* `memory`: per-session memory (project list, offer, pending yes/no, the last question).
* `base`, `booking`, `turn`: one message's replies (action calls and naming a project;
  booking, moving and cancelling; dispatch, reads, hours and notes).
* `wording`: dates and times as people write them, and the fixed sentences.
* `agent`: `LocalAgent` itself.

docs/conversation.md lists what it understands, with examples.
"""

from agent_bridge.chat.local_agent.agent import DEFAULT_TIMEZONE, LocalAgent, tenant_today
from agent_bridge.chat.local_agent.when import parse_date, parse_time
from agent_bridge.chat.local_agent.wording import CANCEL_CHOICES, CONFIRM_CHOICES, MENU

__all__ = [
    "CANCEL_CHOICES",
    "CONFIRM_CHOICES",
    "DEFAULT_TIMEZONE",
    "MENU",
    "LocalAgent",
    "parse_date",
    "parse_time",
    "tenant_today",
]
