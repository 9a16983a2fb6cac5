"""`make demo`: build a small ledger through the real append path, audit it, and show
that anyone can check an entry offline against the signed checkpoint.

The events are a handful of the first weeks of the 2013 operation, from public aggregate
facts (dates as in shared/SCENARIO-2013.md); sites are fictional. The full scenario replay
comes with `cwledger scenario load syria-2013`.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cwledger.errors import VerificationError
from cwledger.ledger.audit import audit
from cwledger.ledger.events import Role
from cwledger.ledger.ledger import Ledger
from cwledger.tlog import verify_consistency, verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Verifier

ORIGIN = "example.org/cwledger/demo"
console = Console(record=True, width=100)


def _ev(n: int, type_: str, time: str, **body: Any) -> dict[str, Any]:
    return {"type": type_, "id": f"demo-{n:04d}", "time": time, "body": body}


DECLARANT = [
    _ev(1, "declaration.submitted", "2013-09-20T12:00:00Z", version=1, note="initial disclosure"),
    *[
        _ev(10 + i, "site.declared", "2013-09-21T12:00:00Z", site=f"SITE-{i:02d}", kind="storage")
        for i in range(1, 6)
    ],
    _ev(20, "declaration.amended", "2013-10-03T12:00:00Z", amends=1, note="further information"),
]
INSPECTORATE = [
    *[
        _ev(30 + i, "inspection.opened", f"2013-10-{1 + i:02d}T08:00:00Z", site=f"SITE-{i:02d}")
        for i in range(1, 6)
    ],
    *[
        _ev(
            40 + i,
            "seal.applied",
            f"2013-10-{1 + i:02d}T15:00:00Z",
            seal=f"TS-{i:04d}",
            site=f"SITE-{i:02d}",
        )
        for i in range(1, 6)
    ],
    *[
        _ev(50 + i, "inspection.closed", f"2013-10-{1 + i:02d}T18:00:00Z", site=f"SITE-{i:02d}")
        for i in range(1, 6)
    ],
]
OBSERVER = [_ev(60, "estimate.recorded", "2013-09-14T12:00:00Z", scope="total", value_t=1000)]


def main(path: Path = Path("demo-ledger")) -> None:
    """Build, audit and prove the demo ledger in `path` (replaced if present)."""
    if path.exists():
        shutil.rmtree(path)
    console.rule("[bold]cwledger demo: a small ledger, verified")
    founding: list[tuple[str, Role]] = [
        ("declarant", "declarant"),
        ("inspectorate", "inspectorate"),
        ("observer", "observer"),
    ]
    ledger = Ledger.init(path, ORIGIN, founding=founding, time="2013-09-14T00:00:00Z")
    for party, events in (
        ("declarant", DECLARANT),
        ("inspectorate", INSPECTORATE),
        ("observer", OBSERVER),
    ):
        receipts = ledger.append(ledger.sign(events, party))
        first, last = receipts[0].index, receipts[-1].index
        console.print(
            f"{party:>13}: {len(receipts)} signed events appended, entries {first}-{last}"
        )
    again = ledger.append(ledger.sign(INSPECTORATE, "inspectorate"))
    dup = all(r.duplicate for r in again)
    console.print(f"{'retry':>13}: the same {len(again)} events again, all duplicates: {dup}")

    report = audit(ledger.store)
    console.print(
        f"[green]audit passed[/]: {report.size} entries, {report.checkpoints} checkpoints, "
        f"{report.parties} parties; root {report.root_hash.hex()}"
    )
    cp = ledger.latest_checkpoint()
    console.print("\n[bold]latest checkpoint[/] (C2SP signed note):")
    console.print(cp.note, end="", highlight=False, markup=False)

    # An observer's offline check: pin the log key, open the note, check a proof.
    log_key = Verifier.from_vkey(ledger.authority().log_vkey or "")
    signed, _ = Checkpoint.from_note(cp.note.encode(), [log_key], origin=ORIGIN)
    inc = ledger.prove_inclusion(12)
    verify_inclusion(
        bytes.fromhex(inc["leaf_hash"]),
        12,
        signed.size,
        [bytes.fromhex(h) for h in inc["proof"]],
        signed.root_hash,
    )
    con = ledger.prove_consistency(10)
    verify_consistency(
        10,
        signed.size,
        [bytes.fromhex(h) for h in con["proof"]],
        bytes.fromhex(con["root1"]),
        signed.root_hash,
    )
    table = Table("offline check", "result")
    table.add_row("checkpoint signature (pinned log key)", "[green]valid[/]")
    table.add_row(
        f"entry 12 included in tree of size {signed.size}",
        f"[green]proved[/] ({len(inc['proof'])} hashes)",
    )
    table.add_row(
        f"tree of size 10 is a prefix of size {signed.size}",
        f"[green]proved[/] ({len(con['proof'])} hashes)",
    )

    # Tamper with a copy: one byte of one stored envelope.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(path, copy)
        with sqlite3.connect(copy / "ledger.db") as db:
            (env,) = db.execute("SELECT envelope FROM log_entry WHERE idx = 20").fetchone()
            at = env.index(b'"payload":"') + 40  # a character inside the base64 payload
            changed = env[:at] + (b"B" if env[at : at + 1] == b"A" else b"A") + env[at + 1 :]
            db.execute("UPDATE log_entry SET envelope = ? WHERE idx = 20", (changed,))
        tampered = Ledger.open(copy)
        try:
            audit(tampered.store)
            table.add_row("copy with one changed byte", "[red]NOT DETECTED[/]")
        except VerificationError as e:
            table.add_row("copy with one changed byte", f"[green]caught[/]: {e}")
        tampered.close()
    console.print(table)
    console.print(f"\nledger kept in [bold]{path}[/]; try: [cyan]cwledger log --ledger {path}[/]")
    ledger.close()


if __name__ == "__main__":
    import sys

    main()
    if len(sys.argv) == 3 and sys.argv[1] == "--svg":  # the README's screenshot
        console.save_svg(sys.argv[2], title="make demo")
