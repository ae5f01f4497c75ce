"""`make sfn-local` without a Docker engine stops at once with a sentence saying why."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from infra.local import sfn_local


def test_without_the_docker_command_it_stops_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sfn_local.shutil, "which", lambda name: None)
    started = time.monotonic()
    assert sfn_local.main([]) == sfn_local.NO_DOCKER_EXIT
    assert time.monotonic() - started < 5
    error = capsys.readouterr().err
    assert "make sfn-local needs Docker, but the docker command is not installed" in error
    assert "make test" in error


def test_without_a_docker_engine_it_names_the_engine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sfn_local.shutil, "which", lambda name: "/usr/bin/docker")

    def no_engine(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            args[0], 1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
        )

    monkeypatch.setattr(sfn_local.subprocess, "run", no_engine)
    assert sfn_local.main([]) == sfn_local.NO_DOCKER_EXIT
    assert "no Docker engine is running (Cannot connect" in capsys.readouterr().err
