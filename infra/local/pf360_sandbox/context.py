"""Where the views find the sandbox state: one SandboxState per Flask app."""

from __future__ import annotations

from typing import cast

from flask import current_app

from .state import SandboxState

EXTENSION_KEY = "pf360_sandbox"
CONTROL_PREFIX = "/__sandbox"
# The sandbox's request handler copies the `client_id` header here, because werkzeug's
# server drops headers whose names contain underscores from the WSGI environ.
CLIENT_ID_HEADER_ENVIRON_KEY = "pf360.client_id_header"


def current_state() -> SandboxState:
    """The state of the app handling this request."""
    return cast(SandboxState, current_app.extensions[EXTENSION_KEY])
