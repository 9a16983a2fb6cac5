"""Time is the log's, not only the author's (issue 13, item 4), on both backends.

Each attack of the issue first: a document back-dated years after the fact turned a missed
milestone into "met" (now listed as a late entry, and the milestone says so); a shipment
dated 9999-12-31 froze its item (now refused: the future is beyond the log's clock plus a
small skew); week dates, the basic form, hour-only times and a 5,000-digit fraction were
taken as times (now refused at admission with the one accepted form); time filters
compared strings (now numbers); PostgreSQL answered 500 on a time over 40 characters (now
422 on both backends). Then what makes it hold: the log time of every entry, the stored
moments, the migration that fills them for an existing ledger.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from alembic import command
from alembic.config import Config
from rich.console import Console
from typer.testing import CliRunner

import cwledger.store.store as store_module
from cwledger.book.answers import judged_milestones
from cwledger.cli import app as cli_app
from cwledger.errors import EventRejected
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope, pae
from cwledger.ledger.ledger import LATE_AFTER, MAX_SKEW, Ledger
from cwledger.reports import monthly, render
from cwledger.store import Store
from cwledger.store.search import EntryFilter, find_entries
from cwledger.tables import milestones_table
from cwledger.time import DAY, from_rfc3339
from tests.api.conftest import make_api
from tests.book.builders import Book, declaration, item
from tests.conftest import FOUNDING, ORIGIN, event, row_counts

T0 = "2013-09-14T00:00:00Z"
MINUTE = 60_000_000


class Clock:
    """The log's clock, set by the test."""

    def __init__(self, text: str) -> None:
        self.now = from_rfc3339(text)

    def set(self, text: str) -> None:
        self.now = from_rfc3339(text)

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def led(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[Ledger]:
    """A new ledger on this test's backend whose clock the test sets."""
    url = None if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    ledger = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time=T0,
        database_url=url,
        log_clock=clock,
    )
    yield ledger
    ledger.close()


def signed(led: Ledger, author: str, ev: dict[str, Any]) -> bytes:
    """An envelope over `ev` exactly as given (no validation on the way: an attacker's)."""
    payload = canonical_json({"author": author, **ev})
    signer = led.keystore.signer(author)
    sig = signer.sign(pae(PAYLOAD_TYPE, payload))
    return Envelope(PAYLOAD_TYPE, payload, signer.key_id.hex(), sig).to_bytes()


def entries(led: Ledger) -> list[Any]:
    with led.store.read() as r:
        return r.entries(0, r.size())


# -- the attack: a document back-dated years after the fact ---------------------------------

MILESTONE = {
    "milestone": "M-PLAN",
    "description": "The destruction plan is filed",
    "instrument": "EC-M-34/DEC.1",
    "due": "2013-12-17",
    "predicate": {"kind": "document", "document_kind": "destruction-plan"},
}
DOCUMENT = {
    "document": "EC-M-34-PLAN",
    "kind": "destruction-plan",
    "title": "Detailed plan for the destruction",
    "issued_by": "Executive Council",
}


def test_a_backdated_document_is_listed_late_and_the_milestone_says_so(
    led: Ledger, clock: Clock, tmp_path: Path
) -> None:
    clock.set("2013-11-01T10:00:00Z")
    led.append(
        led.sign(
            [
                {
                    "type": "milestone.set",
                    "id": "m-1",
                    "time": "2013-11-01T10:00:00Z",
                    "body": MILESTONE,
                }
            ],
            "insp",
        )
    )
    clock.set("2016-01-01T10:00:00Z")  # years later ...
    with led.store.read() as r:
        [before] = judged_milestones(r, now=clock.now)
    assert before.status == "overdue" and not before.late_entry
    # ... the declarant files the plan, dated before the deadline.
    backdated = {"type": "document.filed", "id": "doc-1", "time": "2013-12-15T10:00:00Z"}
    [receipt] = led.append(led.sign([{**backdated, "body": DOCUMENT}], "dec"))
    with led.store.read() as r:
        [after] = judged_milestones(r, now=clock.now)
        late = r.late_entries(LATE_AFTER)
    # The book takes the author's time (met on 2013-12-15) but the log's says when it came.
    assert after.status == "met" and after.met_on == from_rfc3339("2013-12-15T10:00:00Z")
    assert after.late_entry and after.late_events == ["doc-1"]
    assert after.to_json()["late_entry"] is True
    assert [e.index for e in late] == [receipt.index]
    assert late[0].logged_at == from_rfc3339("2016-01-01T10:00:00Z")
    # The command lists it, and the milestones command says "recorded late".
    runner = CliRunner()
    res = runner.invoke(cli_app, ["late-entries", "--json", "--ledger", str(led.path)])
    assert res.exit_code == 0, res.output
    [doc] = json.loads(res.stdout)
    assert doc["index"] == receipt.index and doc["event_id"] == "doc-1"
    assert doc["time"] == "2013-12-15T10:00:00Z" and doc["logged_at"] == "2016-01-01T10:00:00Z"
    assert doc["days_late"] > 700
    res = runner.invoke(cli_app, ["milestones", "--json", "--ledger", str(led.path)])
    assert res.exit_code == 0, res.output
    [m] = json.loads(res.stdout)
    assert m["status"] == "met" and m["late_entry"] is True
    wide = Console(width=200, file=io.StringIO())
    wide.print(milestones_table([m], "milestones"))
    assert "met (recorded late)" in wide.file.getvalue()  # type: ignore[attr-defined]
    res = runner.invoke(cli_app, ["late-entries", "--ledger", str(led.path)])
    assert res.exit_code == 0 and "doc-1" in res.stdout and "1 late entry" in res.output
    # The monthly report of the month it claims lists it, and its milestone says so.
    with led.store.read() as r:
        report = monthly.build(r, "2013-12", now=clock.now)
    assert [e.entry for e in report.late_entries] == [receipt.index]
    assert report.milestones[0]["late_entry"] is True
    md = render.render(report, "md").decode()
    assert re.search(r"^## \d+\. Entries recorded late$", md, re.M) and "| doc-1 |" in md
    assert "met (recorded late: doc-1)" in md
    html = render.render(report, "html").decode()
    assert 'id="late-entry-table"' in html and "recorded late: doc-1" in html
    # The API and the dashboard say so too.
    api = make_api(led, ["insp"], public_pages=True)
    [m] = api.client.get("/api/v1/milestones", headers=api.auth("insp")).json()
    assert m["status"] == "met" and m["late_entry"] is True and m["late_events"] == ["doc-1"]
    page = api.client.get("/findings")
    assert page.status_code == 200 and 'data-late="doc-1"' in page.text


def test_an_entry_logged_within_the_threshold_is_not_late(led: Ledger, clock: Clock) -> None:
    clock.set("2014-01-08T10:00:00Z")  # six days after its time
    led.append(led.sign([event(1) | {"time": "2014-01-02T10:00:00Z"}], "insp"))
    clock.set("2014-01-20T10:00:00Z")  # eight days after its time
    [late] = led.append(led.sign([event(2) | {"time": "2014-01-12T10:00:00Z"}], "insp"))
    with led.store.read() as r:
        assert [e.index for e in r.late_entries(LATE_AFTER)] == [late.index]
        assert r.late_entries(9 * DAY) == []
        assert r.late_among(["ev-000001", "ev-000002", "nope"], LATE_AFTER) == {"ev-000002"}


def test_the_log_time_of_every_entry_is_recorded_in_the_append(led: Ledger, clock: Clock) -> None:
    clock.set("2014-02-01T00:00:00Z")
    led.append(led.sign([event(1), event(2)], "insp"))
    clock.set("2014-02-03T00:00:00.000123Z")
    led.append(led.sign([event(3)], "insp"))
    logged = [e.logged_at for e in entries(led)]
    assert logged == [
        from_rfc3339(T0),
        from_rfc3339("2014-02-01T00:00:00Z"),
        from_rfc3339("2014-02-01T00:00:00Z"),
        from_rfc3339("2014-02-03T00:00:00.000123Z"),
    ]
    # Not part of the signed event: the leaf is the envelope as the author signed it.
    assert all(b"logged" not in e.envelope for e in entries(led))


# -- the attack: a shipment dated 9999-12-31 ---------------------------------------------------


def test_a_shipment_dated_9999_is_refused_and_the_item_is_not_frozen(led: Ledger) -> None:
    led.clock = lambda: from_rfc3339("2015-01-01T00:00:00Z")
    book = Book(led)
    book.declare([item("I-1")])
    seal = {"seal": "SL-1", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}}
    book.append("seal.applied", seal)
    shipment = {
        "transfer": "T-1",
        "origin": "S-1",
        "destination": "S-2",
        "due": "2014-02-01T00:00:00Z",
        "items": [{"item": "I-1"}],
    }
    before = row_counts(led)
    with pytest.raises(EventRejected) as info:
        book.append("transfer.shipped", shipment, time="9999-12-31T00:00:00Z")
    [problem] = info.value.problems
    assert problem.location == "event[0].payload.time"
    assert "in the future" in problem.message and "2015-01-01T00:00:00Z" in problem.message
    assert row_counts(led) == before  # nothing written
    # The item moves on as if the attempt had never been made.
    book.append("transfer.shipped", shipment, time="2014-12-31T10:00:00Z")


def test_the_skew_is_small_and_configured(led: Ledger, clock: Clock) -> None:
    clock.set("2014-01-01T00:00:00Z")
    assert led.max_skew == MAX_SKEW == 5 * MINUTE
    led.append(led.sign([event(1) | {"time": "2014-01-01T00:04:59Z"}], "insp"))
    with pytest.raises(EventRejected, match="in the future"):
        led.append(led.sign([event(2) | {"time": "2014-01-01T00:05:01Z"}], "insp"))
    led.max_skew = 10 * MINUTE
    led.append(led.sign([event(2) | {"time": "2014-01-01T00:05:01Z"}], "insp"))


def test_the_server_takes_its_skew_and_threshold_from_its_settings(
    led: Ledger, clock: Clock
) -> None:
    clock.set("2014-01-01T00:00:00Z")
    api = make_api(led, ["insp"], max_clock_skew_seconds=60, late_entry_days=2)
    assert (led.max_skew, led.late_after) == (MINUTE, 2 * DAY)
    env = json.loads(led.sign([event(1) | {"time": "2014-01-01T00:01:01Z"}], "insp")[0])
    resp = api.client.post("/api/v1/events", json=env, headers=api.auth("insp"))
    assert resp.status_code == 422, resp.text
    assert "in the future" in resp.json()["problems"][0]["detail"]


# -- the attack: times in other forms -----------------------------------------------------------

ODD_TIMES = [
    "2016-W01-1T10:00:00Z",  # ISO 8601 week date
    "20160101T100000Z",  # basic form
    "2016-01-01T10Z",  # hour only
    "2016-01-01T10:00Z",  # no seconds
    "2016-01-01T10:00:00." + "1" * 5000 + "Z",  # a 5,000-digit fraction
    "2016-01-01T10:00:00.1234567Z",  # beyond microseconds
    "2016-01-01T10:00:00+00:00",  # an offset, not Z
    "2016-01-01T10:00:00",  # no zone
    "2016-01-01t10:00:00z",  # lower case
    "2016-01-01 10:00:00Z",  # a space
    "2016-001T10:00:00Z",  # ordinal date
    "2016-1-1T10:00:00Z",
    "+2016-01-01T10:00:00Z",
    "２０１６-01-01T10:00:00Z",  # full-width digits
    "2016-01-01T24:00:00Z",
    "2016-02-30T10:00:00Z",
    "2016-01-01T10:00:60Z",  # a leap second has no moment
]


@pytest.mark.parametrize("text", ODD_TIMES)
def test_a_time_in_another_form_is_refused_at_admission(led: Ledger, text: str) -> None:
    before = row_counts(led)
    with pytest.raises(EventRejected) as info:
        led.append([signed(led, "insp", event(1) | {"time": text})])
    [problem] = info.value.problems
    assert problem.location == "event[0].payload.time"
    assert "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" in problem.message or "RFC 3339" in problem.message
    assert len(problem.message) < 400  # a long text is not echoed whole
    assert row_counts(led) == before


def test_a_time_in_a_body_is_held_to_the_same_form(led: Ledger) -> None:
    led.clock = lambda: from_rfc3339("2015-01-01T00:00:00Z")
    Book(led).declare([item("I-1")])
    shipment = {
        "type": "transfer.shipped",
        "id": "t-1",
        "time": "2013-12-01T00:00:00Z",
        "body": {
            "transfer": "T-1",
            "origin": "S-1",
            "destination": "S-2",
            "due": "2014-W05-1T00:00:00Z",
            "items": [{"item": "I-1"}],
        },
    }
    with pytest.raises(EventRejected) as info:
        led.append([signed(led, "dec", shipment)])
    assert [p.location for p in info.value.problems] == ["event[0].payload.body.due"]


@pytest.mark.parametrize(
    "text", ["2016-01-01T10:00:00." + "1" * 5000 + "Z", "2016-W01-1T10:00:00Z"]
)
def test_the_api_answers_422_not_500_for_an_odd_or_long_time(led: Ledger, text: str) -> None:
    api = make_api(led, ["insp"])
    env = json.loads(signed(led, "insp", event(1) | {"time": text}))
    resp = api.client.post("/api/v1/events", json=env, headers=api.auth("insp"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["problems"][0]["location"] == "event[0].payload.time"
    resp = api.client.get("/api/v1/events", params={"since": text}, headers=api.auth("insp"))
    assert resp.status_code == 422, resp.text


# -- time filters compare numbers ---------------------------------------------------------------


def test_since_and_until_compare_moments(led: Ledger, clock: Clock) -> None:
    clock.set("2014-01-07T00:00:00Z")
    times = [
        "2014-01-05T09:59:59.999999Z",
        "2014-01-05T10:00:00Z",
        "2014-01-05T10:00:00.5Z",
        "2014-01-05T10:00:01Z",
        "2014-01-06T00:00:00Z",
    ]
    led.append(led.sign([event(i) | {"time": t} for i, t in enumerate(times, 1)], "insp"))
    api = make_api(led, ["insp"])

    def ids(**params: str) -> list[str]:
        resp = api.client.get(
            "/api/v1/events",
            params={"type": "estimate.recorded", **params},
            headers=api.auth("insp"),
        )
        assert resp.status_code == 200, resp.text
        return [e["event_id"] for e in resp.json()["events"]]

    assert ids(since="2014-01-05T10:00:00Z", until="2014-01-05T10:00:00.5Z") == [
        "ev-000002",
        "ev-000003",
    ]
    assert ids(since="2014-01-05T10:00:00.000001Z", until="2014-01-05T10:00:00.999Z") == [
        "ev-000003"
    ]
    assert ids(until="2014-01-05") == ["ev-000001", "ev-000002", "ev-000003", "ev-000004"]
    assert ids(since="2014-01-06") == ["ev-000005"]
    with led.store.read() as r:
        f = EntryFilter(since=from_rfc3339("2014-01-05T10:00:00.4Z"))
        rows = find_entries(r.conn, f, after=-1, limit=100)
        assert [row[1] for row in rows] == ["ev-000003", "ev-000004", "ev-000005"]


# -- an existing ledger: the migration fills the moments ----------------------------------------


def _alembic(conn: Any, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def test_the_migration_stores_the_moments_of_existing_entries(backend_url: str) -> None:
    """Entries written before revision 0005, with the forms that were accepted then, get
    their moments (and an unknown log time), so that time filters find them."""
    from sqlalchemy import text

    store = Store.open(backend_url, migrate=False)
    with store.engine.begin() as conn:
        _alembic(conn, "0004")
    old = ["2014-01-05T10:00:00Z", "20160101T100000Z", "2016-W01-1T10:00:00Z", "2016-01-01T10Z"]
    with store.engine.begin() as conn:
        for i, t in enumerate(old):
            conn.execute(
                text(
                    "INSERT INTO log_entry (idx, leaf_hash, event_id, event_type, author,"
                    " event_time, envelope) VALUES (:i, :h, :e, 'estimate.recorded', 'insp',"
                    " :t, :env)"
                ),
                {"i": i, "h": bytes([i]) * 32, "e": f"e{i}", "t": t, "env": b"{}"},
            )
    store.close()
    store = Store.open(backend_url)  # migrates to the head
    with store.read() as r:
        got = r.conn.execute(text("SELECT event_at, logged_at FROM log_entry ORDER BY idx")).all()
        assert [tuple(row) for row in got] == [
            (from_rfc3339("2014-01-05T10:00:00Z"), None),
            (from_rfc3339("2016-01-01T10:00:00Z"), None),
            (from_rfc3339("2016-01-04T10:00:00Z"), None),  # Monday of ISO week 1
            (from_rfc3339("2016-01-01T10:00:00Z"), None),
        ]
        f = EntryFilter(since=from_rfc3339("2016-01-01T00:00:00Z"))
        assert [row[1] for row in find_entries(r.conn, f, after=-1, limit=10)] == ["e1", "e2", "e3"]
        assert r.unknown_log_times() == 4 and r.late_entries(0) == []
    store.close()


# -- the monthly report: a batch across the month's end -----------------------------------------


def test_the_end_of_month_checkpoint_is_the_tree_signed_by_then(led: Ledger, clock: Clock) -> None:
    clock.set("2014-03-01T10:00:00Z")
    led.append(
        led.sign(
            [
                {
                    "type": "declaration.submitted",
                    "id": "d-1",
                    "time": "2014-03-01T10:00:00Z",
                    "body": declaration([item("I-1")]),
                }
            ],
            "dec",
        )
    )
    clock.set("2014-04-01T12:00:00Z")
    march, april = (
        event(1) | {"time": "2014-03-31T12:00:00Z"},
        event(2) | {"time": "2014-04-01T10:00:00Z"},
    )
    led.append(led.sign([march, april], "insp"))
    with led.store.read() as r:
        v = monthly.build(r, "2014-03", now=clock.now).verification
    # The tree as it stood at the end of March (signed after the declaration): the March
    # event, logged on 1 April with an April one, is listed as logged after it.
    assert (v.size, v.last_index, v.entries_dated_later, v.as_of_end) == (2, 1, 0, True)
    assert [e.event_id for e in v.after_checkpoint] == ["ev-000001"]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_audit_finds_a_stored_moment_changed_behind_the_log(
    led: Ledger, clock: Clock, workers: int
) -> None:
    """Time filters compare the stored moments: a changed one would hide an entry from them,
    so `cwledger verify` checks each against the entry's time (in this process, or in the
    workers that check the entries, a chunk of one entry each)."""
    from cwledger.ledger.audit import AuditFailure, audit
    from tests.conftest import execute_sql

    clock.set("2014-02-01T00:00:00Z")
    led.append(led.sign([event(1), event(2)], "insp"))
    audit(led.store, workers=workers, chunk=1)
    assert execute_sql(led, "UPDATE log_entry SET event_at = event_at + 1 WHERE idx = 2") == 1
    with pytest.raises(
        AuditFailure, match="stored moment .* disagrees with the entry's time"
    ) as info:
        audit(led.store, workers=workers, chunk=1)
    assert info.value.index == 2


def test_the_audit_names_a_stored_moment_that_is_no_number(
    led: Ledger, clock: Clock, backend: str
) -> None:
    """SQLite keeps a text in an integer column: the audit names the entry, it does not
    crash on it (PostgreSQL refuses the change itself)."""
    from cwledger.ledger.audit import AuditFailure, audit
    from tests.conftest import execute_sql

    clock.set("2014-02-01T00:00:00Z")
    led.append(led.sign([event(1), event(2)], "insp"))
    change = "UPDATE log_entry SET event_at = 'soon' WHERE idx = 2"
    if backend != "sqlite":
        with pytest.raises(sqlalchemy.exc.DataError):
            execute_sql(led, change)
        return
    assert execute_sql(led, change) == 1
    for workers in (1, 2):
        with pytest.raises(AuditFailure, match="stored moment 'soon' disagrees") as info:
            audit(led.store, workers=workers, chunk=1)
        assert info.value.index == 2
