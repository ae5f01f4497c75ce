"""Locust users for `make load`: each plays whole conversations with the chat API.

A user signs in as one generated load customer (its own tenant slots, see
`seed.add_load_data`), then repeats: list projects, schedule project 1 or 2, pick a date,
pick a time, yes; now and then it also adds a note or cancels project 3. Every booking the
agent tells the user about ("is booked for") is appended to $LOAD_TOLD_FILE, so the runner
can hold the sandbox ledger against what users were told. A reply with a non-200 status or
"Something went wrong" counts as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
from typing import Any

from locust import HttpUser, between, task

from infra.local.dev_tokens import mint_customer_token
from tests.load.customers import across_tenants

CUSTOMERS = across_tenants(json.loads(os.environ.get("LOAD_CUSTOMERS", "[]")))
TOLD_FILE = os.environ.get("LOAD_TOLD_FILE", "build/load-told.jsonl")
_next_customer = itertools.count()
_told_lock = threading.Lock()
FAILURE_PHRASES = ("Something went wrong", "try again in a moment")
# The answer of a booking whose outcome the assistant could not know in time (an error for
# the turn; for the ledger check neither told booked nor told not booked).
UNKNOWN_PHRASE = "can't tell yet"


def project_ids(customer_id: str) -> dict[int, str]:
    """The generated projects of a load customer (see seed.add_load_data)."""
    tenant, number = int(customer_id[1:3]), int(customer_id[3:])
    base = 500000 + tenant * 1000 + number * 10
    return {1: str(base + 1), 2: str(base + 2), 3: str(base + 3)}


class ChatUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        customer = CUSTOMERS[next(_next_customer) % len(CUSTOMERS)]
        self.customer_id = customer["customer_id"]
        self.token = mint_customer_token(customer["customer_id"], customer["client_id"])
        self.session_id: str | None = None
        self.unknown = ""  # the last answer, when it said the outcome is not known yet

    def say(self, message: str, name: str) -> dict[str, Any] | None:
        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        with self.client.post(
            "/api/chat/simple",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return None
            reply: dict[str, Any] = response.json()
            text = str(reply.get("response", ""))
            self.unknown = text if UNKNOWN_PHRASE in text else ""
            if self.unknown or any(phrase in text for phrase in FAILURE_PHRASES):
                response.failure(text[:120])
                return None
            response.success()
            self.session_id = reply.get("session_id") or self.session_id
            return reply

    @task(8)
    def book(self) -> None:
        self.session_id = None  # a whole new conversation
        if self.say("show my projects", "1 list") is None:
            return
        number = random.choice((1, 2))
        dates = self.say(f"schedule project {number}", "2 dates")
        if not dates or not dates.get("choices"):
            return
        date_choices = [c for c in dates["choices"] if any(ch.isdigit() for ch in c)]
        if not date_choices:
            return
        times = self.say(random.choice(date_choices), "3 time slots")
        if not times:
            return
        time_choices = [c for c in times.get("choices") or [] if ":" in c]
        if not time_choices:
            return
        question = self.say(random.choice(time_choices), "4 pick time")
        if not question or "Shall I book" not in str(question.get("response", "")):
            return
        answer = self.say("yes", "5 confirm")
        if self.unknown:
            self.record(number, "unknown", self.unknown)  # told: can't tell yet
        elif answer and "is booked for" in str(answer.get("response", "")):
            self.record(number, "booked", str(answer["response"]))

    def record(self, number: int, told: str, response: str) -> None:
        """What this user was told about a booking, for the ledger check."""
        with _told_lock, open(TOLD_FILE, "a", encoding="utf-8") as told_file:
            entry = {
                "customer_id": self.customer_id,
                "project_id": project_ids(self.customer_id)[number],
                "told": told,
                "response": response,
            }
            told_file.write(json.dumps(entry) + "\n")

    @task(1)
    def note(self) -> None:
        self.session_id = None
        self.say("show my projects", "1 list")
        self.say(f"add a note to project 1: gate code {random.randint(1000, 9999)}", "6 note")

    @task(1)
    def cancel(self) -> None:
        self.session_id = None
        self.say("show my projects", "1 list")
        question = self.say("cancel project 3", "7 cancel")
        if question and "Shall I cancel" in str(question.get("response", "")):
            self.say("yes, cancel it", "8 cancel yes")
