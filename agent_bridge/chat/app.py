"""The chat API (Flask): where the customer's identity enters, and the only place it is checked.

`POST /api/chat/simple` with `Authorization: Bearer <JWT>` and `{"message", "session_id"?}`
answers `{"response", "session_id", "timestamp", "choices", "working", "cards"}`; `working`
means the turn is still running (a follow-up message such as "Is it done yet?" fetches the
result) and `cards` are projects to show as cards. The token is validated, kept
in the session store for the PF360 calls, and never handed to the agent: the agent gets
only the session id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from agent_bridge.chat.auth import AuthError, Identity, TokenValidator
from agent_bridge.chat.errors import AgentUnavailable
from agent_bridge.chat.runtime import AgentReply, AgentRuntime
from agent_bridge.flow_driver import STILL_WORKING_MESSAGE
from agent_bridge.sessions import SessionStore
from tasks.pf360.errors import redact

MAX_MESSAGE_CHARS = 2000
MAX_BODY_BYTES = 16 * 1024
STATIC_DIR = Path(__file__).resolve().parent / "static"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def create_app(
    *,
    validator: TokenValidator,
    sessions: SessionStore,
    runtime: AgentRuntime,
    environment: str,
    local_sign_in: Callable[[], list[dict[str, str]]] | None = None,
    mint_local_token: Callable[[str], str] | None = None,
) -> Flask:
    """The chat API. `local_sign_in`/`mint_local_token` exist only in local mode."""
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    log = app.logger

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        if status == 413:
            return _error(413, "That message is too long; please keep it under 2000 characters.")
        return _error(status, error.description or "That request could not be handled.")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True, "environment": environment})

    @app.get("/")
    def index() -> Response:
        return send_from_directory(STATIC_DIR, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC_DIR, name)

    @app.post("/api/chat/simple")
    def chat_simple() -> tuple[Response, int]:
        try:
            identity = validator.validate(request.headers.get("Authorization"))
        except AuthError as error:
            log.info("chat refused: %s", error.reason)
            return _error(401, error.message)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, 'Send a JSON object like {"message": "show my projects"}.')
        message, session_id = body.get("message"), body.get("session_id")
        if not isinstance(message, str) or not message.strip():
            return _error(400, "Please type a message.")
        if len(message) > MAX_MESSAGE_CHARS:
            return _error(413, "That message is too long; please keep it under 2000 characters.")
        if session_id is not None and (
            not isinstance(session_id, str) or not _SESSION_ID.match(session_id)
        ):
            return _error(400, "session_id must be the id this API returned earlier.")
        try:
            session_id = open_session(sessions, identity, session_id, environment)
        except PermissionError:
            log.warning(
                "security event: session of another customer",
                extra={"security_event": "SESSION_HIJACK", "customer_id": identity.customer_id},
            )
            return _error(403, "This chat session belongs to someone else; start a new chat.")
        try:
            reply = runtime.ask(session_id, message.strip())
        except AgentUnavailable as error:
            log.warning("agent unavailable: %s", error.reason)
            return _error(503, error.message)
        except Exception as error:
            log.error("agent failed: %s", redact(str(error), [identity.token]))
            return _error(
                503, "The assistant is not available right now; please try again shortly."
            )
        return jsonify(reply_body(reply, session_id)), 200

    if local_sign_in is not None and mint_local_token is not None:
        list_customers, mint = local_sign_in, mint_local_token

        @app.get("/api/local/customers")
        def local_customers() -> Response:
            return jsonify({"customers": list_customers()})

        @app.post("/api/local/sign-in")
        def local_token() -> tuple[Response, int]:
            body = request.get_json(silent=True)
            customer_id = body.get("customer_id") if isinstance(body, dict) else None
            known = {c["customer_id"] for c in list_customers()}
            if not isinstance(customer_id, str) or customer_id not in known:
                return _error(400, "Pick one of the sandbox customers to sign in as.")
            return jsonify({"token": mint(customer_id)}), 200

    return app


def reply_body(reply: AgentReply, session_id: str) -> dict[str, object]:
    """The answer as JSON. `working`: the turn is still running; the page asks again (any
    agent's "still working" sentence counts, Bedrock's too). `cards`: projects to show."""
    working = reply.working or STILL_WORKING_MESSAGE[:28] in reply.text
    return {
        "response": reply.text,
        "session_id": session_id,
        "timestamp": time.time(),
        "choices": list(reply.choices),
        "working": working,
        "cards": list(reply.cards),
    }


def open_session(
    sessions: SessionStore, identity: Identity, session_id: str | None, environment: str
) -> str:
    """Continue the caller's own session, or start one; another customer's -> PermissionError."""
    if session_id:
        record = sessions.get(session_id)
        if record is not None:
            if (record.customer_id, record.client_id) != (identity.customer_id, identity.client_id):
                raise PermissionError(session_id)
            sessions.refresh_token(session_id, identity.token)
            return session_id
        owner = sessions.owner(session_id)
        if owner is not None and owner != (identity.customer_id, identity.client_id):
            raise PermissionError(session_id)
    record = sessions.create(
        customer_id=identity.customer_id,
        client_id=identity.client_id,
        client_name=identity.client_name,
        environment=environment,
        auth_token=identity.token,
        customer_name=identity.name,
    )
    return record.session_id
