"""`make demo`: the 2013-2016 elimination replayed, verified, and answered.

Loads the `syria-2013` scenario (``cwledger.scenario.syria_2013``: public aggregate facts,
fictional sites) into a fresh SQLite ledger through the real append path, confidential as
the record was (sealed bodies, a day-one escrow, aggregates proven against it), audits
every entry and replays the book against the stored one with the operator's keys, prints
where the elimination stood and which milestones were met (the secretariat's view),
checks every public aggregate from an offline bundle of public entries as an observer
would, beside the shares the reports gave, checks an entry offline against the checkpoint
(the log key and three witnesses' keys pinned, a quorum of two cosignatures), shows that
a changed byte is caught and that the witnesses refuse a fork of the log, says how to
look further, and ends by serving the dashboard over it on 127.0.0.1 (``--no-serve`` to
stop after the answers). The witnesses (`demo-ledger/witnesses/`) answer in this process.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cwledger.book import answers, progress
from cwledger.errors import VerificationError
from cwledger.escrow.observer import observe_bundle, public_record_indices
from cwledger.ledger.audit import audit
from cwledger.ledger.bundle import build_bundle
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import check_book
from cwledger.ledger.witnessing import AddCheckpoint, Asked, collect_cosignatures
from cwledger.model.events import WITNESS_POLICY
from cwledger.scenario import syria_2013
from cwledger.scenario.syria_2013.public_record import against_reports
from cwledger.tables import facilities_table, milestones_table, shown, status_table
from cwledger.time import parse_moment
from cwledger.tlog import verify_consistency, verify_inclusion
from cwledger.tlog.monitor import Policy, open_checkpoint
from cwledger.witness.local import LocalWitness
from cwledger.witness.store import init_witness

console = Console(record=True, width=110)


def _status(facts: progress.Facts, day: str | None) -> Table:
    doc = progress.status(facts, None if day is None else parse_moment(day)).to_json()
    return status_table(doc, f"where the elimination stood: {day or 'now'}", detail=False)


def _milestones(facts: progress.Facts) -> Table:
    docs = [m.to_json() for m in progress.milestones(facts)]
    return milestones_table(docs, "milestones", detail=False)


WITNESSES = 3
WITNESS_QUORUM = 2


def _witness_urls(n: int = WITNESSES) -> list[str]:
    # Names in the policy only: the demonstration answers for its witnesses in this process.
    return [f"http://witness-{i}.demo.invalid" for i in range(1, n + 1)]


def open_witnesses(path: Path) -> dict[str, LocalWitness]:
    """The demonstration's witnesses (`path/witnesses/<i>`), by their URL in the policy."""
    return {
        url: LocalWitness.open(path / "witnesses" / str(i), url)
        for i, url in enumerate(_witness_urls(), 1)
    }


def _post(witnesses: dict[str, LocalWitness]) -> AddCheckpoint:
    def post(url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        return witnesses[url].add_checkpoint(old, proof, note)

    return post


def _name_witnesses(
    ledger: Ledger, witnesses: dict[str, LocalWitness], quorum: int = WITNESS_QUORUM
) -> list[Asked]:
    """A `witness.policy` naming `witnesses` with `quorum`, approved by the founding
    parties; then the witnesses are asked to cosign the new checkpoint."""
    body = {
        "witnesses": [{"url": url, "key": w.vkey} for url, w in witnesses.items()],
        "quorum": quorum,
    }
    k, founders = ledger.authority().quorum_for(None)
    approvals = [ledger.approve(WITNESS_POLICY, body, party) for party in founders[:k]]
    ledger.submit_approved(WITNESS_POLICY, body, approvals, "operator")
    return collect_cosignatures(ledger, post=_post(witnesses))


def _add_witnesses(ledger: Ledger, path: Path) -> dict[str, LocalWitness]:
    """Three witnesses of the log, each with its own key and state, named in a policy with
    a quorum of 2; they cosign the newest checkpoint."""
    authority = ledger.authority()
    assert authority.origin is not None and authority.log_vkey is not None
    for i in range(1, WITNESSES + 1):
        init_witness(path / "witnesses" / str(i), f"witness-{i}.demo.example")
    witnesses = open_witnesses(path)
    for w in witnesses.values():
        w.store.add_log(authority.origin, authority.log_vkey)
    asked = _name_witnesses(ledger, witnesses)
    assert all(a.cosigned for a in asked), asked
    return witnesses


def _offline_check(ledger: Ledger, witnesses: dict[str, LocalWitness], table: Table) -> None:
    """An observer pins the log key and the witnesses' keys, opens the checkpoint with a
    quorum of 2 and checks two proofs."""
    cp = ledger.latest_checkpoint()
    pinned = [w.vkey for w in witnesses.values()]
    policy = Policy(ledger.authority().log_vkey or "", tuple(pinned), WITNESS_QUORUM)
    opened = open_checkpoint(cp.cosigned_note.encode(), policy, origin=syria_2013.ORIGIN)
    signed = opened.checkpoint
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
        f"cosigned by a quorum of {WITNESS_QUORUM} of the {len(pinned)} pinned witnesses",
        f"[green]{len(opened.cosigned_by)} of {len(pinned)}[/] cosigned",
    )
    table.add_row(
        f"entry {index} in the tree of {signed.size}",
        f"[green]proved[/] ({len(inc['proof'])} hashes)",
    )
    table.add_row(
        f"tree of 500 a prefix of the tree of {signed.size}",
        f"[green]proved[/] ({len(con['proof'])} hashes)",
    )


def _public_record(ledger: Ledger, witnesses: dict[str, LocalWitness]) -> None:
    """An observer who reads no sealed part: a bundle of the public record (the escrow
    roots, the proofs, the aggregates) checked with the keys it pinned, every aggregate
    recomputed from it, and the shares beside those the facts file reports."""
    with ledger.store.read() as r:
        cp = r.latest_checkpoint()
        assert cp is not None
        data = build_bundle(
            r,
            ledger.tree(r, cp.size),
            cp,
            public_record_indices(r),
            checkpoint_note=cp.cosigned_note,
            witness_vkeys=[w.vkey for w in witnesses.values()],
            quorum=WITNESS_QUORUM,
        )
    checks, checked = observe_bundle(
        data,
        log_vkey=ledger.authority().log_vkey,
        witness_vkeys=[w.vkey for w in witnesses.values()],
        quorum=WITNESS_QUORUM,
    )
    proven = sum(c.proven for c in checks)
    table = Table(
        "day",
        "share",
        "reported",
        "proven",
        title=(
            f"the public record, as an observer checks it: {proven} of {len(checks)} aggregates"
            f" proven from {len(checked.entries):,} public entries (pinned keys, quorum"
            f" {WITNESS_QUORUM})"
        ),
    )
    for c in against_reports(checks):
        shown_pct = "-" if c.proven is None else f"{c.proven:.1f} %"
        table.add_row(c.day, c.what, f"{c.reported:.1f} %", shown_pct)
    console.print(table)
    decoded = _decoded_text(data)
    items = sum(decoded.count(f'"{i}"') for i in ("DF-001", "M-0001", "S-01"))
    console.print(
        f"  the observer's bundle ({len(data):,} bytes, every envelope decoded) names"
        f" {items} item or site: the declarations and the custody stay sealed"
    )


def _decoded_text(bundle: bytes) -> str:
    """A bundle's text with every envelope and payload decoded (for the scan)."""
    doc = json.loads(bundle)
    parts = [bundle.decode()]
    for e in doc["entries"]:
        envelope = json.loads(base64.b64decode(e["envelope"]))
        parts.append(base64.b64decode(envelope["payload"]).decode())
    return "\n".join(parts)


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


def _fork(copy: Path, witnesses: dict[str, LocalWitness], table: Table) -> None:
    """`copy` is the ledger as it was before its witness policy: extended otherwise (the
    same policy with another quorum, signed by the same log key), it is a fork of the
    log, and the witnesses that cosigned the original refuse its checkpoint."""
    forked = Ledger.open(copy)
    try:
        asked = _name_witnesses(forked, witnesses, quorum=WITNESSES)
    finally:
        forked.close()
    refused = [a for a in asked if not a.cosigned]
    why = refused[0].failure if refused else ""
    result = (
        f"[green]refused by {len(refused)} of {len(asked)}[/]: {shown(why)}"
        if len(refused) == len(asked)
        else f"[red]COSIGNED by {len(asked) - len(refused)}[/]"
    )
    table.add_row("a fork (an earlier copy, extended otherwise) sent to the witnesses", result)


def main(path: Path = Path("demo-ledger")) -> None:
    """Load, verify and answer the syria-2013 scenario in `path` (replaced if present)."""
    if path.exists():
        shutil.rmtree(path)
    console.rule("[bold]cwledger demo: the 2013-2016 elimination, replayed and verified")
    ledger = syria_2013.load(path)
    before_witnesses = Path(tempfile.mkdtemp()) / "fork"
    shutil.copytree(path, before_witnesses)
    witnesses = _add_witnesses(ledger, path)
    cp = ledger.latest_checkpoint()
    console.print(
        f"loaded [bold]syria-2013[/]: {cp.size:,} signed events from the Geneva framework"
        " (14 Sep 2013) to the last cylinders (4 Jan 2016), through the real append path"
    )
    report = audit(ledger.store)
    check_book(ledger.store, None, ledger.operator_keys())
    console.print(
        f"[green]verified[/]: {report.size:,} entries ({report.sealed:,} sealed to the parties"
        f" cleared to read them), {report.checkpoints} checkpoints, {report.cosignatures}"
        f" witness cosignatures, {report.parties} parties; every signature, key, role, tile"
        " and seal; the book agrees with a replay of the log opened with the operator's keys."
        f" Root {report.root_hash.hex()[:32]}..."
    )
    console.print(
        "[bold]the secretariat's view[/] (its book, from the sealed declarations and custody):"
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
    _public_record(ledger, witnesses)
    checks = Table("an observer's offline check", "result")
    _offline_check(ledger, witnesses, checks)
    _tamper(path, checks)
    _fork(before_witnesses, witnesses, checks)
    shutil.rmtree(before_witnesses.parent)
    console.print(checks)
    ledger.close()
    for w in witnesses.values():
        w.close()
    console.print(f"\nledger kept in [bold]{shown(path)}[/]; look further with:")
    for cmd in (
        "status --at 2014-03-31",
        "milestones --at 2014-01-01",
        "holdings --by priority",
        "item DF-001",
        "where DF-001 --at 2014-07-01",
        "findings --status open",
        "verify",
        "verify --as venue-cape-ray",
        "aggregates check",
        "escrow status",
        "witnesses list",
        "export epcis --item DF-001 --confidential --out df-001.json",
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
    # The demonstration's witnesses answer in this process: new batches are cosigned too.
    app = create_app(settings, witness_post=_post(open_witnesses(path)))
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
