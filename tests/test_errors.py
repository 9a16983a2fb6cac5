"""One error mapping: every class of the error tree, raised through the API, a dashboard page
and the CLI, answers its own status and problem type (the API), an HTML error page with
them (the dashboard), one line and exit status 1 (the CLI): never a 500, never a trace."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import cwledger
from cwledger import errors
from cwledger.api.app import create_app
from cwledger.api.openapi import document
from cwledger.cli import ledger as cli_ledger
from cwledger.cli import main
from cwledger.errors import CorruptEntry, CorruptRow, CorruptTile, CwledgerError, Problem
from cwledger.http.problems import MEDIA_TYPE, PROBLEM_TYPES, error_tree
from cwledger.http.settings import Settings
from cwledger.ledger.access import issue_token
from cwledger.ledger.ledger import Ledger
from cwledger.store.entries import row_bytes
from cwledger.tlog.note import Note

ErrorClass = type[CwledgerError]

# Every module, so that the tree below holds every error class there is.
for _module in pkgutil.walk_packages(cwledger.__path__, "cwledger."):
    if not _module.name.endswith("__main__"):
        importlib.import_module(_module.name)

TREE = error_tree()[1:]  # every subclass; the root itself is the internal error (500)

ARGUMENTS: dict[str, tuple[Any, ...]] = {
    "RootMismatchError": (b"\x00" * 32, b"\x01" * 32),
    "EventRejected": ([Problem("event[0].body.site", "no such site")],),
    "EventForbidden": ([Problem("event[0]", "authored by another party")],),
    "RateLimited": ("too many requests", 2.0),
    "InvalidQuery": ("query.at", "not a date"),
    "IllegalTransition": ("seal S-1", "broken", "check it"),
    "SingularCovariance": (3, "not positive definite"),
    "UnverifiedNoteError": (Note("origin\n", [], []),),
    "AuditFailure": (7, "the leaf hash differs"),
    "CorruptEntry": (7, "the stored log time is 'soon', not a moment (an integer)"),
    "CorruptTile": (0, 1, "the stored hashes are str 'junk', not bytes"),
    "CorruptRow": ("the checkpoint for size 7", "the stored root hash is str 'junk', not bytes"),
    "SheetRejected": ([Problem("row 3", "no such chemical")],),
    "MonitorAlarm": ("fork", "two roots for size 7"),
    "SealedUnread": (12, "a1b2c3d4"),
}
"""Constructor arguments of the classes whose constructor is not (message)."""


def make(cls: ErrorClass) -> CwledgerError:
    """An instance of `cls`, with a short message."""
    if cls.__name__ in ARGUMENTS:
        return cls(*ARGUMENTS[cls.__name__])
    init = inspect.signature(cls.__init__)
    assert len(init.parameters) <= 3, f"add {cls.__name__}'s arguments to ARGUMENTS"
    return cls("something is wrong")


def ids(cls: ErrorClass) -> str:
    return cls.__qualname__


def test_the_tree_has_every_class_and_each_problem_type_one_status() -> None:
    assert {c.problem for c in error_tree()} == set(PROBLEM_TYPES)
    for cls in TREE:
        assert PROBLEM_TYPES[cls.problem] == (cls.status, cls.title), cls
        assert 400 <= cls.status < 600 and cls.title and cls.code, cls
    assert {"illegal-transition", "singular-covariance"} <= set(PROBLEM_TYPES)


def test_the_openapi_document_lists_exactly_the_trees_problem_types() -> None:
    schema = document()["components"]["schemas"]["ProblemDetail"]
    listed = schema["properties"]["type"]["enum"]
    assert sorted(listed) == sorted({f"/problems/{c.problem}" for c in error_tree()})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    path = tmp_path_factory.mktemp("errors") / "ledger"
    ledger = Ledger.init(path, "example.org/cwledger/errors", time="2013-09-14T00:00:00Z")
    token = issue_token(ledger.store, ledger.authority(), "operator")[0]
    app = create_app(Settings(ledger=path, public_pages=True), ledger=ledger)
    yield TestClient(app, raise_server_exceptions=False), token
    ledger.close()


def raising(e: CwledgerError) -> Callable[..., Any]:
    def fail(*_args: object, **_kwargs: object) -> Any:
        raise e

    return fail


@pytest.mark.parametrize("cls", TREE, ids=ids)
def test_the_api_answers_its_problem_document(
    cls: ErrorClass, served: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = served
    monkeypatch.setattr("cwledger.api.book.status_document", raising(make(cls)))
    resp = client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == cls.status
    assert resp.headers["content-type"] == MEDIA_TYPE
    doc = resp.json()
    assert (doc["type"], doc["title"], doc["status"]) == (
        f"/problems/{cls.problem}",
        cls.title,
        cls.status,
    )
    assert "Traceback" not in resp.text
    described = client.get(f"/problems/{cls.problem}").json()
    assert (described["status"], described["title"]) == (cls.status, cls.title)


@pytest.mark.parametrize("cls", TREE, ids=ids)
def test_a_page_answers_the_dashboards_error_page(
    cls: ErrorClass, served: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = served
    e = make(cls)
    monkeypatch.setattr("cwledger.web.pages.status_document", raising(e))
    resp = client.get("/")
    assert resp.status_code == cls.status
    assert resp.headers["content-type"].startswith("text/html")
    assert f"<h1>{cls.title}</h1>" in resp.text and f"/problems/{cls.problem}" in resp.text
    assert 'href="/static/css/site.css"' in resp.text and "Traceback" not in resp.text


def test_a_bad_moment_on_a_page_is_an_html_page_and_on_the_api_a_problem(
    served: tuple[TestClient, str],
) -> None:
    client, token = served
    page = client.get("/?at=2014-13-01")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "query.at" in page.text
    api = client.get("/api/v1/status?at=2014-13-01", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 422 and api.json()["type"] == "/problems/validation"


def test_an_unknown_page_is_the_dashboards_404(served: tuple[TestClient, str]) -> None:
    resp = served[0].get("/items/NO-SUCH-ITEM")
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in resp.text and "NO-SUCH-ITEM" in resp.text


@pytest.mark.parametrize("cls", TREE, ids=ids)
def test_the_cli_prints_one_line_and_exits_1(
    cls: ErrorClass,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    class Failing:
        open = staticmethod(raising(make(cls)))

    monkeypatch.setattr(cli_ledger, "Ledger", Failing)
    monkeypatch.setattr(sys, "argv", ["cwledger", "checkpoint", "--ledger", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    first, *rest = captured.err.splitlines()
    assert first.startswith(f"error ({cls.code}): "), captured.err
    assert "Traceback" not in captured.err and not captured.out
    if not issubclass(cls, errors.EventRejected):  # which lists each problem on a line
        assert not rest, captured.err


def test_a_stored_key_reaches_the_message_escaped_not_raw() -> None:
    # A row changed outside cwledger may hold any text where a key belongs: a terminal
    # gets its repr, never its control characters
    raw = "\x1b[2Jnine"
    with pytest.raises(CorruptRow) as row:
        row_bytes("junk", "chain hash", "the state of witness {}", raw)
    shown = [str(CorruptEntry(raw, "r")), str(CorruptTile(0, raw, "r")), str(row.value)]
    assert all("\x1b" not in m and "\\x1b[2Jnine" in m for m in shown), shown
    assert str(CorruptTile(0, 7, "r")).startswith("tile 0/7: r")
    assert str(row_bytes(b"ok", "chain hash", "the state of witness {}", raw)) == "b'ok'"
