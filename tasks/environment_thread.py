"""A thread of the execution environment's own, for a call that overlaps the handler's.

Used where two calls of one invocation do not depend on each other: the bridge's checkpoint
read beside its session check, a task's flag document beside its token read.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class EnvironmentThread:
    """One worker thread per execution environment, made in that environment's own process
    (never one inherited through a fork, whose thread would not exist)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool: tuple[int, ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pool[0] != os.getpid():
                self._pool = (
                    os.getpid(),
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name),
                )
            return self._pool[1]

    def submit(self, call: Callable[..., T], *args: Any) -> Future[T]:
        """Run `call(*args)` in the thread, in the caller's context (the function's
        environment and everything else kept in context variables go along, as they would
        for a call made in the handler's own thread)."""
        return self._executor().submit(contextvars.copy_context().run, call, *args)
