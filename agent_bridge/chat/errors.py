"""Errors of the agent runtimes, with a sentence for the customer and a reason for operators."""

from __future__ import annotations


class AgentUnavailable(Exception):
    """The agent could not answer; `message` is a sentence the customer can act on."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
