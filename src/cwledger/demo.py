"""`make demo`: the 2013-2016 elimination replayed, verified, and answered.

Loads the `syria-2013` scenario (``cwledger.scenario.syria_2013``: public aggregate facts,
fictional sites) into a fresh SQLite ledger through the real append path, audits every
entry and replays the book against the stored one, prints where the elimination stood and
which milestones were met, checks an entry offline against the signed checkpoint as an
observer would, shows that a changed byte is caught, says how to look further, and ends by
serving the dashboard over it on 127.0.0.1 (``--no-serve`` to stop after the answers).
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cwledger.book import answers, progress
from cwledger.errors import VerificationError
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import check_book
from cwledger.scenario import syria_2013
from cwledger.tables import facilities_table, milestones_table, shown, status_table
from cwledger.time import parse_moment
from cwledger.tlog import verify_consistency, verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Verifier

console = Console(record=True, width=110)


def _status(facts: progress.Facts, day: str | None) -> Table:
    doc = progress.status(facts, None if day is None else parse_moment(day)).to_json()
    return status_table(doc, f"where the elimination stood: {day or 'now'}", detail=False)


def _milestones(facts: progress.Facts) -> Table:
    docs = [m.to_json() for m in progress.milestones(facts)]
    return milestones_table(docs, "milestones", detail=False)


def _offline_check(ledger: Ledger, table: Table) -> None:
    """An observer pins the log key, opens the checkpoint and checks two proofs."""
    cp = ledger.latest_checkpoint()
    log_key = Verifier.from_vkey(ledger.authority().log_vkey or "")
    signed, _ = Checkpoint.from_note(cp.note.encode(), [log_key], origin=syria_2013.ORIGIN)
    index = 1000
    inc = ledger.prove_inclusion(index)
    verify_inclusion(
        bytes.fromhex(inc["leaf_hash"]),
        index,
        signed.size,
        [bytes.fromhex(h) for h in inc["proof"]],
        signed.root_hash,
    )
    con = ledger.prove_consistency(500)
    verify_consistency(
        500,
        signed.size,
        [bytes.fromhex(h) for h in con["proof"]],
        bytes.fromhex(con["root1"]),
        signed.root_hash,
    )
    table.add_row("checkpoint signature (pinned log key)", "[green]valid[/]")
    table.add_row(
        f"entry {index} in the tree of {signed.size}",
        f"[green]proved[/] ({len(inc['proof'])} hashes)",
    )
    table.add_row(
        f"tree of 500 a prefix of the tree of {signed.size}",
        f"[green]proved[/] ({len(con['proof'])} hashes)",
    )


def _tamper(path: Path, table: Table) -> None:
    """Change one byte of one stored envelope in a copy: the audit names the entry."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(path, copy)
        with sqlite3.connect(copy / "ledger.db") as db:
            (env,) = db.execute("SELECT envelope FROM log_entry WHERE idx = 1200").fetchone()
            at = env.index(b'"payload":"') + 60
            changed = env[:at] + (b"B" if env[at : at + 1] == b"A" else b"A") + env[at + 1 :]
            db.execute("UPDATE log_entry SET envelope = ? WHERE idx = 1200", (changed,))
        tampered = Ledger.open(copy)
        try:
            audit(tampered.store)
            table.add_row("a copy with one byte changed", "[red]NOT DETECTED[/]")
        except VerificationError as e:
            table.add_row("a copy with one byte changed", f"[green]caught[/]: {shown(e)}")
        finally:
            tampered.close()


def main(path: Path = Path("demo-ledger")) -> None:
    """Load, verify and answer the syria-2013 scenario in `path` (replaced if present)."""
    if path.exists():
        shutil.rmtree(path)
    console.rule("[bold]cwledger demo: the 2013-2016 elimination, replayed and verified")
    ledger = syria_2013.load(path)
    cp = ledger.latest_checkpoint()
    console.print(
        f"loaded [bold]syria-2013[/]: {cp.size:,} signed events from the Geneva framework"
        " (14 Sep 2013) to the last cylinders (4 Jan 2016), through the real append path"
    )
    report = audit(ledger.store)
    check_book(ledger.store)
    console.print(
        f"[green]verified[/]: {report.size:,} entries, {report.checkpoints} checkpoints,"
        f" {report.parties} parties; every signature, key, role and tile; the book agrees"
        f" with a replay of the log. Root {report.root_hash.hex()[:32]}..."
    )
    with ledger.store.read() as r:
        facts = progress.load_facts(r.book)
        found = answers.findings(r.book)
    console.print(_status(facts, "2014-04-24"))
    console.print(_status(facts, None))
    for day in ("2015-03-31", None):
        when = None if day is None else parse_moment(day)
        block = answers.status_document(facts, when)["facilities"]
        console.print(facilities_table(block, f"production facilities: {day or 'now'}"))
    console.print(_milestones(facts))
    caught = [f for f in found if f.rule != "raised"]
    dat = [f for f in found if f.rule == "raised"]
    open_dat = sum(f.finding.status.value == "open" for f in dat)
    console.print(
        f"findings: {len(dat)} outstanding issues of the declaration assessment, {open_dat}"
        f" still open; caught by the rules on their own:"
    )
    for f in caught:
        console.print(f"  {f.finding.number}. ({f.finding.status.value}) {shown(f.finding.title)}")
    checks = Table("an observer's offline check", "result")
    _offline_check(ledger, checks)
    _tamper(path, checks)
    console.print(checks)
    ledger.close()
    console.print(f"\nledger kept in [bold]{shown(path)}[/]; look further with:")
    for cmd in (
        "status --at 2014-03-31",
        "milestones --at 2014-01-01",
        "holdings --by priority",
        "item DF-001",
        "where DF-001 --at 2014-07-01",
        "findings --status open",
        "verify",
        "export epcis --item DF-001",
    ):
        console.print(f"  [cyan]cwledger {cmd} --ledger {shown(path)}[/]")


def serve(path: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the dashboard and the API over the demonstration ledger until interrupted
    (pages public: the scenario is public and aggregate; the next free port from `port`)."""
    # Start-up time: only serving needs the server (`--no-serve` and `--svg` do not).
    import uvicorn

    from cwledger.api import create_app
    from cwledger.http.settings import Settings

    for candidate in range(port, port + 50):
        with socket.socket() as s:
            if s.connect_ex((host, candidate)) != 0:
                port = candidate
                break
    settings = Settings(ledger=path, public_pages=True, host=host, port=port)
    app = create_app(settings)
    console.print(
        f"\n[bold]dashboard[/]: http://{settings.host}:{settings.port}/  (the API at /api/v1,"
        " described at /openapi.json, the log at /log/; Ctrl-C to stop)"
    )
    sys.stdout.flush()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
    if len(sys.argv) == 3 and sys.argv[1] == "--svg":  # the README's screenshot
        console.save_svg(sys.argv[2], title="make demo")
    elif "--no-serve" not in sys.argv:
        serve(Path("demo-ledger"))
