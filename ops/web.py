"""The operations console on the web: the same views as `schedctl`, for a browser.

`ops_console(ctx_factory, ops_token)` is a Flask blueprint mounted under `/ops`:

    GET  /ops/                           executions, filtered and paged
    GET  /ops/executions/<name>          one execution as a timeline, its replay plan, its audit
    POST /ops/executions/<name>/replay   replay a failed booking (ops token + confirmation)
    POST /ops/executions/<name>/stop     stop a flow waiting for the customer (token, reason)
    GET  /ops/failures                   failed bookings by class and error code
    GET  /ops/overview                   the booking funnel over a period, as a chart

Every page reads the ops core (ops/executions, timeline, failures, replay); nothing here
talks to AWS on its own. Reading needs no token; acting does: a replay needs the ops token
(form field `ops_token` or header `X-Ops-Token`), `confirm=yes` and an operator name for
the audit. Without a configured token the console is read-only. Add `?format=json` to any
page for the same data as JSON. Every replay or stop attempt is audited, refused ones
(no token configured, a wrong token, not confirmed) included.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Response, jsonify, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ops import audit as audit_log
from ops.annotate import annotate
from ops.context import OpsContext, OpsError
from ops.executions import ExecutionRow, list_executions
from ops.failures import group_failures, triaged_failures
from ops.funnel import booking_funnel
from ops.funnel import render_svg as funnel_svg
from ops.graph import definition_for, marks_of
from ops.graph import render_svg as graph_svg
from ops.replay import ReplayPlan, audit_trail, plan_replay, run_replay
from ops.stop import MAX_REASON_CHARS, stop_flow
from ops.timeline import Step, Timeline, add_audit_events, build_timeline, recorded_choice
from ops.triage import CLASS_TEXT, CLASSES, filter_rows

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Ops-Token"
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
KINDS = ("booking", "replay", "cancellation", "all")
FILTER_NAMES = (
    "status",
    "kind",
    "client",
    "customer",
    "project",
    "order",
    "name",
    "since",
    "class",
    "repair",
)
REPAIRS = ("open", "repaired")
PAGE_SIZE = 25
MAX_OPERATOR_CHARS = 64
MAX_FILTER_CHARS = 64
REPLAY_WAIT_SECONDS = 30.0
_EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_RELATIVE = re.compile(r"^(\d{1,4})\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The pages load one stylesheet from /ops/static and nothing else; forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

READ_ONLY = "Read-only: replaying needs the ops token."
TOKEN_OFF = (
    "Replay is turned off on this server: no ops token is configured, so the console is "
    "read-only. Nothing was started."
)
TOKEN_WRONG = (
    "Replaying needs the ops token, and the one given is missing or wrong. Nothing was started."
)
NOT_CONFIRMED = "Tick the confirmation box to replay; nothing was started."
STOP_TOKEN_OFF = (
    "Stopping is turned off on this server: no ops token is configured, so the console is "
    "read-only. Nothing was stopped."
)
STOP_TOKEN_WRONG = (
    "Stopping needs the ops token, and the one given is missing or wrong. Nothing was stopped."
)
STOP_NOT_CONFIRMED = "Tick the confirmation box to stop the flow; nothing was stopped."
NO_REASON = f"Give a reason (at most {MAX_REASON_CHARS} characters); the audit keeps it."


class _Refusal(Exception):
    """A request the console turns down: an HTTP status and a sentence for the operator."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class _LazyContext:
    """One OpsContext per console, built on first use: importing or mounting the console must
    not call AWS, and its boto3 clients (thread-safe) are worth reusing across requests. A
    factory that fails is tried again on the next request."""

    def __init__(self, factory: Callable[[], OpsContext]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._ctx: OpsContext | None = None

    def get(self) -> OpsContext:
        with self._lock:
            if self._ctx is None:
                self._ctx = self._factory()
            return self._ctx


class _SourceLocks:
    """One lock per source execution, so two operators clicking Replay together in this
    process get one replay and one refusal (plan and start are not atomic in the core)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def of(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


# --------------------------------------------------------------------------- reading input


def parse_since(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """`30m`, `6h`, `2d`, `1w` ago, or an ISO date/time (UTC unless it says otherwise)."""
    text = (text or "").strip()
    if not text:
        return None
    relative = _RELATIVE.match(text.lower())
    if relative:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Refusal(
            400, f"'since' must be like 30m, 6h, 2d, 1w or 2025-01-31T09:00; got {text[:40]!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filter_value(args: MultiDict[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > MAX_FILTER_CHARS or _CONTROL.search(value):
        raise _Refusal(400, f"The {name} filter must be at most {MAX_FILTER_CHARS} characters.")
    return value or None


def _list_filters(args: MultiDict[str, str]) -> dict[str, Any]:
    """The list page's filters, checked; a wrong one is a sentence, not a stack trace."""
    status = (args.get("status") or "").strip().upper() or None
    if status and status not in STATUSES:
        raise _Refusal(400, f"Status must be one of {', '.join(STATUSES)}.")
    kind = (args.get("kind") or "booking").strip().lower()
    if kind not in KINDS:
        raise _Refusal(400, f"Kind must be one of {', '.join(KINDS)}.")
    client, customer, project, order, name = (
        _filter_value(args, n) for n in ("client", "customer", "project", "order", "name")
    )
    return {
        "order_number": order,
        "customer_name": name,
        "status": status,
        "kind": kind,
        "client_id": client,
        "customer_id": customer,
        "project_id": project,
        "since": parse_since(args.get("since")),
    }


def _triage_filters(args: MultiDict[str, str]) -> tuple[str | None, str | None]:
    """The class and repair filters, as `schedctl --class/--repair` takes them."""
    failure_class = (args.get("class") or "").strip().lower() or None
    if failure_class and failure_class not in CLASSES:
        raise _Refusal(400, f"Class must be one of {', '.join(CLASSES)}.")
    repair = (args.get("repair") or "").strip().lower() or None
    if repair and repair not in REPAIRS:
        raise _Refusal(400, f"Repair must be one of {', '.join(REPAIRS)}.")
    return failure_class, repair


def _operator(form: MultiDict[str, str]) -> str:
    """Who is replaying, for the audit: required, one line, at most 64 characters."""
    operator = (form.get("operator") or "").strip()
    if not operator:
        raise _Refusal(400, "Give your name as the operator; the audit records who replayed.")
    if len(operator) > MAX_OPERATOR_CHARS or _CONTROL.search(operator):
        raise _Refusal(
            400, f"The operator name must be one line of at most {MAX_OPERATOR_CHARS} characters."
        )
    return operator


def _token_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison (as bytes, so any text is comparable)."""
    return bool(given) and hmac.compare_digest(str(given).encode("utf-8"), expected.encode("utf-8"))


def _wants_json() -> bool:
    return request.args.get("format") == "json"


# --------------------------------------------------------------------------- presenting


def when(stamp: str | None) -> str:
    """`2025-01-31 09:00:12 UTC` from an ISO timestamp; operators read it, scripts use JSON."""
    if not stamp:
        return "—"
    text = stamp.replace("T", " ").removesuffix("Z")
    return f"{text.split('.')[0]} UTC"


def clock(stamp: str | None, day: str) -> str:
    """A state's entry as `09:59:30.463` on the execution's first day (the date is in the
    header; the milliseconds show what ran when), the full time on any later day."""
    if not stamp:
        return "—"
    if stamp.startswith(day + "T"):
        return stamp[len(day) + 1 :].removesuffix("Z")
    return when(stamp)


def duration(seconds: float | None) -> str:
    """Short and human: `70 ms`, `4.2 s`, `3 min 04 s`, `2 h 05 min`, `3 d 4 h`."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"


def failure_summary(step: Step) -> str:
    """`PF360_UNAVAILABLE (4 times)` for the failed attempts of one state."""
    counts = Counter(step.failures)
    return ", ".join(
        f"{error} ({count} times)" if count > 1 else error for error, count in counts.items()
    )


def chosen_text(chosen: dict[str, Any] | None) -> str:
    """What the customer answered at a wait: the date or the time itself, else key: value."""
    if not chosen:
        return ""
    return ", ".join(
        str(value) if key in ("date", "time") else f"{key}: {value}"
        for key, value in chosen.items()
    )


def name_of(arn: str | None) -> str:
    return (arn or "").rsplit(":", 1)[-1]


def _present(status: int, template: str, **values: Any) -> tuple[str, int]:
    return render_template(f"ops/{template}", **values), status


def _sentence(status: int, message: str) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify({"error": message}), status
    return _present(status, "message.html", title="Not done", message=message)


# --------------------------------------------------------------------------- the blueprint


def ops_console(
    ctx_factory: Callable[[], OpsContext],
    ops_token: str | None,
    *,
    replay_wait_seconds: float = REPLAY_WAIT_SECONDS,
) -> Blueprint:
    """The console, read-only when `ops_token` is empty. `ctx_factory` is called once, on the
    first request, so mounting the console never blocks start-up on AWS."""
    bp = Blueprint(
        "ops",
        __name__,
        url_prefix="/ops",
        template_folder="templates",
        static_folder="static",
    )
    contexts = _LazyContext(ctx_factory)
    locks = _SourceLocks()
    can_replay = bool(ops_token)

    @bp.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "when": when,
            "clock": clock,
            "duration": duration,
            "failure_summary": failure_summary,
            "name_of": name_of,
            "chosen_text": chosen_text,
            "can_replay": can_replay,
            "read_only_notice": READ_ONLY,
        }

    @bp.after_request
    def secure(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            if header == "Cache-Control" and request.endpoint == "ops.static":
                continue  # the stylesheet may be cached; pages with customer data may not
            response.headers.setdefault(header, value)
        return response

    @bp.errorhandler(_Refusal)
    def refused(error: _Refusal) -> tuple[Response | str, int]:
        return _sentence(error.status, error.message)

    @bp.errorhandler(OpsError)
    def misconfigured(error: OpsError) -> tuple[Response | str, int]:
        return _sentence(503, str(error))

    @bp.errorhandler(ClientError)
    @bp.errorhandler(BotoCoreError)
    def aws_failed(error: Exception) -> tuple[Response | str, int]:
        log.warning("ops console: AWS call failed: %s", error)
        return _sentence(502, f"An AWS call failed, so this page could not be built: {error}")

    def resolve(name: str) -> tuple[OpsContext, str]:
        """The context and the execution's ARN; an unknown name is a 404 sentence."""
        ctx = contexts.get()
        _ = ctx.machines  # a missing state machine is a configuration error (503), not a 404
        if not _EXECUTION_NAME.match(name):
            raise _Refusal(404, "That is not an execution name.")
        try:
            return ctx, ctx.arn_for(name)
        except OpsError as error:
            raise _Refusal(404, str(error)) from None

    @bp.get("/")
    def executions() -> tuple[Response | str, int]:
        try:
            filters = _list_filters(request.args)
            failure_class, repair = _triage_filters(request.args)
        except _Refusal as error:
            if _wants_json():
                raise
            return _present(error.status, "list.html", **_list_page([], None, error.message))
        token = request.args.get("page") or None
        try:
            page = list_executions(contexts.get(), limit=PAGE_SIZE, page_token=token, **filters)
        except ValueError as error:
            raise _Refusal(400, str(error)) from None
        page.rows[:] = filter_rows(annotate(contexts.get(), page.rows), failure_class, repair)
        if _wants_json():
            body = {"executions": [r.to_dict() for r in page.rows], "next": page.next_token}
            return jsonify(body), 200
        return _present(200, "list.html", **_list_page(page.rows, page.next_token, None))

    @bp.get("/executions/<name>")
    def execution(name: str) -> tuple[Response | str, int]:
        ctx, arn = resolve(name)
        timeline = build_timeline(ctx, arn)
        timeline.execution = annotate(ctx, [timeline.execution])[0]
        plan = plan_replay(ctx, arn) if timeline.execution.kind != "cancellation" else None
        audit = audit_trail(ctx, timeline.execution.name)
        add_audit_events(timeline, audit)
        if _wants_json():
            return jsonify(_detail_json(timeline, plan, audit)), 200
        choice = recorded_choice(timeline)
        machine = "cancellation" if timeline.execution.kind == "cancellation" else "booking"
        definition = definition_for(ctx, arn, ctx.machines[machine])
        return _present(
            200,
            "detail.html",
            timeline=timeline,
            row=timeline.execution,
            plan=plan,
            audit=audit,
            choice=choice,
            graph=Markup(  # noqa: S704 - ops/graph.py escapes every name and label it draws
                graph_svg(definition, marks_of(timeline), title=f"{name}: the path taken")
            ),
            class_text=CLASS_TEXT,
        )

    def refuse_audited(action: str, name: str, status: int, message: str) -> _Refusal:
        """A refused act, recorded in the audit before it is answered (best effort: a
        console that cannot reach AWS still refuses)."""
        operator = (request.form.get("operator") or "").strip()[:MAX_OPERATOR_CHARS]
        if _EXECUTION_NAME.match(name):
            try:
                audit_log.record(
                    contexts.get(),
                    action=action,
                    source_name=name,
                    operator=f"{operator or 'anonymous'} (unverified)",
                    result=f"refused: {message}",
                    reason=(request.form.get("reason") or "").strip()[:MAX_REASON_CHARS] or None,
                    channel="console",
                )
            except Exception:
                log.exception("ops console: could not audit a refused %s of %s", action, name)
        return _Refusal(status, message)

    def check_token(action: str, name: str, off: str, wrong: str) -> None:
        if not ops_token:
            raise refuse_audited(action, name, 403, off)
        given = request.headers.get(TOKEN_HEADER) or request.form.get("ops_token")
        if not _token_ok(ops_token, given):
            log.warning("ops console: %s of %s refused, missing or wrong ops token", action, name)
            raise refuse_audited(action, name, 403, wrong)

    @bp.post("/executions/<name>/replay")
    def replay(name: str) -> tuple[Response | str, int]:
        check_token(audit_log.REPLAY, name, TOKEN_OFF, TOKEN_WRONG)
        if request.form.get("confirm") != "yes":
            raise refuse_audited(audit_log.REPLAY, name, 400, NOT_CONFIRMED)
        operator = _operator(request.form)
        ctx, arn = resolve(name)
        with locks.of(arn):
            plan = plan_replay(ctx, arn)
            result = run_replay(
                ctx,
                plan,
                operator=operator,
                wait_seconds=replay_wait_seconds,
                channel="console",
            )
        log.info("ops console: %s replayed %s: %s", operator, name, result.result)
        status = 200 if result.started else 409
        if _wants_json():
            return jsonify(result.to_dict()), status
        return _present(status, "replay.html", result=result, source=plan.source)

    @bp.post("/executions/<name>/stop")
    def stop(name: str) -> tuple[Response | str, int]:
        check_token(audit_log.STOP, name, STOP_TOKEN_OFF, STOP_TOKEN_WRONG)
        if request.form.get("confirm") != "yes":
            raise refuse_audited(audit_log.STOP, name, 400, STOP_NOT_CONFIRMED)
        reason = (request.form.get("reason") or "").strip()
        if not reason or len(reason) > MAX_REASON_CHARS or _CONTROL.search(reason):
            raise refuse_audited(audit_log.STOP, name, 400, NO_REASON)
        operator = _operator(request.form)
        ctx, arn = resolve(name)
        with locks.of(arn):
            result = stop_flow(ctx, arn, reason=reason, operator=operator, channel="console")
        log.info("ops console: %s stopped %s: %s", operator, name, result.result)
        status = 200 if result.stopped else 409
        if _wants_json():
            return jsonify(result.to_dict()), status
        return _present(status, "stopped.html", result=result)

    @bp.get("/failures")
    def failures() -> tuple[Response | str, int]:
        since = parse_since(request.args.get("since"))
        failure_class, repair = _triage_filters(request.args)
        rows = triaged_failures(
            contexts.get(),
            since=since,
            failure_class=failure_class,
            repaired=None if repair is None else repair == "repaired",
        )
        groups = group_failures(rows)
        if _wants_json():
            return jsonify({"groups": [g.to_dict() for g in groups]}), 200
        return _present(
            200,
            "failures.html",
            groups=groups,
            args=request.args,
            classes=CLASSES,
            class_text=CLASS_TEXT,
            repairs=REPAIRS,
        )

    @bp.get("/overview")
    def overview() -> tuple[Response | str, int]:
        text = request.args.get("since") or "7d"
        since = parse_since(text) or parse_since("7d")
        until = parse_since(request.args.get("until"))
        assert since is not None
        funnel = booking_funnel(contexts.get(), since, until)
        if _wants_json():
            return jsonify(funnel.to_dict()), 200
        return _present(
            200,
            "overview.html",
            funnel=funnel,
            chart=Markup(funnel_svg(funnel)),  # noqa: S704 - ops/funnel.py escapes its text
            since_text=text,
            args=request.args,
        )

    return bp


def _list_page(
    rows: list[ExecutionRow], next_token: str | None, error: str | None
) -> dict[str, Any]:
    """What the list template needs besides the helpers: the filters as given, to refill
    the form and carry them into the next page's link."""
    kept: dict[str, Any] = {
        name: request.args[name] for name in FILTER_NAMES if request.args.get(name)
    }
    return {
        "args": request.args,
        "rows": rows,
        "first_url": url_for("ops.executions", **kept),
        "next_url": url_for("ops.executions", **kept, page=next_token) if next_token else None,
        "paged": bool(request.args.get("page")),
        "error": error,
        "statuses": STATUSES,
        "kinds": KINDS,
        "classes": CLASSES,
        "repairs": REPAIRS,
    }


def _detail_json(
    timeline: Timeline, plan: ReplayPlan | None, audit: list[dict[str, Any]]
) -> dict[str, Any]:
    return {**timeline.to_dict(), "replay": plan.to_dict() if plan else None, "audit": audit}
