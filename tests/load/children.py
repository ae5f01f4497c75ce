"""The child processes of `make load` (the serving stack, the chat API)."""

from __future__ import annotations

import subprocess


def end_child(process: subprocess.Popen[str]) -> None:
    """Closing its stdin asks the child to stop; one that has not within 30 s is killed."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
