"""A pytest plugin that switches one workaround of infra/local/moto_gaps.py off.

    MOTO_GAP_DISABLED=ttl_sweeper python -m pytest -p tests.moto_gap_switch tests/integration/...

It patches before the local stack starts (at configure time), so the stack runs on moto as
moto is for that one gap. Used by tests/moto_gaps_proof.py (`make moto-gaps-proof`) to show
that each workaround has a test that fails without it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from infra.local import moto_gaps

ENV = "MOTO_GAP_DISABLED"


def _without_lambda_runtime() -> None:
    moto_gaps.install_lambda_runtime = lambda base_environ, **options: moto_gaps.RUNTIME


def _clock_without(restore: Callable[[], None]) -> None:
    original = moto_gaps.install_virtual_clock

    def install() -> moto_gaps.VirtualClock:
        clock = original()
        restore()
        return clock

    moto_gaps.install_virtual_clock = install


def _real_retry_sleep() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    retrier_decl.time = time


def _real_state_timeout() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    execute_state.threading = threading


def _real_callback_wait() -> None:
    from moto.stepfunctions.parser.asl.eval.callback import callback

    callback.Event = threading.Event  # type: ignore[misc]


def _noop(name: str) -> Callable[[], None]:
    def disable() -> None:
        setattr(moto_gaps, name, lambda *args, **kwargs: None)

    return disable


def _werkzeug_server() -> None:
    """moto's own ThreadedMotoServer (werkzeug's development server) instead."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    class WerkzeugServer(ThreadedMotoServer):
        def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
            super().__init__(ip_address=ip_address, port=port, verbose=False)

        @property
        def app(self) -> Any:
            return self._server.app  # type: ignore[union-attr]

        @app.setter
        def app(self, value: Any) -> None:
            self._server.app = value  # type: ignore[union-attr]

    moto_gaps.KeepAliveMotoServer = WerkzeugServer  # type: ignore[misc,assignment]


def _no_sweep() -> None:
    moto_gaps.sweep_expired_items = lambda *args, **kwargs: 0


SWITCHES: dict[str, Callable[[], Any]] = {
    "lambda_runtime": _without_lambda_runtime,
    "retry_clock": lambda: _clock_without(_real_retry_sleep),
    "state_timeout_clock": lambda: _clock_without(_real_state_timeout),
    "callback_clock": lambda: _clock_without(_real_callback_wait),
    "send_task_failure_cause": _noop("install_send_task_failure_cause"),
    "mock_config_loader": _noop("install_mock_config_loader"),
    "ttl_sweeper": _no_sweep,
    "strict_error_matching": _noop("install_strict_error_matching"),
    "mocked_states_errors": _noop("install_mocked_states_errors"),
    "virtual_wait_states": _noop("install_virtual_wait_states"),
    "appconfig": _noop("install_appconfig_gaps"),
    "engine_caches": _noop("install_engine_caches"),
    "dispatch_cache": _noop("install_dispatch_cache"),
    "token_per_attempt": _noop("install_token_per_attempt"),
    "fast_attribute_values": _noop("install_fast_attribute_values"),
    "keep_alive_server": _werkzeug_server,
    "isolated_dynamodb_requests": _noop("install_isolated_dynamodb_requests"),
    "fast_update_item": _noop("install_fast_update_item"),
    "task_flushed_channel": _noop("task_flushed_channel"),
    "execution_scan_guard": _noop("install_execution_scan_guard"),
    "engine_invokes_in_process": _noop("install_engine_invokes_in_process"),
    "fast_random_strings": _noop("install_fast_random_strings"),
}


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get(ENV, "")
    if not name:
        return
    if name not in SWITCHES:
        raise pytest.UsageError(f"{ENV}={name!r}: pick one of {', '.join(SWITCHES)}")
    SWITCHES[name]()
