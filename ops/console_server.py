"""`schedctl console`: the operations console on the operator's own machine.

Served on 127.0.0.1 only (no public endpoint on AWS), against any environment, with the
operator's AWS credentials (profile or environment). Replays need the token printed at
start-up (or OPS_TOKEN); the audit records the operator's name and their STS identity.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Flask, redirect
from waitress.server import create_server
from werkzeug.wrappers import Response

from ops.context import OpsContext
from ops.web import ops_console

LOOPBACK = "127.0.0.1"


def console_app(ctx: OpsContext, ops_token: str) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def home() -> Response:
        return redirect("/ops/")

    app.register_blueprint(ops_console(lambda: ctx, ops_token))
    return app


def serve(
    ctx: OpsContext,
    *,
    port: int,
    ops_token: str | None,
    announce: Callable[[str], None],
) -> None:
    """Serve until interrupted; `announce` gets the lines to show the operator."""
    token = ops_token or secrets.token_urlsafe(18)
    server = create_server(console_app(ctx, token), host=LOOPBACK, port=port, threads=4)
    announce(f"Ops console : http://{LOOPBACK}:{server.effective_port}/ops/")
    announce(f"Environment : {ctx.environment}  (AWS identity: {ctx.caller_identity})")
    announce(f"Replay token: {'from OPS_TOKEN' if ops_token else token}")
    announce("Ctrl-C stops it.")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
