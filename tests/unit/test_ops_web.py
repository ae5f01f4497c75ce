"""The ops console's rules that need no AWS: reading filters and times, and refusing a
replay (no token configured, a wrong or missing token, no confirmation, no operator)
before the console ever builds its AWS context."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ops.context import OpsContext
from ops.web import (
    NO_REASON,
    NOT_CONFIRMED,
    SECURITY_HEADERS,
    STOP_NOT_CONFIRMED,
    STOP_TOKEN_OFF,
    STOP_TOKEN_WRONG,
    TOKEN_OFF,
    TOKEN_WRONG,
    clock,
    duration,
    ops_console,
    parse_since,
)

TOKEN = "a-long-enough-ops-token"
NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def no_aws() -> OpsContext:
    raise AssertionError("the console must not reach AWS for this request")


def client(token: str | None = TOKEN) -> FlaskClient:
    app = Flask(__name__)
    app.register_blueprint(ops_console(no_aws, token))
    return app.test_client()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", datetime(2025, 1, 31, 11, 30, tzinfo=UTC)),
        ("6h", datetime(2025, 1, 31, 6, 0, tzinfo=UTC)),
        ("2d", datetime(2025, 1, 29, 12, 0, tzinfo=UTC)),
        ("1w", datetime(2025, 1, 24, 12, 0, tzinfo=UTC)),
        ("2025-01-30", datetime(2025, 1, 30, tzinfo=UTC)),
        ("2025-01-30T09:15Z", datetime(2025, 1, 30, 9, 15, tzinfo=UTC)),
        ("", None),
    ],
)
def test_since_is_relative_or_an_iso_time_in_utc(text: str, expected: datetime | None) -> None:
    assert parse_since(text, now=NOW) == expected


def test_times_read_like_a_person_wrote_them() -> None:
    assert [duration(s) for s in (0.0014, 0.44, 4.25, 184, 7500, 97200, None)] == [
        "1 ms", "440 ms", "4.2 s", "3 min 04 s", "2 h 05 min", "1 d 3 h", "—",
    ]  # fmt: skip
    assert clock("2025-01-31T09:59:30.463Z", "2025-01-31") == "09:59:30.463"
    assert clock("2025-02-01T00:00:01.000Z", "2025-01-31") == "2025-02-01 00:00:01 UTC"


def test_a_wrong_filter_is_a_sentence() -> None:
    response = client().get("/ops/?since=yesterday")
    assert response.status_code == 400
    assert "&#39;since&#39; must be like 30m" in response.get_data(as_text=True)
    as_json = client().get("/ops/?status=DONE&format=json")
    assert as_json.status_code == 400 and "Status must be one of" in as_json.get_json()["error"]


@pytest.mark.parametrize(
    ("token", "form", "headers", "status", "sentence"),
    [
        (None, {"confirm": "yes", "operator": "ada", "ops_token": TOKEN}, {}, 403, TOKEN_OFF),
        (TOKEN, {"confirm": "yes", "operator": "ada"}, {}, 403, TOKEN_WRONG),
        (TOKEN, {"confirm": "yes", "operator": "ada", "ops_token": "nope"}, {}, 403, TOKEN_WRONG),
        (TOKEN, {"confirm": "yes", "operator": "ada"}, {"X-Ops-Token": "é"}, 403, TOKEN_WRONG),
        (TOKEN, {"operator": "ada"}, {"X-Ops-Token": TOKEN}, 400, NOT_CONFIRMED),
        (TOKEN, {"confirm": "yes"}, {"X-Ops-Token": TOKEN}, 400, "Give your name"),
        (TOKEN, {"confirm": "yes", "operator": "x" * 65}, {"X-Ops-Token": TOKEN}, 400, "64"),
    ],
)
def test_a_replay_is_refused_before_anything_happens(
    token: str | None, form: dict[str, str], headers: dict[str, str], status: int, sentence: str
) -> None:
    response = client(token).post(
        "/ops/executions/book-x/replay?format=json", data=form, headers=headers
    )
    assert response.status_code == status
    assert sentence in response.get_json()["error"]


@pytest.mark.parametrize(
    ("token", "form", "status", "sentence"),
    [
        (None, {"confirm": "yes", "operator": "ada", "reason": "r", "ops_token": TOKEN}, 403,
         STOP_TOKEN_OFF),
        (TOKEN, {"confirm": "yes", "operator": "ada", "reason": "r", "ops_token": "no"}, 403,
         STOP_TOKEN_WRONG),
        (TOKEN, {"operator": "ada", "reason": "r", "ops_token": TOKEN}, 400, STOP_NOT_CONFIRMED),
        (TOKEN, {"confirm": "yes", "operator": "ada", "ops_token": TOKEN}, 400, NO_REASON),
        (TOKEN, {"confirm": "yes", "operator": "ada", "reason": "x" * 201, "ops_token": TOKEN},
         400, NO_REASON),
    ],
)  # fmt: skip
def test_a_stop_is_refused_before_anything_happens(
    token: str | None, form: dict[str, str], status: int, sentence: str
) -> None:
    """Refused before the console builds its AWS context (the audit of the refusal is best
    effort: here the context cannot be built, and the refusal stands)."""
    response = client(token).post("/ops/executions/book-x/stop?format=json", data=form)
    assert response.status_code == status
    assert response.get_json()["error"] == sentence


def test_pages_carry_the_security_headers() -> None:
    response = client().post("/ops/executions/book-x/replay", data={})
    assert response.status_code == 403 and TOKEN_WRONG in response.get_data(as_text=True)
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value


def test_a_page_token_of_another_shape_is_a_sentence() -> None:
    class Unused(OpsContext):
        """ListExecutions is never reached: the token is read first."""

    app = Flask(__name__)
    app.register_blueprint(ops_console(Unused, TOKEN))
    response = app.test_client().get("/ops/?format=json&page=WzFd")  # base64 of "[1]"
    assert response.status_code == 400
    assert response.get_json()["error"] == "That page token is not one this tool gave out."


def test_the_name_filter_is_offered_and_checked_before_aws() -> None:
    """`name` is the same filter as `schedctl executions list --name`; too long a value is
    a sentence, not a query."""
    response = client().get("/ops/?name=" + "w" * 65 + "&format=json")
    assert response.status_code == 400
    assert "The name filter must be at most 64 characters" in response.get_json()["error"]
    page = client().get("/ops/?since=yesterday&name=Whit").get_data(as_text=True)
    assert '<input type="text" name="name" value="Whit"' in page
