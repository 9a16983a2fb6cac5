"""The web session under attack, in Chromium (issue 13, item 8): a page on another origin
(served by the test on another port of 127.0.0.1, so same-site but cross-origin) posts
forms to /login and /logout; the security headers; no CSP violation on any page; the
problem types; the login page's error text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from cwledger.ledger.access import issue_token
from cwledger.ledger.ledger import Ledger
from tests.web.conftest import Site, Watched, open_page

INSPECTORATE = "technical-secretariat"
WITNESS = "witness-1"


@pytest.fixture(scope="module")
def tokens(site: Site) -> dict[str, str]:
    """An API token each for an inspectorate and a witness."""
    led = Ledger.open(site.ledger_dir)
    try:
        authority = led.authority()
        return {p: issue_token(led.store, authority, p)[0] for p in (INSPECTORATE, WITNESS)}
    finally:
        led.close()


class _Attacker(BaseHTTPRequestHandler):
    """Pages that post a form to the target as soon as they load."""

    pages: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.pages.get(self.path, "not found").encode()
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def _auto_submit(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return (
        f'<!doctype html><form id="f" method="post" action="{action}">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>"
    )


@pytest.fixture(scope="module")
def attacker(site: Site, tokens: dict[str, str]) -> Iterator[str]:
    """Another origin (127.0.0.1, another port) with a login and a logout form."""
    _Attacker.pages = {
        "/login": _auto_submit(f"{site.base}/login", {"token": tokens[WITNESS]}),
        "/logout": _auto_submit(f"{site.base}/logout", {}),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _log_in(w: Watched, site: Site, token: str) -> None:
    w.page.goto(f"{site.base}/login")
    w.page.fill("#token", token)
    with w.page.expect_navigation():
        w.page.click("form.login button[type=submit]")


def _who(w: Watched, site: Site) -> str:
    w.page.goto(f"{site.base}/")
    return str(w.page.inner_text("header .who"))


def test_logging_in_keeps_a_session_id_not_the_token(
    site: Site, browser: Any, tokens: dict[str, str]
) -> None:
    w = open_page(browser)
    _log_in(w, site, tokens[INSPECTORATE])
    assert INSPECTORATE in _who(w, site)
    [cookie] = [c for c in w.page.context.cookies() if "session" in c["name"]]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    secret = tokens[INSPECTORATE].split("_", 2)[2]
    assert cookie["value"].startswith("cws_") and secret not in cookie["value"]
    # The session is not an API token.
    bearer = {"Authorization": f"Bearer {cookie['value']}"}
    assert httpx.get(f"{site.base}/api/v1/status", headers=bearer).status_code == 401
    # Logging out ends it on the server: the old cookie no longer names anyone.
    with w.page.expect_navigation():
        w.page.click("header .who button")
    assert INSPECTORATE not in _who(w, site)
    w.page.context.add_cookies([cookie])
    assert INSPECTORATE not in _who(w, site)
    w.assert_clean()
    w.page.context.close()


def test_a_page_on_another_origin_cannot_switch_the_session(
    site: Site, browser: Any, tokens: dict[str, str], attacker: str
) -> None:
    w = open_page(browser)
    _log_in(w, site, tokens[INSPECTORATE])
    assert INSPECTORATE in _who(w, site)
    w.page.goto(f"{attacker}/login")
    w.page.wait_for_load_state("load")
    who = _who(w, site)
    assert INSPECTORATE in who and WITNESS not in who
    w.page.context.close()


def test_a_page_on_another_origin_cannot_log_the_session_out(
    site: Site, browser: Any, tokens: dict[str, str], attacker: str
) -> None:
    w = open_page(browser)
    _log_in(w, site, tokens[INSPECTORATE])
    w.page.goto(f"{attacker}/logout")
    w.page.wait_for_load_state("load")
    assert INSPECTORATE in _who(w, site)
    w.page.context.close()


HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.mark.parametrize(
    "path", ["/", "/login", "/map", "/log", "/static/css/site.css", "/api/v1/log/checkpoint"]
)
def test_every_response_carries_the_security_headers(site: Site, view: Watched, path: str) -> None:
    response = view.page.goto(f"{site.base}{path}")
    assert response is not None and response.status == 200
    headers = response.all_headers()
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (path, name, headers.get(name))
    csp = headers.get("content-security-policy", "")
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in csp, (path, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


_RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_the_pages_work_under_the_policy_with_no_violation(
    site: Site, browser: Any, tokens: dict[str, str]
) -> None:
    w = open_page(browser)
    w.page.add_init_script(_RECORD_VIOLATIONS)
    _log_in(w, site, tokens[INSPECTORATE])
    for path in (
        "/",
        "/map?at=2014-04-24",
        "/balances",
        "/findings",
        "/sites/S-01",
        "/items/DF-001",
        "/login",
        "/?at=2014-13-01",
    ):
        w.page.goto(f"{site.base}{path}")
        w.page.wait_for_load_state("networkidle")
        assert w.page.evaluate("window.__csp") == [], path
    # htmx (the map's slider) and the log explorer's own scripts run.
    w.page.goto(f"{site.base}/map?at=2014-04-24")
    w.page.wait_for_load_state("networkidle")
    before = w.page.text_content("#map-date")
    w.page.eval_on_selector(
        "#day", "el => { el.value = '10'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    w.page.wait_for_function(
        "b => document.querySelector('#map-date').textContent !== b", arg=before
    )
    w.page.goto(f"{site.base}/log?entry=1000")
    w.page.wait_for_function(  # the explorer's module script has run
        "() => document.getElementById('pin-status').textContent.includes('No key pinned')"
    )
    assert w.page.evaluate("window.__csp") == []
    assert w.page.evaluate("getComputedStyle(document.body).fontFamily") != ""
    w.errors = [e for e in w.errors if "status of 422" not in e]  # the error page's own
    w.assert_clean()
    w.page.context.close()


def test_only_the_error_trees_problem_types_exist(site: Site, view: Watched) -> None:
    ok = view.page.goto(f"{site.base}/problems/not-found")
    assert ok is not None and ok.status == 200
    for code in ("nonsense", "%3Cscript%3E", "not-found-at-all"):
        response = view.page.goto(f"{site.base}/problems/{code}")
        assert response is not None and response.status == 404, code
        assert response.headers["content-type"] == "application/problem+json"


def test_the_login_page_shows_only_messages_the_server_chose(site: Site, view: Watched) -> None:
    dialogs: list[str] = []

    def dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    view.page.on("dialog", dialog)
    attack = "<script>alert(1)</script>Your token was revoked: mail it to evil@example.org"
    response = view.page.goto(f"{site.base}/login?error={quote(attack)}")
    assert response is not None and response.status == 200
    text = view.page.inner_text("main")
    for attacker_text in ("evil@example.org", "alert(", "<script"):
        assert attacker_text not in text
    assert dialogs == []
    assert view.page.query_selector("main [role=alert]") is None


def test_the_api_docs_load_nothing_from_another_host(site: Site) -> None:
    for path in ("/docs", "/redoc"):
        resp = httpx.get(f"{site.base}{path}")
        assert "cdn.jsdelivr.net" not in resp.text and "unpkg.com" not in resp.text, path
    assert httpx.get(f"{site.base}/openapi.json").status_code == 200
