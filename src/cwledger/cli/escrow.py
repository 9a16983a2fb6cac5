"""`cwledger escrow`: the day-one escrow (issue 16 section 4).

`commit` logs one Merkle-sum tree root per category of a declaration sheet and keeps the
secrets (salts, order key, records) in the declarant's escrow file (`keys/<party>.escrow`,
0600, or `--escrow FILE`). `reveal` writes items with their proofs for one party;
`check-proof` checks a reveal or a diff offline against the commitments in the local log
(and, `--as` an inspector, logs each revealed item as checked: the book raises a finding
for one that is not in the root or differs from the declaration). `prove-destroyed` and
`prove-removed` log the destroyed (removed: shipped out of the country) total of a
category as subset proofs; `diff` proves what two versions
kept, removed and added; `status` shows what is still open per category.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.book.records import EscrowTreeRecord
from cwledger.cli.book import moment_option
from cwledger.cli.common import JsonFlag, LedgerDir, err, open_ledger, out, print_json, shown
from cwledger.errors import MalformedInput, NotFound
from cwledger.escrow import (
    DIFF_FORMAT,
    REVEAL_FORMAT,
    Commitments,
    EscrowSecrets,
    check_diff,
    check_reveal,
    diff_proof,
    escrow_path,
    load_json,
    reveal,
)
from cwledger.escrow.progress import commit_event, latest_version, proof_events
from cwledger.ledger.ledger import Ledger, utc_now
from cwledger.model.escrow import PROVED_TYPES, EscrowCommitted, ProvedKind
from cwledger.store.store import LogReader
from cwledger.time import rfc3339
from cwledger.tlog.sumtree import SumRoot
from cwledger.words import plural

__all__ = ["escrow_app"]

escrow_app = typer.Typer(
    help="The day-one escrow: commit to a declaration's per-category totals, prove later.",
    no_args_is_help=True,
)

EscrowFile = Annotated[
    Path | None,
    typer.Option(
        "--escrow", help="The escrow file (default: <party>.escrow in the ledger's keystore)."
    ),
]
AsDeclarant = Annotated[
    str | None,
    typer.Option("--as", help="The declaring party (default: the one escrow file here)."),
]
VersionOption = Annotated[
    int | None, typer.Option("--version", min=1, help="Escrow version (default: the latest).")
]


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.3f}"


def _secrets_path(ledger: Ledger, party: str | None, given: Path | None) -> Path:
    if given is not None:
        return given
    if party is not None:
        return escrow_path(ledger.keystore.path, party)
    found = sorted(ledger.keystore.path.glob("*.escrow"))
    if len(found) != 1:
        have = "none" if not found else ", ".join(p.stem for p in found)
        raise MalformedInput(f"name the declaring party with --as (escrow files here: {have})")
    return found[0]


def _commitments(r: LogReader) -> Commitments:
    return {
        (t.version, t.category): SumRoot(bytes.fromhex(t.root), t.grams, t.leaves)
        for t in r.book.records(EscrowTreeRecord)
    }


@escrow_app.command("commit")
def escrow_commit(
    sheet: Annotated[Path, typer.Argument(help="CSV or XLSX declaration sheet.")],
    party: Annotated[str, typer.Option("--as", help="The declaring party, who signs.")],
    time: Annotated[
        str | None, typer.Option("--time", help="Event time, RFC 3339 UTC (default: now).")
    ] = None,
    escrow_file: EscrowFile = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Commit the next escrow version of a declaration sheet: one Merkle-sum tree root per
    category goes in the log, the salts and records stay in the escrow file."""
    # Start-up time: openpyxl, only here.
    from cwledger.intake import read_declaration

    ledger = open_ledger(ledger_dir)
    when = time or utc_now()
    decl = read_declaration(sheet, version=1, legal_basis="escrow", due=when[:10], party=party)
    if not decl.items:
        raise MalformedInput(f"{sheet.name} lists no items: there is nothing to commit")
    path = _secrets_path(ledger, party, escrow_file)
    existed = path.exists()
    secrets = EscrowSecrets.load(path) if existed else EscrowSecrets.new(party)
    if secrets.party != party:
        raise MalformedInput(f"{path} is {secrets.party}'s escrow file, not {party}'s")
    with ledger.store.read() as r:
        event = commit_event(r.book, secrets, decl, when)
    body = EscrowCommitted.model_validate(event["body"])
    version = body.version
    envelopes = ledger.sign([event], party)
    secrets.save(path)  # the secrets are on disk before the log names their root
    try:
        receipt = ledger.append(envelopes)[0]
    except BaseException:  # refused or failed: the file is as it was
        del secrets.versions[version]
        if existed:
            secrets.save(path)
        else:
            path.unlink(missing_ok=True)
        raise
    for t in body.categories:
        err.print(
            f"category {t.category}: {plural(t.leaves, 'item')}, {_kg(t.grams)} kg, "
            f"root {t.root[:16]}..."
        )
    err.print(f"escrow version {version} committed at entry {receipt.index}; secrets in {path}")


@escrow_app.command("reveal")
def escrow_reveal(
    items: Annotated[list[str], typer.Argument(help="Item ids to disclose.")],
    to: Annotated[str, typer.Option("--to", help="The party they are disclosed to.")],
    out_file: Annotated[Path, typer.Option("--out", help="The reveal file to write.")],
    party: AsDeclarant = None,
    version: VersionOption = None,
    escrow_file: EscrowFile = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Write items with their salts and proofs for one party (checked with `check-proof`)."""
    ledger = Ledger.open(ledger_dir)
    if to not in ledger.authority().parties:
        raise NotFound(f"{to!r} is not a party of this ledger")
    secrets = EscrowSecrets.load(_secrets_path(ledger, party, escrow_file))
    v = version or max(secrets.versions, default=0)
    doc = reveal(secrets.trees(v), items, to)
    data = (json.dumps(doc, indent=1) + "\n").encode()
    try:
        fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as e:
        raise MalformedInput(f"cannot write {out_file}: {e.strerror or e}") from None
    err.print(f"{plural(len(doc['items']), 'item')} of escrow version {v} for {to} in {out_file}")


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def _print_checks(checks: list[Any]) -> None:
    for c in checks:
        o = c.opening
        where = f"leaf {o.index} of category {o.category}, version {o.version}"
        if c.problem is None:
            out.print(shown(f"item {o.record.id}: {where}, {_kg(o.record.grams)} kg: in the root"))
        else:
            out.print(shown(f"[red]item {o.record.id}: NOT in the root[/] ({where}): {c.problem}"))


@escrow_app.command("check-proof")
def escrow_check_proof(
    file: Annotated[Path, typer.Argument(help="A reveal or diff file.")],
    record_as: Annotated[
        str | None,
        typer.Option("--as", help="An inspector: log each revealed item as checked."),
    ] = None,
    as_json: JsonFlag = False,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Check a reveal or diff file offline against the commitments in this ledger's log.
    Exit 1 if any proof fails."""
    ledger = open_ledger(ledger_dir)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise MalformedInput(f"cannot read {file}: {e.strerror or e}") from None
    doc = load_json(text, str(file))
    with ledger.store.read() as r:
        commitments = _commitments(r)
    kind = doc.get("format") if isinstance(doc, dict) else None
    if kind == REVEAL_FORMAT:
        checks = check_reveal(doc, commitments)
        failed = [c for c in checks if c.problem is not None]
        if as_json:
            print_json(
                [
                    {
                        "item": c.opening.record.id,
                        "in_root": c.problem is None,
                        "problem": c.problem,
                    }
                    for c in checks
                ]
            )
        else:
            _print_checks(checks)
        if record_as is not None:
            when = utc_now()
            bodies = [c.opening.model_dump(mode="json", exclude_none=True) for c in checks]
            events = [
                {
                    "type": "escrow.item_checked",
                    # by content: no item id in the id (ids stay public when bodies are not)
                    "id": f"escrow-check-{_digest(body)}-{when}",
                    "time": when,
                    "body": body,
                }
                for body in bodies
            ]
            receipts = ledger.append(ledger.sign(events, record_as))
            err.print(f"{plural(len(receipts), 'check')} logged by {record_as}")
        if failed:
            raise typer.Exit(1)
    elif kind == DIFF_FORMAT:
        v1, v2, rows = check_diff(doc, commitments)
        _print_diff(v1, v2, [row.to_json() for row in rows], as_json)
    else:
        raise MalformedInput(f"{file} is no escrow reveal or diff (its format is {kind!r})")


def _prove(
    what: ProvedKind,
    category: int,
    at: str,
    party: str | None,
    version: int | None,
    escrow_file: Path | None,
    ledger_dir: Path,
) -> None:
    moment = moment_option(at)
    assert moment is not None
    ledger = open_ledger(ledger_dir)
    path = _secrets_path(ledger, party, escrow_file)
    secrets = EscrowSecrets.load(path)
    with ledger.store.read() as r:
        v = version or latest_version(r.book)
        rec = r.book.get(EscrowTreeRecord, f"{v:06d}|{category}")
        events = proof_events(r.book, secrets, what, category, moment, utc_now(), v)
    if not events:
        assert rec is not None  # else proof_events raised NotFound
        proven, proven_g = getattr(rec, what), getattr(rec, f"{what}_g")
        err.print(
            f"nothing new to prove: {plural(len(proven), 'leaf', 'leaves')}"
            f" ({_kg(proven_g)} kg) of category {category} proven {what} already"
        )
        return
    bodies = [PROVED_TYPES[what].model_validate(e["body"]) for e in events]
    receipts = ledger.append(ledger.sign(events, secrets.party))
    last = bodies[-1]
    assert rec is not None
    err.print(
        f"category {category}: {plural(last.total_count, 'leaf', 'leaves')} of {rec.leaves}"
        f" proven {what} by {rfc3339(moment)}, {_kg(last.total_grams)} of"
        f" {_kg(rec.grams)} kg ({plural(len(receipts), 'entry', 'entries')})"
    )


CategoryOption = Annotated[int, typer.Option("--category", min=1, max=3, help="CWC category.")]
AtOption = Annotated[str, typer.Option("--at", help="A date (end of that day, UTC) or a time.")]


@escrow_app.command("prove-destroyed")
def escrow_prove_destroyed(
    category: CategoryOption,
    at: AtOption,
    party: AsDeclarant = None,
    version: VersionOption = None,
    escrow_file: EscrowFile = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Log the destroyed total of a category by a moment: the leaves of the items the book
    has destroyed by then, as subset proofs of the committed tree (no item is named)."""
    _prove("destroyed", category, at, party, version, escrow_file, ledger_dir)


@escrow_app.command("prove-removed")
def escrow_prove_removed(
    category: CategoryOption,
    at: AtOption,
    party: AsDeclarant = None,
    version: VersionOption = None,
    escrow_file: EscrowFile = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Log the removed total of a category by a moment: the leaves of the items shipped out
    of the country by then, as subset proofs of the committed tree (no item is named)."""
    _prove("removed", category, at, party, version, escrow_file, ledger_dir)


def _print_table(
    title: str, columns: list[tuple[str, str, Callable[[Any], str]]], rows: list[dict[str, Any]]
) -> None:
    """A table of `rows`: one column per (header, key, how the value is shown)."""
    table = Table(*(header for header, _, _ in columns), title=title)
    for row in rows:
        table.add_row(*(show(row[key]) for _, key, show in columns))
    out.print(table)


def _print_diff(v1: int, v2: int, rows: list[dict[str, int]], as_json: bool) -> None:
    if as_json:
        print_json({"from": v1, "to": v2, "categories": rows})
        return
    _print_table(
        f"escrow version {v1} -> {v2} (proven against the committed roots)",
        [
            ("category", "category", str),
            ("kept", "kept", str),
            ("kept kg", "kept_grams", _kg),
            ("removed", "removed", str),
            ("removed kg", "removed_grams", _kg),
            ("added", "added", str),
            ("added kg", "added_grams", _kg),
            ("change kg", "change_grams", lambda g: f"{g / 1000:+,.3f}"),
        ],
        rows,
    )


@escrow_app.command("diff")
def escrow_diff(
    v1: Annotated[int, typer.Argument(min=1, help="The older version.")],
    v2: Annotated[int, typer.Argument(min=1, help="The newer version.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the diff proof to this file.")
    ] = None,
    party: AsDeclarant = None,
    escrow_file: EscrowFile = None,
    as_json: JsonFlag = False,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Prove which leaves two versions kept, removed and added, and each category's change,
    without opening a kept leaf (the proof is checked against the log before it is shown)."""
    ledger = Ledger.open(ledger_dir)
    secrets = EscrowSecrets.load(_secrets_path(ledger, party, escrow_file))
    doc = diff_proof(secrets.trees(v1), secrets.trees(v2), v1, v2)
    with ledger.store.read() as r:
        commitments = _commitments(r)
    _, _, rows = check_diff(doc, commitments)
    if out_file is not None:
        try:
            out_file.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        except OSError as e:
            raise MalformedInput(f"cannot write {out_file}: {e.strerror or e}") from None
    _print_diff(v1, v2, [row.to_json() for row in rows], as_json)


@escrow_app.command("status")
def escrow_status(
    version: VersionOption = None, as_json: JsonFlag = False, ledger_dir: LedgerDir = Path(".")
) -> None:
    """Per category of an escrow version: committed, proven removed and destroyed, and still
    open (not proven destroyed)."""
    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        v = version or latest_version(r.book)
        trees = [t for t in r.book.records(EscrowTreeRecord) if t.version == v]
    if not trees:
        raise NotFound("no escrow committed in this log" if v == 0 else f"no escrow version {v}")
    rows: list[dict[str, Any]] = [
        {
            "category": t.category,
            "leaves": t.leaves,
            "grams": t.grams,
            "destroyed": len(t.destroyed),
            "destroyed_grams": t.destroyed_g,
            "destroyed_by": None if t.destroyed_at is None else rfc3339(t.destroyed_at),
            "removed": len(t.removed),
            "removed_grams": t.removed_g,
            "open": t.leaves - len(t.destroyed),
            "open_grams": t.grams - t.destroyed_g,
        }
        for t in sorted(trees, key=lambda t: t.category)
    ]
    if as_json:
        print_json({"version": v, "categories": rows})
        return
    _print_table(
        f"escrow version {v}",
        [
            ("category", "category", str),
            ("leaves", "leaves", str),
            ("committed kg", "grams", _kg),
            ("removed kg", "removed_grams", _kg),
            ("destroyed", "destroyed", str),
            ("destroyed kg", "destroyed_grams", _kg),
            ("open", "open", str),
            ("open kg", "open_grams", _kg),
            ("proven to", "destroyed_by", lambda at: at or ""),
        ],
        rows,
    )
