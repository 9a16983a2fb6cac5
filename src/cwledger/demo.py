"""`make demo`: the ledger's job on a small scale, through the real append path, then the
audit and an offline check of an entry against the signed checkpoint.

A declaration of eight items at three storage sites, an observer's estimate, the
inspectorate's initial inspections (tags, seals, seal checks), the first consignment to
the port of loading and the in-country destruction of the isopropanol lot; a refused
claim; holdings now and before the first consignment, a chain of custody and the findings
the book raised by itself. Dates are the public milestones of the 2013-2014 operation
(shared/SCENARIO-2013.md); sites, items and masses are fictional.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from itertools import count
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cwledger.book import answers
from cwledger.book.answers import HoldingLine, moment
from cwledger.errors import EventRejected, VerificationError
from cwledger.ledger.admission import Receipt
from cwledger.ledger.audit import audit
from cwledger.ledger.events import Role
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import check_book
from cwledger.tlog import verify_consistency, verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Verifier

ORIGIN = "example.org/cwledger/demo"
console = Console(record=True, width=100)
_ids = count(1)


def _ev(type_: str, time: str, **body: Any) -> dict[str, Any]:
    return {"type": type_, "id": f"demo-{next(_ids):04d}", "time": time, "body": body}


def _mass(kg: float, u: float, method: str) -> dict[str, Any]:
    return {"kg": kg, "u_random_kg": u, "u_systematic_kg": 0.0, "method": method}


def _site(site: str, name: str, kind: str, lat: float, lon: float) -> dict[str, Any]:
    coordinates = {"lat": lat, "lon": lon}
    return {
        "id": site,
        "name": name,
        "kind": kind,
        "coordinates": coordinates,
        "party": "declarant",
    }


SITES = [
    _site("SITE-A", "Storage site A", "storage", 34.6, 36.9),
    _site("SITE-B", "Storage site B", "storage", 35.1, 37.2),
    _site("SITE-C", "Storage site C", "storage", 33.9, 36.6),
    _site("PORT", "Port of loading", "port", 35.5, 35.8),
]
NAMES = {s["id"]: s["name"] for s in SITES}
CHEMICALS = [
    {
        "label": "DF",
        "cwc_category": 1,
        "schedule": {"number": 1, "part": "B", "entry": 9},
        "removal_priority": "1",
    },
    {
        "label": "HD",
        "cwc_category": 1,
        "schedule": {"number": 1, "part": "A", "entry": 4},
        "removal_priority": "1",
    },
    {"label": "isopropanol", "cwc_category": 1, "removal_priority": "in-country"},
    {"label": "HF", "cwc_category": 2, "removal_priority": "2"},
]
# (item, kind, chemical, declared kg, site): the items to remove are C-01 to C-06.
STOCK = [
    ("C-01", "container", "DF", 1000.0, "SITE-A"),
    ("C-02", "container", "DF", 1000.0, "SITE-A"),
    ("C-03", "container", "HD", 500.0, "SITE-A"),
    ("C-04", "container", "DF", 1000.0, "SITE-B"),
    ("C-05", "container", "HF", 800.0, "SITE-B"),
    ("C-06", "container", "HF", 800.0, "SITE-B"),
    ("L-07", "bulk_lot", "isopropanol", 2000.0, "SITE-C"),
    ("C-08", "container", "HF", 800.0, "SITE-C"),
]
REMOVED = {"SITE-A": ["C-01", "C-02", "C-03"], "SITE-B": ["C-04", "C-05", "C-06"]}
SEAL = {item: f"TS-{n:04d}" for n, item in enumerate(REMOVED["SITE-A"] + REMOVED["SITE-B"], 1)}
BROKEN = "C-05"  # its seal is found broken: it stays at its site
DECLARED = {item: kg for item, _, _, kg, _ in STOCK}

# 1. The listing within a week of the Framework (20 Sep 2013) and an observer's estimate.
DECLARATION = [
    _ev(
        "declaration.submitted",
        "2013-09-20T12:00:00Z",
        version=1,
        part=1,
        parts=1,
        legal_basis="Framework for Elimination of Syrian Chemical Weapons, 14 Sep 2013",
        due="2013-09-21",
        chemicals=CHEMICALS,
        sites=SITES,
        items=[
            {
                "id": item,
                "kind": kind,
                "chemical": chemical,
                "declared": _mass(kg, kg / 200, "declared"),
                "site": site,
            }
            for item, kind, chemical, kg, site in STOCK
        ],
    )
]
ESTIMATE = [
    _ev(
        "estimate.recorded",
        "2013-09-14T12:00:00Z",
        estimate={
            "party": "observer",
            "value": 1000,
            "u": 100,
            "unit": "t",
            "method": "published government assessment (about 1,000 t), rounded",
            "scope": "total",
        },
    )
]


# 2. Initial inspections in October 2013 (tag and seal the items to remove), then a check
# of every seal the day before the first consignment.
def _initial_inspection(n: int, site: str, day: str) -> list[dict[str, Any]]:
    items = REMOVED[site]
    return [
        _ev(
            "inspection.opened",
            f"{day}T08:00:00Z",
            inspection=f"INS-{n:02d}",
            site=site,
            kind="initial",
        ),
        *[_ev("item.tagged", f"{day}T10:00:00Z", item=i, tag=f"TAG-{i}", site=site) for i in items],
        *[
            _ev(
                "seal.applied",
                f"{day}T11:00:00Z",
                seal=SEAL[i],
                type="metal_cap",
                closes={"kind": "item", "id": i},
            )
            for i in items
        ],
        _ev(
            "inspection.closed",
            f"{day}T17:00:00Z",
            inspection=f"INS-{n:02d}",
            summary=f"{len(items)} items tagged and sealed",
        ),
    ]


INSPECTIONS = [
    *_initial_inspection(1, "SITE-A", "2013-10-08"),
    *_initial_inspection(2, "SITE-B", "2013-10-09"),
    *[
        _ev(
            "seal.checked",
            "2014-01-06T09:00:00Z",
            seal=seal,
            condition="broken" if item == BROKEN else "intact",
            method="identity_match",
        )
        for item, seal in SEAL.items()
    ],
]


# 3. The first consignment (7 Jan 2014) from two sites to the port, with both ends'
# weighings, and the in-country destruction of the isopropanol lot (>93 % by 4 Mar 2014).
def _lines(items: Sequence[str], kg: dict[str, float]) -> list[dict[str, Any]]:
    return [{"item": i, "measured": _mass(kg.get(i, DECLARED[i]), 2.0, "weighing")} for i in items]


SHIPPED = {site: [i for i in items if i != BROKEN] for site, items in REMOVED.items()}
RECEIVED_KG = {"C-02": 962.5}  # the one weighing that disagrees with the shipper's
ISOPROPANOL_DESTROYED_KG = 1860.0  # 93 % of the lot
MOVES = [
    *[
        _ev(
            "transfer.shipped",
            "2014-01-07T05:00:00Z",
            transfer=f"TR-0{n}",
            origin=site,
            destination="PORT",
            due="2014-01-08T00:00:00Z",
            consignment="first consignment",
            items=_lines(items, {}),
        )
        for n, (site, items) in enumerate(SHIPPED.items(), 1)
    ],
    *[
        _ev(
            "transfer.received",
            "2014-01-07T13:00:00Z",
            transfer=f"TR-0{n}",
            site="PORT",
            items=_lines(items, RECEIVED_KG),
        )
        for n, items in enumerate(SHIPPED.values(), 1)
    ],
    _ev(
        "destruction.batch",
        "2014-03-04T18:00:00Z",
        batch="B-ISO-1",
        method="in-country destruction",
        venue="SITE-C",
        start="2014-02-15T00:00:00Z",
        end="2014-03-04T12:00:00Z",
        items=[{"item": "L-07", "kg": ISOPROPANOL_DESTROYED_KG}],
    ),
]
VERIFIED = [
    _ev(
        "destruction.verified",
        "2014-03-04T19:00:00Z",
        batch="B-ISO-1",
        remarks="93 % of the isopropanol destroyed in situ",
    )
]
# 4. A claim that contradicts the book: C-01 shipped again from the site it has left.
CONTRADICTION = _ev(
    "transfer.shipped",
    "2014-03-05T08:00:00Z",
    transfer="TR-03",
    origin="SITE-A",
    destination="PORT",
    due="2014-03-06T00:00:00Z",
    items=[{"item": "C-01"}],
)
CUSTODY_OF = "C-02"
BEFORE = "2014-01-06"  # the eve of the first consignment


def _say(label: str, text: str) -> None:
    """One line of the story: a label on the left, the text wrapped beside it."""
    line = Table.grid(padding=(0, 1))
    line.add_column(width=13, justify="right")
    line.add_column()
    line.add_row(label, text)
    console.print(line)


def _size(ledger: Ledger) -> int:
    with ledger.store.read() as r:
        return r.size()


def _append(ledger: Ledger, party: str, events: list[dict[str, Any]], what: str) -> list[Receipt]:
    """Sign and append as `party`; print the entries and any finding the book raised."""
    with ledger.store.read() as r:
        known = len(answers.findings(r.book))
    receipts = ledger.append(ledger.sign(events, party))
    first, last = receipts[0].index, receipts[-1].index
    entries = f"entry {first}" if first == last else f"entries {first}-{last}"
    _say(f"{party}:", f"{what} [dim]({entries})[/]")
    with ledger.store.read() as r:
        for f in answers.findings(r.book)[known:]:
            _say("", f"[yellow]finding {f.finding.number}[/] raised by the book: {f.finding.title}")
    return receipts


def _kg(line: HoldingLine | None) -> str:
    return "-" if line is None else f"{line.grams / 1000:,.1f} ({line.items})"


def _compare(
    title: str, group: str, before: list[HoldingLine], now: list[HoldingLine], names: dict[str, str]
) -> Table:
    """A table of what was held at BEFORE and now, a line per group."""
    table = Table(group, BEFORE, "now", title=title, title_justify="left")
    old, new = {h.key: h for h in before}, {h.key: h for h in now}
    for key in sorted(old.keys() | new.keys()):
        table.add_row(names.get(key, key), _kg(old.get(key)), _kg(new.get(key)))
    return table


def main(path: Path = Path("demo-ledger")) -> None:
    """Build, audit and prove the demo ledger in `path` (replaced if present)."""
    if path.exists():
        shutil.rmtree(path)
    console.rule("[bold]cwledger demo: a small stockpile, declared, sealed, moved, verified")
    founding: list[tuple[str, Role]] = [
        ("declarant", "declarant"),
        ("inspectorate", "inspectorate"),
        ("observer", "observer"),
    ]
    ledger = Ledger.init(path, ORIGIN, founding=founding, time="2013-09-14T00:00:00Z")
    _say("init:", "parties declarant, inspectorate, observer [dim](entry 0)[/]")
    _append(
        ledger,
        "declarant",
        DECLARATION,
        f"declaration v1 of 20 Sep 2013: {len(CHEMICALS)} chemicals, {len(SITES)} sites,"
        f" {len(STOCK)} items, {sum(DECLARED.values()):,.0f} kg",
    )
    _append(ledger, "observer", ESTIMATE, "estimate of the whole stockpile: 1,000 t +/- 100 t")
    sealed = _append(
        ledger,
        "inspectorate",
        INSPECTIONS,
        f"{len(SEAL)} items tagged and sealed 8-9 Oct 2013, seals checked 6 Jan 2014",
    )
    moves = _append(
        ledger,
        "declarant",
        MOVES,
        f"{sum(map(len, SHIPPED.values()))} items to the port 7 Jan 2014;"
        f" {ISOPROPANOL_DESTROYED_KG:,.0f} kg of isopropanol destroyed",
    )
    _append(ledger, "inspectorate", VERIFIED, "destruction batch B-ISO-1 verified, 4 Mar 2014")

    size = _size(ledger)
    try:
        ledger.append(ledger.sign([CONTRADICTION], "declarant"))
        _say("refused:", "[red]NOT REFUSED[/]: C-01 shipped again from SITE-A")
    except EventRejected as e:
        written = "nothing written" if _size(ledger) == size else "[red]SOMETHING WRITTEN[/]"
        reasons = "; ".join(p.message for p in e.problems)
        _say("refused:", f"C-01 shipped again from SITE-A ({written}): [red]{reasons}[/]")
    again = ledger.append(ledger.sign(INSPECTIONS, "inspectorate"))
    dup = all(r.duplicate for r in again)
    _say("retry:", f"the inspections' {len(again)} events signed again, all duplicates: {dup}")

    with ledger.store.read() as r:
        at = moment(BEFORE)
        by_site = _compare(
            "held by site, kg (items)",
            "site",
            answers.holdings(r.book, at=at),
            answers.holdings(r.book),
            NAMES,
        )
        by_category = _compare(
            "held by category, kg (items)",
            "category",
            answers.holdings(r.book, at=at, by="category"),
            answers.holdings(r.book, by="category"),
            {},
        )
        custody = answers.chain_of_custody(r, CUSTODY_OF)
        found = answers.findings(r.book, "open")
    grid = Table.grid(padding=(0, 2))
    grid.add_row(by_site, by_category)
    console.print(grid)
    chain = Table("entry", "time", "type", "summary", title=f"chain of custody of {CUSTODY_OF}")
    chain.title_justify = "left"
    for c in custody:
        chain.add_row(str(c.index), c.time[:16].replace("T", " "), c.type, c.summary)
    console.print(chain)
    open_findings = Table("no.", "rule", "title", title="open findings", title_justify="left")
    for f in found:
        open_findings.add_row(str(f.finding.number), f.rule, f.finding.title)
    console.print(open_findings)

    report = audit(ledger.store)
    console.print(
        f"[green]audit passed[/]: {report.size} entries, {report.checkpoints} checkpoints,"
        f" {report.parties} parties; root {report.root_hash.hex()[:32]}..."
    )
    check_book(ledger.store)
    console.print("[green]book agrees[/] with a replay of the log, table by table")
    cp = ledger.latest_checkpoint()
    console.print("\n[bold]latest checkpoint[/] (C2SP signed note):")
    console.print(cp.note, end="", highlight=False, markup=False)

    # An observer's offline check: pin the log key, open the note, check proofs of the
    # arrival at the port and that the log of 6 Jan 2014 is a prefix of today's.
    log_key = Verifier.from_vkey(ledger.authority().log_vkey or "")
    signed, _ = Checkpoint.from_note(cp.note.encode(), [log_key], origin=ORIGIN)
    arrival = moves[len(SHIPPED)].index  # the first transfer.received
    inc = ledger.prove_inclusion(arrival)
    verify_inclusion(
        bytes.fromhex(inc["leaf_hash"]),
        arrival,
        signed.size,
        [bytes.fromhex(h) for h in inc["proof"]],
        signed.root_hash,
    )
    eve = sealed[-1].index + 1  # the tree as it stood after the seal checks
    con = ledger.prove_consistency(eve)
    verify_consistency(
        eve,
        signed.size,
        [bytes.fromhex(h) for h in con["proof"]],
        bytes.fromhex(con["root1"]),
        signed.root_hash,
    )
    table = Table("offline check", "result")
    table.columns[0].no_wrap = True
    table.add_row("checkpoint signature (pinned log key)", "[green]valid[/]")
    table.add_row(
        f"entry {arrival} (arrival at the port) in tree of {signed.size}",
        f"[green]proved[/] ({len(inc['proof'])} hashes)",
    )
    table.add_row(
        f"tree of {eve} (6 Jan 2014) a prefix of tree of {signed.size}",
        f"[green]proved[/] ({len(con['proof'])} hashes)",
    )

    # Tamper with a copy: one byte of one stored envelope, the receiver's weighing of C-02.
    genuine, forged = json.dumps(RECEIVED_KG[CUSTODY_OF]).encode(), b"992.5"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(path, copy)
        with sqlite3.connect(copy / "ledger.db") as db:
            query = "SELECT envelope FROM log_entry WHERE idx = ?"
            (env,) = db.execute(query, (arrival,)).fetchone()
            start = env.index(b'"payload":"') + len(b'"payload":"')
            end = env.index(b'"', start)
            payload = base64.b64decode(env[start:end])
            edited = payload.replace(b'"kg":' + genuine, b'"kg":' + forged)
            assert len(edited) == len(payload) and edited != payload
            changed = env[:start] + base64.b64encode(edited) + env[end:]
            db.execute("UPDATE log_entry SET envelope = ? WHERE idx = ?", (changed, arrival))
        tampered = Ledger.open(copy)
        tamper = f"copy with {genuine.decode()} kg edited to {forged.decode()} kg"
        try:
            audit(tampered.store)
            table.add_row(tamper, "[red]NOT DETECTED[/]")
        except VerificationError as e:
            table.add_row(tamper, f"[green]caught[/]: {e}")
        tampered.close()
    console.print(table)
    hint = f"cwledger item {CUSTODY_OF} --ledger {path}"
    console.print(f"\nledger kept in [bold]{path}[/]; try: [cyan]{hint}[/]")
    ledger.close()


if __name__ == "__main__":
    import sys

    main()
    if len(sys.argv) == 3 and sys.argv[1] == "--svg":  # the README's screenshot
        console.save_svg(sys.argv[2], title="make demo")
