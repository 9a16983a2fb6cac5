"""The dashboard's session in-process (issue 13, item 8): what the cookie holds, the
origin and anti-forgery checks of /login and /logout, the session's life on the server, the
cookie over HTTPS, the headers on every response and the problem types. The same attacks in
Chromium: tests/web/test_session.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from cwledger.errors import Unauthorized
from cwledger.http.deps import AUTH_FAILURE_BURST
from cwledger.http.security import CONTENT_SECURITY_POLICY
from cwledger.ledger.access import (
    authenticate,
    end_session,
    issue_token,
    list_tokens,
    open_session,
    revoke_token,
)
from cwledger.web.login import MESSAGES
from tests.api.conftest import Api, make_api

ORIGIN = "http://testserver"


def _login_form(client: TestClient) -> str:
    """GET /login: the form's anti-forgery token (its nonce cookie is now in the client)."""
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


def _log_in(client: TestClient, token: str, origin: str | None = ORIGIN) -> int:
    csrf = _login_form(client)
    headers = {} if origin is None else {"Origin": origin}
    resp = client.post(
        "/login", data={"token": token, "csrf": csrf}, headers=headers, follow_redirects=False
    )
    return resp.status_code


def _who(client: TestClient) -> str:
    resp = client.get("/", follow_redirects=False)
    if resp.status_code != 200:
        return f"redirect {resp.headers.get('location')}"
    found = re.search(r'<div class="who">\s*<span>([^<]*)</span>', resp.text)
    return "" if found is None else found.group(1)


def _fresh(api: Api, **settings: object) -> TestClient:
    return make_api(api.ledger, [], **settings).client


def test_the_cookie_holds_a_session_of_its_own_not_the_token(api: Api) -> None:
    client = _fresh(api)
    assert _log_in(client, api.tokens["insp"]) == 303
    assert _who(client) == "insp (inspectorate)"
    cookie = client.cookies["cwledger_session"]
    assert cookie.startswith("cws_") and api.tokens["insp"] not in cookie
    # The session is not an API token, and an API token is not a session.
    assert (
        client.get("/api/v1/status", headers={"Authorization": f"Bearer {cookie}"}).status_code
        == 401
    )
    other = _fresh(api)
    other.cookies.set("cwledger_session", api.tokens["insp"])
    assert _who(other) == "redirect /login?error=ended"
    # The access list shows it, named after the token it was opened with.
    [session] = [t for t in list_tokens(api.ledger.store) if t.token_id.startswith("s-")]
    assert session.party == "insp" and session.expires_at is not None
    assert "web session" in session.label


def test_login_and_logout_posted_from_elsewhere_change_nothing(api: Api) -> None:
    client = _fresh(api)
    assert _log_in(client, api.tokens["insp"]) == 303
    # Another origin, Origin: null, no Origin nor Referer, or a foreign Referer: refused.
    for origin in ("http://127.0.0.1:9", "null"):
        assert _log_in(client, api.tokens["obs"], origin=origin) == 403
    assert _log_in(client, api.tokens["obs"], origin=None) == 403
    csrf = _login_form(client)
    resp = client.post(
        "/login",
        data={"token": api.tokens["obs"], "csrf": csrf},
        headers={"Referer": "http://evil.example/page"},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    # The right origin but no, or a wrong, anti-forgery token: refused.
    for bad in ("", "0" * 64):
        resp = client.post(
            "/login",
            data={"token": api.tokens["obs"], "csrf": bad},
            headers={"Origin": ORIGIN},
            follow_redirects=False,
        )
        assert resp.status_code == 403 and MESSAGES["form"] in resp.text
    for origin in ("http://127.0.0.1:9", "null"):
        resp = client.post("/logout", headers={"Origin": origin}, follow_redirects=False)
        assert resp.status_code == 403
    resp = client.post("/logout", data={"csrf": "x"}, headers={"Origin": ORIGIN})
    assert resp.status_code == 403
    # A link (GET) changes nothing either: only POST logs in or out.
    assert client.get("/logout").status_code == 405
    assert client.get("/login", params={"token": api.tokens["obs"]}).status_code == 200
    assert _who(client) == "insp (inspectorate)"


def test_logout_ends_the_session_on_the_server(api: Api) -> None:
    client = _fresh(api)
    assert _log_in(client, api.tokens["insp"]) == 303
    cookie = client.cookies["cwledger_session"]
    page = client.get("/").text
    found = re.search(
        r'action="/logout"><input type="hidden" name="csrf" value="([0-9a-f]+)"', page
    )
    assert found is not None
    resp = client.post(
        "/logout", data={"csrf": found.group(1)}, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/login"
    assert "cwledger_session" not in client.cookies
    # The old cookie, replayed, names nobody: the session was revoked on the server.
    client.cookies.set("cwledger_session", cookie)
    assert _who(client) == "redirect /login?error=ended"
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(api.ledger.store, api.ledger.authority(), cookie, session=True)


def test_a_session_ends_with_its_token_and_at_its_expiry(api: Api) -> None:
    store, authority = api.ledger.store, api.ledger.authority()
    token, row = issue_token(store, authority, "insp")
    who = authenticate(store, authority, token)
    credential = open_session(store, who, timedelta(hours=1))
    assert authenticate(store, authority, credential, session=True).party == "insp"
    later = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(Unauthorized, match="expired"):
        authenticate(store, authority, credential, later, session=True)
    revoke_token(store, row.token_id)
    with pytest.raises(Unauthorized, match=f"token {row.token_id} was revoked"):
        authenticate(store, authority, credential, session=True)
    # A session opens no session, a forged credential ends none.
    session = authenticate(
        store,
        authority,
        open_session(store, authenticate(store, authority, api.tokens["obs"]), timedelta(hours=1)),
        session=True,
    )
    with pytest.raises(Unauthorized):
        open_session(store, session, timedelta(hours=1))
    sid = credential.split("_", 2)[1]
    assert not end_session(store, f"cws_{sid}_forged")
    assert not end_session(store, api.tokens["obs"])


def test_ended_sessions_are_not_kept(api: Api) -> None:
    # Each login removes the sessions that have ended (revoked at logout, or expired), so
    # the access list does not grow with every visit; tokens themselves are never removed.
    store, authority = api.ledger.store, api.ledger.authority()
    who = authenticate(store, authority, api.tokens["insp"])
    past = datetime.now(UTC) - timedelta(days=2)
    expired = open_session(store, who, timedelta(hours=1), now=past)
    ended = open_session(store, who, timedelta(hours=1))
    assert end_session(store, ended)
    tokens_before = {t.token_id for t in list_tokens(store) if not t.token_id.startswith("s-")}
    live = open_session(store, who, timedelta(hours=1))
    sessions = [t.token_id for t in list_tokens(store) if t.token_id.startswith("s-")]
    assert sessions == [live.split("_", 2)[1]]
    assert expired.split("_", 2)[1] not in sessions
    assert {t.token_id for t in list_tokens(store) if not t.token_id.startswith("s-")} == (
        tokens_before
    )
    assert authenticate(store, authority, live, session=True).party == "insp"


def test_login_guesses_are_rate_limited_per_address(api: Api) -> None:
    # The login form checks tokens as the API does: after a burst of refused tokens from
    # one address, the next attempt (even with a good token) is answered 429 with
    # Retry-After, until the bucket refills.
    client = _fresh(api)
    for _ in range(AUTH_FAILURE_BURST):
        assert _log_in(client, "cwt_0000_guess") == 401
    csrf = _login_form(client)
    resp = client.post(
        "/login",
        data={"token": api.tokens["insp"], "csrf": csrf},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert resp.status_code == 429 and MESSAGES["slow"] in resp.text
    assert int(resp.headers["retry-after"]) >= 1
    # The API's bearer tokens share the same budget for the address.
    assert client.get("/api/v1/status", headers={"Authorization": "Bearer x"}).status_code == 429


def test_the_cookie_is_secure_and_host_only_over_https(api: Api) -> None:
    client = TestClient(make_api(api.ledger, [], **{}).app, base_url="https://testserver")
    assert _log_in(client, api.tokens["insp"], origin="https://testserver") == 303
    [cookie] = [c for c in client.cookies.jar if c.name.endswith("cwledger_session")]
    assert cookie.name == "__Host-cwledger_session" and cookie.secure
    assert cookie.path == "/" and not cookie.domain_specified


def test_behind_an_https_proxy_the_cookie_is_secure_and_forms_come_from_its_origin(
    api: Api,
) -> None:
    # The proxy speaks plain HTTP to the server; the browser sends its Secure cookies to the
    # proxy over HTTPS (httpx would not send them over http: the test sends them itself).
    client = _fresh(api, public_origin="https://ledger.example")
    form = client.get("/login")
    nonce = form.cookies["__Host-cwledger_login"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert csrf is not None
    client.cookies.clear()

    def post(origin: str) -> tuple[int, str]:
        resp = client.post(
            "/login",
            data={"token": api.tokens["insp"], "csrf": csrf.group(1)},
            headers={"Origin": origin, "Cookie": f"__Host-cwledger_login={nonce}"},
            follow_redirects=False,
        )
        return resp.status_code, resp.headers.get("set-cookie", "")

    assert post(ORIGIN)[0] == 403  # the server's own address is not the public origin
    status, set_cookie = post("https://ledger.example")
    assert status == 303 and set_cookie.startswith("__Host-cwledger_session=cws_")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie


def test_the_login_page_says_only_what_the_server_chose(api: Api) -> None:
    client = _fresh(api)
    page = client.get("/login", params={"error": "<b>mail your token to evil@example.org</b>"})
    assert "evil@example.org" not in page.text and 'role="alert"' not in page.text
    assert MESSAGES["token"] in client.get("/login", params={"error": "token"}).text
    csrf = _login_form(client)
    resp = client.post(
        "/login", data={"token": "cwl_0123_<i>x</i>", "csrf": csrf}, headers={"Origin": ORIGIN}
    )
    assert resp.status_code == 401 and MESSAGES["token"] in resp.text and "<i>x" not in resp.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", "/static/css/site.css"),
        ("GET", "/api/v1/status"),  # 401
        ("GET", "/no/such/path"),  # 404
        ("GET", "/problems/nonsense"),  # 404
        ("POST", "/logout"),  # 303
    ],
)
def test_every_response_carries_the_security_headers(api: Api, method: str, path: str) -> None:
    client = _fresh(api, public_pages=True)
    resp = client.request(method, path, follow_redirects=False)
    assert resp.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "same-origin"


def test_a_body_too_large_is_refused_with_the_headers_too(api: Api) -> None:
    client = _fresh(api, max_request_bytes=10)
    resp = client.post("/api/v1/events", content=b"x" * 100, headers=api.auth("insp"))
    assert resp.status_code == 413 and resp.headers["x-frame-options"] == "DENY"


def test_only_the_error_trees_problem_types_exist(api: Api) -> None:
    for code in ("nonsense", "not-found-at-all", "x" * 300):
        resp = api.client.get(f"/problems/{code}")
        assert resp.status_code == 404 and resp.json()["type"] == "/problems/not-found"
        assert code not in resp.json()["detail"]
    assert api.client.get("/problems/not-found").status_code == 200


def test_no_api_docs_page_loads_scripts_from_a_cdn(api: Api) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert api.client.get(path).status_code == 404, path
    assert api.client.get("/openapi.json").json()["info"]["title"] == "cwledger"
