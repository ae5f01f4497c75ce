"""The environment's own thread: calls run there in the caller's context, and a process
made by a fork gets a thread of its own instead of the parent's (which would not exist)."""

from __future__ import annotations

import contextvars
import threading

import pytest

from tasks import environment_thread
from tasks.environment_thread import EnvironmentThread

CURRENT_FUNCTION: contextvars.ContextVar[str] = contextvars.ContextVar("current_function")


def test_a_call_runs_in_the_thread_with_the_callers_context() -> None:
    thread = EnvironmentThread("test-thread")
    CURRENT_FUNCTION.set("scheduling-actions")
    seen = thread.submit(lambda: (threading.current_thread().name, CURRENT_FUNCTION.get()))
    name, function = seen.result(timeout=5)
    assert name.startswith("test-thread")
    assert function == "scheduling-actions"


def test_a_forked_process_gets_its_own_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = EnvironmentThread("test-thread")
    first = thread.submit(threading.get_ident).result(timeout=5)
    assert thread.submit(threading.get_ident).result(timeout=5) == first  # one thread, reused
    monkeypatch.setattr(environment_thread.os, "getpid", lambda: -1)  # as after a fork
    assert thread.submit(threading.get_ident).result(timeout=5) != first
