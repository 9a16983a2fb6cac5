"""EPCIS 2.0 commands: export the chain of custody, import it, and print CBV 2.0 event hashes.

Thin: the mapping, the hash and the schema are ``cwledger.epcis``'s, imported when a
command runs (jsonschema and the GS1 schema cost a tenth of a second to load).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cwledger.cli.common import LedgerDir, err, open_ledger
from cwledger.errors import EventRejected, MalformedInput, NotEntitled, Problem
from cwledger.ledger.admission import decode_entry
from cwledger.ledger.canonical import parse_json_object
from cwledger.ledger.confidential import OPERATOR, whole_body
from cwledger.ledger.ledger import Ledger, utc_now
from cwledger.model.events import Event

__all__ = ["export_app", "import_app", "epcis_app"]

export_app = typer.Typer(help="Export the ledger in a standard format.", no_args_is_help=True)
import_app = typer.Typer(help="Import from a standard format.", no_args_is_help=True)
epcis_app = typer.Typer(help="EPCIS 2.0 tools that need no ledger.", no_args_is_help=True)


def _read_document(file: Path) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        return parse_json_object(text, "the document")
    except (OSError, UnicodeDecodeError, MalformedInput) as e:
        raise MalformedInput(f"{file}: not a readable JSON document ({e})") from e


def _lists(event: Event, item: str | None) -> bool:
    """Whether a declaration part lists the item."""
    items = event.body.get("items", [])
    return any(isinstance(i, dict) and i.get("id") == item for i in items)


@export_app.command("epcis")
def export_epcis(
    item: Annotated[str | None, typer.Option(help="Only this item's chain of custody.")] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here (default: stdout).")
    ] = None,
    base: Annotated[
        str, typer.Option(help="Base URI of our identifiers.")
    ] = "https://id.example.org/cwl/",
    confidential: Annotated[
        bool,
        typer.Option(
            "--confidential",
            help="In a confidential ledger, open the sealed entries with the operator's"
            " encryption keys and export them whole (not for the public).",
        ),
    ] = False,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """The chain of custody as an EPCIS 2.0 JSON-LD document (eventID = CBV 2.0 event hash).
    In a confidential ledger, public fields only: the entries whose fields above public
    are sealed are left out (and counted), unless --confidential opens them with the
    operator's keys."""
    # Start-up time (as each command here): jsonschema and the GS1 schema load in 0.1 s.
    from cwledger.epcis import validate_document
    from cwledger.epcis.mapping import EXPORTED, to_epcis

    ledger = Ledger.open(ledger_dir)
    public = ledger.authority().confidential and not confidential
    if public and item is not None:
        raise NotEntitled(
            "this ledger is confidential: an item's chain of custody is not public"
            " (--confidential, with the operator's keys, exports it)"
        )
    keys = ledger.operator_keys()
    left_out = 0
    with ledger.store.read() as r:
        wanted = set(r.book.custody(item)) if item is not None else None
        pairs: list[tuple[int, Event]] = []
        for chunk in r.iter_entries():
            for e in chunk:
                if e.event_type not in EXPORTED:
                    continue
                declaration = e.event_type.startswith("declaration.")
                if wanted is not None and e.index not in wanted and not declaration:
                    continue
                d = decode_entry(e.envelope, check_canonical=False)
                event = d.event
                if d.sealed is not None:
                    if public:
                        left_out += 1
                        continue
                    body = whole_body(d, keys)
                    if body is None:
                        raise NotEntitled(
                            f"entry {e.index} is sealed and this keystore lacks the"
                            f" {OPERATOR}'s encryption key that opens it"
                        )
                    event = event.model_copy(update={"body": body})
                # The book links a declared item to the part that completed its version;
                # the part that lists it belongs to its chain of custody too.
                if wanted is not None and e.index not in wanted and not _lists(event, item):
                    continue
                pairs.append((e.index, event))
    doc = to_epcis(pairs, base=base, created=utc_now(), item=item)
    problems = validate_document(doc)
    if problems:  # our own export must pass GS1's schema: a bug, said plainly
        raise EventRejected([Problem("export", p) for p in problems])
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
    n = len(doc["epcisBody"]["eventList"])
    err.print(f"exported {n} EPCIS events from {len(pairs)} entries")
    if public:
        err.print(
            f"this ledger is confidential: public fields only; {left_out} sealed entries"
            " left out (their fields above public are sealed)",
            highlight=False,
        )


@import_app.command("epcis")
def import_epcis(
    file: Annotated[Path, typer.Argument(help="EPCIS 2.0 JSON-LD document; - for stdin.")],
    as_party: Annotated[
        str | None,
        typer.Option("--as", help="Sign every event as this party (default: its author)."),
    ] = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Import an EPCIS 2.0 document: every event or nothing; each refusal with its reason.

    Our own exports carry each event's author; events from other systems need --as, and
    only receiving, stock taking and sampling map onto the ledger's events.
    """
    from cwledger.epcis import validate_document  # start-up time
    from cwledger.epcis.mapping import from_epcis  # start-up time

    doc = _read_document(file)
    problems = [Problem("schema", p) for p in validate_document(doc)]
    result = from_epcis(doc, author=as_party)
    problems += result.refused
    if problems:
        raise EventRejected(problems)
    ledger = open_ledger(ledger_dir)
    envelopes: list[bytes | str] = []
    for raw in result.events:
        author = as_party or str(raw.get("author", ""))
        body = {k: v for k, v in raw.items() if k != "author"}
        envelopes += ledger.sign([body], author)
    receipts = ledger.append(envelopes)
    new = sum(not r.duplicate for r in receipts)
    err.print(f"imported {new} events ({len(receipts) - new} already in the log)")


@epcis_app.command("hash")
def epcis_hash(
    file: Annotated[Path, typer.Argument(help="EPCIS 2.0 JSON-LD document; - for stdin.")],
) -> None:
    """The CBV 2.0 event hash of every event in a document, one per line, in document order."""
    from cwledger.epcis import document_hashes  # start-up time

    for h in document_hashes(_read_document(file)):
        sys.stdout.write(h + "\n")
