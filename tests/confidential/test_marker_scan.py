"""The marker scan (issue 16, section 3): in a confidential ledger, marker strings and
marker numbers planted in every non-public field of a declaration and of each domain event
type are found in no public byte: the published log (`cwledger publish`, the `/log/`
tiles, entry bundles and checkpoint served without a token), an offline bundle and the
report for an observer, the EPCIS export for an observer, and the SQLite database of an
observer's `cwledger mirror`. Every base64 run is decoded (and every gzip stream opened)
before the scan. The same scan over the operator's own book, and over what the operator's
boxes open to, finds them: the scan is not blind.

The pages an anonymous visitor reads (the public overview, the public map, the log
explorer) and every book answer of the API are scanned too. So is everything a destruction
facility (cleared to `protected`) is served, logged in: no marker planted in a
highly-protected field alone reaches it, the protected ones do, and what it may not open
answers 403.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from typer.testing import CliRunner

from cwledger.book import answers
from cwledger.book.registry import EVENT_TYPES
from cwledger.cli import app
from cwledger.errors import NotEntitled
from cwledger.http.deps import served_class
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.sealing import open_sealed
from cwledger.ledger.tile_bytes import resource_path, resources
from cwledger.model.classes import Class, field_class, field_classes
from tests.api.conftest import make_api
from tests.api.test_web_session import _log_in
from tests.book.builders import Book, mass
from tests.confidential.test_readers import _register
from tests.conftest import FOUNDING, ORIGIN
from tests.publish.helpers import http_server, log_api

# -- the markers ---------------------------------------------------------------------------------

SITE = "MKQ-SITE-A1"
PORT = "MKQ-PORT-P7"
VENUE = "MKQ-VENUE-V3"
LAB = "MKQ-LAB-L5"
SITE9 = "MKQ-SITE-S9"
C1, C2, C3 = "MKQ-ITEM-C1", "MKQ-ITEM-C2", "MKQ-ITEM-C3"
CHEM = "MKQCHEM-Zeta9"
INSP = "MKQ-INSP-I1"
SEAL1, SEAL2 = "MKQ-SEAL-X1", "MKQ-SEAL-X2"
SAMPLE = "MKQ-SMP-1"
TR1, TR2 = "MKQ-TR-1", "MKQ-TR-2"
BATCH = "MKQ-BATCH-B1"
PRODUCT = "MKQ-RM-1"
PHOTO1, PHOTO2, PHOTO3 = "7e" * 32, "8f" * 32, "9a" * 32

STRINGS = [
    SITE,
    PORT,
    VENUE,
    LAB,
    SITE9,
    C1,
    C2,
    C3,
    CHEM,
    INSP,
    SEAL1,
    SEAL2,
    SAMPLE,
    TR1,
    TR2,
    BATCH,
    PRODUCT,
    PHOTO1,
    PHOTO2,
    PHOTO3,
    "Marker Site Qzx7731",
    "Marker Port Wvb5512",
    "Marker Venue Hjk2290",
    "Marker Lab Dfg3107",
    "Marker Site Rtp8841",
    "MKQ-TAG-T1",
    "MKQ-TAG-T3",
    "MKQ-WIRE-W1",
    "MKQ-CONSIGN-9",
    "MKQ-CONSIGN-8",
    "Marker summary Plq4471",
    "Marker remarks Bnm6605",
    "Marker reaction mass Ghj3318",
    "Marker finding Zxc9917",
    "MKQ-EVID-1",
    "MKQ-EVID-2",
    "Marker resolution Yui4402",
    # instants, planted to the second in restricted fields
    "2013-11-04T12:34:56Z",
    "2013-12-05T08:07:09Z",
    "2013-12-20T09:08:07Z",
    "2014-01-08T01:02:03Z",
    "2014-01-19T04:05:06Z",
    "2014-05-20T03:14:15Z",
    "2014-05-31T22:11:33Z",
]
NUMBERS = {  # kg planted -> the forms it may be written in (as planted, and in grams)
    4321.987: ["4321.987", "4321987"],
    1234.567: ["1234.567", "1234567"],
    2468.1357: ["2468.1357", "2468136"],
    4319.8642: ["4319.8642", "4319864"],
    4320.1113: ["4320.1113", "4320111"],
    4319.2224: ["4319.2224", "4319222"],
    4318.3335: ["4318.3335", "4318334"],
    4317.4446: ["4317.4446", "4317445"],
    6100.777: ["6100.777", "6100777"],
    33.987123: ["33.987123"],
    36.123987: ["36.123987"],
    35.456789: ["35.456789"],
    35.876543: ["35.876543"],
    34.192837: ["34.192837"],
    36.918273: ["36.918273"],
}
MARKERS = STRINGS + [form for forms in NUMBERS.values() for form in forms]
# The marker of each number as planted (a field holds a marker when its JSON holds one).
PLANTED = STRINGS + [forms[0] for forms in NUMBERS.values()]

# Non-public fields that hold no marker: their values are from a closed vocabulary (an
# enum, a boolean) or a count, which no scan can tell apart from any other event's.
UNMARKABLE = {
    ("seal.applied", "type"): "an enum (seal types)",
    ("seal.checked", "condition"): "an enum (intact, broken, ...)",
    ("seal.checked", "method"): "an enum (identity_match, visual)",
    ("seal.checked", "at_headquarters"): "a boolean",
    ("seal.removed", "reason"): "an enum (sampling, ...)",
    ("inspection.opened", "kind"): "an enum (initial, ...)",
    ("inventory.taken", "complete"): "a boolean",
    ("sample.result", "identity_confirmed"): "a boolean",
    ("destruction.batch", "method"): "an enum (hydrolysis, ...)",
    ("destruction.verified", "confirmed"): "a boolean",
    ("finding.resolved", "finding"): "the finding's number, a small count",
    ("finding.resolved", "status"): "an enum (resolved, ...)",
}
# Event types with fields above public that this scan does not build, and why.
NOT_COVERED = {
    "facility.destroyed": "production facilities are not built by tests/book/builders.py",
    "facility.verified": "production facilities are not built by tests/book/builders.py",
    "selection.committed": "random selections (accountancy) are not built by the builders",
    "selection.revealed": "random selections (accountancy) are not built by the builders",
    "escrow.item_checked": "the escrow (issue 16 section 4) has its own tests and surfaces",
}


def _site(ident: str, name: str, kind: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "id": ident,
        "name": name,
        "kind": kind,
        "coordinates": {"lat": lat, "lon": lon},
        "party": "dec",
    }


def _item(ident: str, kg: float, chemical: str = "DF", **more: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "kind": "container",
        "chemical": chemical,
        "declared": mass(kg, u=2.0),
        "site": SITE,
        **more,
    }


SITES = [
    _site(SITE, "Marker Site Qzx7731", "storage", 33.987123, 36.123987),
    _site(PORT, "Marker Port Wvb5512", "port", 35.456789, 35.876543),
    _site(VENUE, "Marker Venue Hjk2290", "destruction", 34.192837, 36.918273),
    _site(LAB, "Marker Lab Dfg3107", "laboratory", 34.5, 36.7),
]
CHEMICALS = [
    {
        "label": "DF",
        "cwc_category": 1,
        "schedule": {"number": 1, "part": "B", "entry": 9},
        "removal_priority": "1",
    },
    {"label": CHEM, "cwc_category": 2, "removal_priority": "2"},
]
ITEMS = [_item(C1, 4321.987), _item(C2, 1234.567, CHEM)]
HEADER = {"legal_basis": "EC-M-33/DEC.1", "due": "2013-10-27", "chemicals": CHEMICALS}


def _events() -> list[tuple[str, dict[str, Any]]]:
    """The events planted, in log order (authors as tests/book/builders.py has them)."""
    amended = [*ITEMS, _item(C3, 2468.1357, tag="MKQ-TAG-T3")]
    return [
        (
            "declaration.submitted",
            {"version": 1, "part": 1, "parts": 1, **HEADER, "sites": SITES, "items": ITEMS},
        ),
        (
            "declaration.amended",
            {
                "version": 2,
                "amends": 1,
                "part": 1,
                "parts": 1,
                **HEADER,
                "sites": SITES,
                "items": amended,
            },
        ),
        ("site.declared", {"site": _site(SITE9, "Marker Site Rtp8841", "storage", 34.5, 36.7)}),
        (
            "inspection.opened",
            {
                "inspection": INSP,
                "site": SITE,
                "kind": "initial",
                "notified": "2013-11-04T12:34:56Z",
            },
        ),
        ("item.tagged", {"item": C1, "tag": "MKQ-TAG-T1", "site": SITE}),
        (
            "seal.applied",
            {
                "seal": SEAL1,
                "type": "metal_cap",
                "closes": {"kind": "item", "id": C1},
                "wire": "MKQ-WIRE-W1",
                "photos": [PHOTO1],
                "next_check_due": "2013-12-05T08:07:09Z",
            },
        ),
        (
            "inventory.taken",
            {
                "site": SITE,
                "inspection": INSP,
                "complete": True,
                "items": [
                    {"item": C1, "measured": mass(4319.8642)},
                    {"item": C2},
                    {"item": C3},
                ],
            },
        ),
        (
            "seal.checked",
            {
                "seal": SEAL1,
                "condition": "intact",
                "method": "identity_match",
                "photos": [PHOTO2],
                "next_check_due": "2013-12-20T09:08:07Z",
                "at_headquarters": False,
            },
        ),
        (
            "seal.applied",
            {"seal": SEAL2, "type": "tape", "closes": {"kind": "item", "id": C2}},
        ),
        (
            "sample.taken",
            {"sample": SAMPLE, "item": C2, "site": SITE, "inspection": INSP, "seals": [SEAL2]},
        ),
        ("seal.removed", {"seal": SEAL2, "reason": "sampling", "photos": [PHOTO3]}),
        ("inspection.closed", {"inspection": INSP, "summary": "Marker summary Plq4471"}),
        ("sample.result", {"sample": SAMPLE, "identity_confirmed": True, "laboratory": LAB}),
        (
            "transfer.shipped",
            {
                "transfer": TR1,
                "origin": SITE,
                "destination": PORT,
                "due": "2014-01-08T01:02:03Z",
                "consignment": "MKQ-CONSIGN-9",
                "items": [{"item": C1, "measured": mass(4320.1113)}],
            },
        ),
        (
            "transfer.received",
            {"transfer": TR1, "site": PORT, "items": [{"item": C1, "measured": mass(4319.2224)}]},
        ),
        (
            "transfer.shipped",
            {
                "transfer": TR2,
                "origin": PORT,
                "destination": VENUE,
                "due": "2014-01-19T04:05:06Z",
                "consignment": "MKQ-CONSIGN-8",
                "items": [{"item": C1}],
            },
        ),
        ("transfer.received", {"transfer": TR2, "site": VENUE, "items": [{"item": C1}]}),
        (
            "destruction.batch",
            {
                "batch": BATCH,
                "method": "hydrolysis",
                "venue": VENUE,
                "start": "2014-05-20T03:14:15Z",
                "end": "2014-05-31T22:11:33Z",
                "items": [{"item": C1, "kg": 4318.3335}],
                "products": [
                    {
                        "item": PRODUCT,
                        "label": "Marker reaction mass Ghj3318",
                        "mass": mass(6100.777),
                    }
                ],
            },
        ),
        (
            "destruction.verified",
            {"batch": BATCH, "confirmed": True, "remarks": "Marker remarks Bnm6605"},
        ),
        (
            "finding.raised",
            {"title": "Marker finding Zxc9917", "evidence": ["MKQ-EVID-1"], "subjects": [C3]},
        ),
    ]


def _resolved(finding: int) -> tuple[str, dict[str, Any]]:
    return (
        "finding.resolved",
        {
            "finding": finding,
            "status": "resolved",
            "evidence": ["MKQ-EVID-2", "4317.4446"],
            "remarks": "Marker resolution Yui4402",
        },
    )


@pytest.fixture(scope="module")
def conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A confidential ledger holding every planted event, with a checkpoint."""
    led = Ledger.init(
        tmp_path_factory.mktemp("conf") / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        confidential=True,
    )
    b = Book(led, start_day=40)
    for type_, body in _events():
        b.append(type_, body)
    with led.store.read() as r:
        raised = [f.finding.number for f in answers.findings(r.book) if f.rule == "raised"]
    b.append(*_resolved(max(raised)))
    _register(led, "fac", "destruction_facility")  # after the events: named in none
    yield led
    led.close()


# -- the scan -------------------------------------------------------------------------------------

_B64 = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")


def _decoded(data: bytes) -> bytes | None:
    run = data.rstrip(b"=")
    run += b"=" * (-len(run) % 4)
    try:
        if b"-" in run or b"_" in run:
            return base64.urlsafe_b64decode(run)
        return base64.b64decode(run, validate=True)
    except (binascii.Error, ValueError):
        return None


def _expand(data: bytes, depth: int = 0) -> Iterator[bytes]:
    """`data`, every gzip stream in it opened, and every base64 run in it decoded, again
    and again (an envelope's payload holds a sealed part whose boxes are base64 too)."""
    yield data
    if depth > 4:
        return
    if data[:2] == b"\x1f\x8b":
        try:
            yield from _expand(gzip.decompress(data), depth + 1)
        except (OSError, EOFError):
            pass
    for m in _B64.finditer(data):
        raw = _decoded(m.group())
        if raw is not None and raw != data:
            yield from _expand(raw, depth + 1)


def hits(named: dict[str, bytes]) -> dict[str, list[str]]:
    """Every marker found in each named blob (decoded), by blob; empty when none."""
    found: dict[str, list[str]] = {}
    for name, data in named.items():
        seen = {m for blob in _expand(data) for m in MARKERS if m.encode() in blob}
        if seen:
            found[name] = sorted(seen)
    return found


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def observer_keys(conf: Ledger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A keystore with the observer's keys only: the environment of an observer's CLI."""
    keys = tmp_path_factory.mktemp("observer") / "keys"
    keys.mkdir(mode=0o700)
    for f in conf.keystore.path.iterdir():
        if f.name.startswith("obs."):
            shutil.copy2(f, keys / f.name)
    assert any(keys.iterdir())
    return {"CWLEDGER_KEYSTORE": str(keys)}


# -- the scan is not blind ------------------------------------------------------------------------


def test_every_non_public_field_of_every_type_holds_a_marker() -> None:
    planted = [*_events(), _resolved(1)]
    covered = {t for t, _ in planted}
    for name, etype in EVENT_TYPES.items():
        hidden = {f for f, c in field_classes(etype.body).items() if c.cls > Class.PUBLIC}
        if not hidden:
            continue
        if name in NOT_COVERED:
            assert name not in covered
            continue
        assert name in covered, f"{name} has fields above public and is not planted"
        for f in sorted(hidden):
            if (name, f) in UNMARKABLE:
                assert any(f in body for t, body in planted if t == name), (name, f)
                continue
            values = [json.dumps(body[f]) for t, body in planted if t == name and f in body]
            assert any(m in v for v in values for m in PLANTED), f"{name}.{f} holds no marker"


def test_the_operator_reads_every_marker(conf: Ledger) -> None:
    """What the operator's boxes open to holds every marker; its own book holds them too."""
    opened = []
    with conf.store.read() as r:
        for chunk in r.iter_entries():
            for e in chunk:
                payload = json.loads(base64.b64decode(json.loads(e.envelope)["payload"]))
                sealed = payload["body"].get("sealed")
                if sealed is not None:
                    kid = next(b["key"] for b in sealed["boxes"] if b["to"] == "operator")
                    key = conf.operator_keys()(kid)
                    opened.append(json.dumps(open_sealed(sealed, "operator", key)).encode())
    everything = hits({"opened": b"\n".join(opened)})["opened"]
    assert set(PLANTED) <= set(everything)
    book = hits(_tree(conf.path))
    found = {m for ms in book.values() for m in ms}
    assert {SITE, C1, C3, "Marker Site Qzx7731", "4321987", "33.987123"} <= found


# -- the public surfaces --------------------------------------------------------------------------


def test_the_published_log_holds_no_marker(conf: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "pub"
    _run("publish", str(out), "--ledger", str(conf.path))
    files = _tree(out)
    assert "checkpoint" in files and any(k.startswith("tile/entries/") for k in files)
    assert hits(files) == {}


def test_the_log_api_serves_no_marker(conf: Ledger) -> None:
    api = log_api(conf)
    size = conf.latest_checkpoint().size
    served = {}
    for path in ["checkpoint", *(resource_path(ref) for ref in resources(size))]:
        for enc in ("identity", "gzip"):
            got = api.get(f"/log/{path}", headers={"Accept-Encoding": enc})
            assert got.status_code == 200, path
            served[f"{path} ({enc})"] = got.content
    assert any("entries" in k for k in served)
    assert hits(served) == {}


def test_an_observers_bundle_and_report_hold_no_marker(
    conf: Ledger, tmp_path: Path, observer_keys: dict[str, str]
) -> None:
    size = conf.latest_checkpoint().size
    out = tmp_path / "all.bundle.json"
    every = ",".join(str(i) for i in range(size))
    _run(
        "bundle",
        "--out",
        str(out),
        "--entries",
        every,
        "--ledger",
        str(conf.path),
        env=observer_keys,
    )
    written = {"bundle": out.read_bytes()}
    for fmt in ("html", "md", "json", "csv"):
        path = tmp_path / f"report.{fmt}"
        said = _run(
            "report",
            "--from",
            "2013-09-14",
            "--to",
            "2014-12-31",
            "--format",
            fmt,
            "--out",
            str(path),
            "--bundle",
            "--ledger",
            str(conf.path),
            env=observer_keys,
        )
        written[f"report.{fmt}"] = path.read_bytes()
        written[f"report.{fmt} (said)"] = said.encode()
        written[f"report.{fmt} bundle"] = path.with_name("report.bundle.json").read_bytes()
    assert "public fields only" in written["report.md"].decode()
    assert hits(written) == {}


def test_an_observers_epcis_export_holds_no_marker(
    conf: Ledger, tmp_path: Path, observer_keys: dict[str, str]
) -> None:
    out = tmp_path / "epcis.json"
    said = _run("export", "epcis", "--out", str(out), "--ledger", str(conf.path), env=observer_keys)
    doc = json.loads(out.read_text())
    assert "public fields only" in said
    assert hits({"epcis": out.read_bytes(), "said": said.encode()}) == {}
    assert doc["type"] == "EPCISDocument"


def test_an_observers_mirror_holds_no_marker(
    conf: Ledger, tmp_path: Path, observer_keys: dict[str, str]
) -> None:
    pub, dest = tmp_path / "pub", tmp_path / "mirror"
    _run("publish", str(pub), "--ledger", str(conf.path))
    with http_server(pub) as url:
        said = _run("mirror", url, str(dest), env=observer_keys)
    assert "the book was NOT replayed" in said
    assert "the book agrees" not in said
    files = _tree(dest)
    assert "ledger.db" in files
    assert hits(files) == {}
    copy = Ledger.open(dest)
    try:
        with copy.store.read() as r, conf.store.read() as o:
            assert r.size() == o.size()
            assert not any(r.book.dump().values())
    finally:
        copy.close()


def test_the_operator_asks_for_the_whole_report_and_export_and_the_scan_finds_them(
    conf: Ledger, tmp_path: Path, observer_keys: dict[str, str]
) -> None:
    report, epcis = tmp_path / "report.md", tmp_path / "epcis.json"
    common = ["--format", "md", "--out", str(report), "--ledger", str(conf.path)]
    _run("report", "--from", "2013-09-14", "--to", "2014-12-31", *common, "--confidential")
    _run("export", "epcis", "--out", str(epcis), "--confidential", "--ledger", str(conf.path))
    found = hits({"report": report.read_bytes(), "epcis": epcis.read_bytes()})
    assert {C1, SITE} <= set(found["report"]) and {C1, SEAL1, SITE} <= set(found["epcis"])
    # An observer's keystore is not entitled to either, nor to an item's chain of custody.
    runner = CliRunner()
    for args in (
        ["report", "--from", "2013-09-14", "--to", "2014-12-31", *common, "--confidential"],
        ["export", "epcis", "--confidential", "--ledger", str(conf.path)],
        ["export", "epcis", "--item", C1, "--ledger", str(conf.path)],
    ):
        refused = runner.invoke(app, args, env=observer_keys)
        assert refused.exit_code != 0 and isinstance(refused.exception, NotEntitled), args


def test_an_observers_and_an_anonymous_visitors_api_and_pages_hold_no_marker(
    conf: Ledger,
) -> None:
    """Every book answer of the API (an observer's token) and every page (anonymous, the
    pages public) is refused as not entitled without a marker in it; the events API and
    the log explorer serve the entries' public bytes; an inspector is served the book."""
    api = make_api(conf, ["obs", "insp"], public_pages=True)
    routes = [path for path, _ in get_routes(api.app.routes)]
    assert "/api/v1/holdings" in routes and "/sites/{site_id}" in routes
    filled = {
        "{item_id}": C1,
        "{site_id}": "MKQ-SITE-A1",
        "{version}": "1",
        "{v1}": "1",
        "{v2}": "2",
        "{code}": "not-entitled",
    }
    served: dict[str, bytes] = {}
    for route in routes:
        path = route
        for hole, value in filled.items():
            path = path.replace(hole, value)
        if "{" in path or path.startswith(("/log/tile", "/openapi")):
            continue
        for who, headers in (("observer", api.auth("obs")), ("anonymous", {})):
            got = api.client.get(path, headers=headers)
            assert got.status_code < 500, (path, who, got.text[:200])
            served[f"{path} ({who})"] = _unechoed(got.content, path)
    served |= {f"/log?entry={i}": api.client.get(f"/log?entry={i}").content for i in range(25)}
    # The public map (issue 16): served, not refused, and scanned with the rest.
    for path in ("/map", "/map?at=2014-12-31", "/map/sites?day=30"):
        got = api.client.get(path)
        assert got.status_code == 200 and 'id="public-map"' in got.text, path
        served[f"{path} (public map)"] = got.content
    assert hits(served) == {}
    assert api.client.get("/api/v1/holdings", headers=api.auth("obs")).status_code == 403
    cleared = api.client.get(f"/api/v1/items/{C1}", headers=api.auth("insp"))
    assert cleared.status_code == 200 and hits({"insp": cleared.content})


# -- a destruction facility, cleared to protected ---------------------------------------------


def get_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every GET route of an app with its full path, through the routers it includes
    (FastAPI keeps an included router's routes behind it, not in `app.routes`)."""
    out: list[tuple[str, APIRoute]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            out += get_routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute) and "GET" in route.methods:
            out.append((prefix + route.path, route))
    return out


def _unechoed(answer: bytes, path: str) -> bytes:
    """An answer without the path asked for (a problem document's `instance` echoes it,
    and a marker the caller wrote in its request is not one the server gave away)."""
    return answer.replace(path.encode(), b"")


def _markers_by_class() -> dict[Class, set[str]]:
    """The markers planted in the fields of each class (a marker in fields of two classes
    is in both sets)."""
    found: dict[Class, set[str]] = {c: set() for c in Class}
    for name, body in [*_events(), _resolved(1)]:
        for f, value in body.items():
            text = json.dumps(value)
            found[field_class(EVENT_TYPES[name].body, f)] |= {m for m in PLANTED if m in text}
    return found


def _served(route: APIRoute) -> Class | None:
    """The class a route says it serves (its book dependency's), or None."""
    stack = list(route.dependant.dependencies)
    while stack:
        d = stack.pop()
        if d.call is not None and (c := served_class(d.call)) is not None:
            return c
        stack += d.dependencies
    return None


FAC_HOLES = {
    "{item_id}": [C1, C2, C3],
    "{site_id}": [SITE, PORT, VENUE, LAB],
    "{version}": ["1", "2"],
    "{v1}": ["1"],
    "{v2}": ["2"],
    "{code}": ["not-entitled"],
}


def _paths(route: str) -> list[str]:
    paths = [route]
    for hole, values in FAC_HOLES.items():
        paths = [p.replace(hole, v) for p in paths for v in (values if hole in p else [""])]
    return paths


def test_a_destruction_facility_reads_the_protected_book_and_no_highly_protected_field(
    conf: Ledger,
) -> None:
    """Logged in (a web session) and with its token, a destruction facility is served every
    book answer and page up to `protected`: no marker planted only in a highly-protected
    field (finding titles and remarks, an inspection's summary, a verification's remarks)
    is in any of them, while the protected markers are. What serves highly-protected fields
    (the findings) answers 403 naming its clearance, never 500; every route refused to an
    observer says the class it serves; no page it reads links to a 403."""
    by_class = _markers_by_class()
    highly = by_class[Class.HIGHLY_PROTECTED] - set().union(
        *(by_class[c] for c in Class if c < Class.HIGHLY_PROTECTED)
    )
    assert {"Marker summary Plq4471", "Marker remarks Bnm6605", "Marker finding Zxc9917"} <= highly
    api = make_api(conf, ["fac", "obs"])
    observer = make_api(conf, []).client  # no session cookie
    assert _log_in(api.client, api.tokens["fac"]) == 303
    served: dict[str, bytes] = {}
    refused: dict[str, Class] = {}
    routes = get_routes(api.app.routes)
    assert len(routes) > 20, [p for p, _ in routes]
    for full, route in routes:
        if full.startswith(("/log/tile", "/openapi")):
            continue
        level = _served(route)
        for path in _paths(full):
            got = api.client.get(path, headers=api.auth("fac"), follow_redirects=False)
            assert got.status_code < 500, (path, got.text[:200])
            if level is not None and level > Class.PROTECTED:
                assert got.status_code == 403, path
                detail = got.json()["detail"] if path.startswith("/api/") else got.text
                for word in ("fac", "destruction_facility", "protected", "highly-protected"):
                    assert word in detail, (path, word)
                refused[path] = level
                continue
            assert got.status_code != 403, (path, got.text[:200])
            served[path] = _unechoed(got.content, path)
            if level is not None:
                assert got.status_code == 200, (path, got.text[:200])
            if path.startswith("/api/"):
                # an API route refuses an observer if, and only if, it says its class
                as_observer = observer.get(path, headers=api.auth("obs"))
                assert (as_observer.status_code == 403) == (level is not None), path
    assert {"/api/v1/findings", "/findings"} <= set(refused)
    assert {"/", "/map", "/balances", f"/items/{C1}", f"/sites/{SITE}"} <= set(served)
    # Every link of every page it reads opens for it (the navigation hides the findings).
    links = {
        href
        for path, body in served.items()
        if not path.startswith("/api/")
        for href in re.findall(rb'href="(/[^"#]*)', body)
        if not href.startswith((b"/static", b"/log/"))
    }
    assert b"/findings" not in links and b"/balances" in links
    for href in sorted(links):
        got = api.client.get(href.decode().replace("&amp;", "&"), follow_redirects=False)
        assert got.status_code not in (403,) and got.status_code < 500, (href, got.status_code)
    found = {m for ms in hits(served).values() for m in ms}
    assert not found & highly, sorted(found & highly)
    assert {SITE, C1, C2, C3, SEAL1, "Marker Site Qzx7731", "MKQ-TAG-T1"} <= found
    # the scan is not blind: protected markers of each kind reach it (sites, their names
    # and coordinates, items, declared masses, seals, tags, a batch's product)
    protected = {SITE, PORT, VENUE, SITE9, C1, C2, C3, SEAL1, SEAL2, PRODUCT, "MKQ-TAG-T1"}
    protected |= {"Marker Site Qzx7731", "33.987123", "4321.987"}
    assert protected <= by_class[Class.PROTECTED] - by_class[Class.HIGHLY_PROTECTED]
    assert protected <= found, sorted(protected - found)
