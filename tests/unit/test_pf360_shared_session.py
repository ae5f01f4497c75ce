"""The PF360 client's HTTP session is made once per execution environment and reused, and
carries nothing of one customer to another (cookies refused, the token per request)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tasks.config import load_settings
from tasks.pf360 import PF360Client, make_client
from tasks.pf360.factory import shared_http_session

TOKEN_A = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDVVNUMDAxIn0.YS1zaWduYXR1cmU"
TOKEN_B = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDVVNUMDAyIn0.Yi1zaWduYXR1cmU"


class CookieSettingPF360(BaseHTTPRequestHandler):
    """Answers every dashboard read, sets a cookie naming the caller, records what came in."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        body = json.dumps({"data": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"pf360_session={self.headers.get('authorization')}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def pf360_url() -> Iterator[str]:
    CookieSettingPF360.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CookieSettingPF360)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def real_client(url: str, token: str) -> PF360Client:
    settings = load_settings({"USE_REAL_API": "true", "CUSTOMER_SCHEDULER_BASE_API_URL": url})
    client = make_client(settings, client_id="acme-corp", client_name=None, auth_token=token)
    assert isinstance(client, PF360Client)
    return client


def test_clients_share_one_session_that_no_client_closes(pf360_url: str) -> None:
    one, two = real_client(pf360_url, TOKEN_A), real_client(pf360_url, TOKEN_B)
    assert one._session is two._session is shared_http_session()
    one.close()  # the environment's session outlives every client
    two.get_dashboard("CUST002")
    assert CookieSettingPF360.seen[-1]["authorization"] == f"Bearer {TOKEN_B}"


def test_a_cookie_set_for_one_customer_never_rides_on_another_customers_request(
    pf360_url: str,
) -> None:
    real_client(pf360_url, TOKEN_A).get_dashboard("CUST001")
    real_client(pf360_url, TOKEN_B).get_dashboard("CUST002")
    first, second = CookieSettingPF360.seen[-2:]
    assert first["authorization"] == f"Bearer {TOKEN_A}"
    assert second["authorization"] == f"Bearer {TOKEN_B}"
    assert "cookie" not in second and TOKEN_A not in json.dumps(second)
    assert not shared_http_session().cookies
