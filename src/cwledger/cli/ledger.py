"""The log's commands: init, keys, append, share, log, checkpoint, prove, verify. Thin shells over
``cwledger.ledger``; `cwledger.cli` registers them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.cli.common import (
    JsonFlag,
    LedgerDir,
    PinnedLogKey,
    PinnedQuorum,
    PinnedWitnesses,
    err,
    open_ledger,
    out,
    parse_role,
    print_json,
    progress,
    shown,
)
from cwledger.errors import (
    ConflictError,
    CwledgerError,
    EventRejected,
    KeyNotFound,
    MalformedInput,
    Problem,
    SealBroken,
)
from cwledger.ledger.audit import audit
from cwledger.ledger.canonical import canonical_json, parse_json_object
from cwledger.ledger.keystore import CHECKPOINT_SIGNER
from cwledger.ledger.ledger import Ledger, utc_now
from cwledger.ledger.projections import SealedUnread, check_book
from cwledger.ledger.reading import Reading, verify_as
from cwledger.ledger.trust import trust_policy
from cwledger.ledger.witnessing import policy_for
from cwledger.model.events import (
    KEY_REVOKED,
    KEY_ROTATED,
    PARTY_REGISTERED,
    ROLES,
    WITNESS_POLICY,
    Role,
)
from cwledger.store import StoredCheckpoint
from cwledger.tlog.monitor import open_checkpoint
from cwledger.tlog.verify import verify_consistency, verify_inclusion
from cwledger.words import plural

keys_app = typer.Typer(
    help="Ed25519 identities of the parties (a 0600 keystore).", no_args_is_help=True
)
prove_app = typer.Typer(help="Merkle proofs from the stored log, as JSON.", no_args_is_help=True)

__all__ = ["init", "append", "share", "log", "checkpoint", "verify", "keys_app", "prove_app"]


def init(
    directory: Annotated[Path, typer.Argument(help="Directory of the new ledger.")],
    origin: Annotated[str, typer.Option(help="Log origin, e.g. example.org/cwledger/demo.")],
    party: Annotated[
        list[str] | None,
        typer.Option(help="A founding party NAME:ROLE besides the operator (repeatable)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Keep the log in this database (postgresql+psycopg://...) instead of"
            " DIRECTORY/ledger.db; the directory then names it in database.url.",
        ),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="How many founding parties install a key for a party that lost its own"
            " (default: a majority of the founding parties other than that party).",
        ),
    ] = None,
    confidential: Annotated[
        bool,
        typer.Option(
            "--confidential",
            help="Seal every field above public of every event to the parties entitled to"
            " read it (the genesis says so; docs/sealing.md).",
        ),
    ] = False,
) -> None:
    """Create a ledger: operator and checkpoint keys, founding parties, genesis entry."""
    founding: list[tuple[str, Role]] = []
    for spec in party or []:
        name, _, role = spec.partition(":")
        founding.append((name, parse_role(role)))
    ledger = Ledger.init(
        directory,
        origin,
        founding=founding,
        database_url=db,
        quorum=quorum,
        confidential=confidential,
    )
    cp = ledger.latest_checkpoint()
    err.print(f"created ledger [bold]{shown(origin)}[/] in {shown(directory)} (genesis at entry 0)")
    sys.stdout.write(cp.note)


def _registrar(ledger: Ledger) -> str:
    registrars = sorted(ledger.authority().registrars)
    for name in registrars:
        if ledger.keystore.has(name):
            return name
    raise KeyNotFound(
        f"registering a party needs a registrar's key ({', '.join(registrars)}); "
        f"none is in the keystore {ledger.keystore.path}"
    )


def _with_defaults(raw: dict[str, Any], party: str) -> dict[str, Any]:
    """An id derived from author and content (so a retried line is the same event), and now."""
    digest = hashlib.sha256(canonical_json({"author": party, **raw})).hexdigest()[:32]
    return {"id": f"{raw.get('type')}:{digest}", "time": utc_now(), **raw}


def _append_one(ledger: Ledger, raw: dict[str, Any], party: str) -> None:
    raw = _with_defaults(raw, party)
    receipt = ledger.append(ledger.sign([raw], party))[0]
    err.print(f"{shown(raw['type'])} appended at entry {receipt.index}")


@keys_app.command("new")
def keys_new(
    party: Annotated[str, typer.Option(help="Party name (also the key's name).")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    ledger_dir: LedgerDir = Path("."),
    register: Annotated[
        bool, typer.Option(help="Register the party in the ledger (signed by a registrar).")
    ] = True,
) -> None:
    """Create a party's Ed25519 key in the keystore and register the party."""
    ledger = open_ledger(ledger_dir)
    checked_role = parse_role(role)
    if ledger.keystore.has(party):
        raise ConflictError(
            f"{party} already has a key; use `cwledger keys rotate --party {party}`"
        )
    registrar = _registrar(ledger) if register else None
    holders = [p.name for p in ledger.authority().parties.values() if p.role == checked_role]
    if register and holders:
        raise ConflictError(
            f"role {checked_role} is already held by {', '.join(sorted(holders))}: another one is "
            f"registered only with the approvals of a quorum of the founding parties "
            f"(`cwledger keys request --party {party} --role {role}`, then `keys approve` "
            "and `keys install`)"
        )
    signer = ledger.keystore.create(party, checked_role)
    err.print(
        shown(f"key {signer.key_id.hex()} for {party} ({checked_role}) in {ledger.keystore.path}")
    )
    if registrar is not None:
        body = {"name": party, "role": checked_role, "key": signer.vkey()}
        _append_one(ledger, {"type": PARTY_REGISTERED, "body": body}, registrar)
    sys.stdout.write(signer.vkey() + "\n")


@keys_app.command("rotate")
def keys_rotate(
    party: Annotated[str, typer.Option(help="Party whose key is replaced.")],
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Replace a party's key: a new key, and key.rotated signed by the current one.

    The new key is saved (pending, synced) before the entry goes to the log; if the command
    is interrupted, the next command promotes it (the log took it) or drops it (it did not).
    """
    ledger = open_ledger(ledger_dir)
    old, new = ledger.rotate_key(party)
    err.print(shown(f"{party}: key {old.key_id.hex()} rotated to {new.key_id.hex()}"))
    sys.stdout.write(new.vkey() + "\n")


@keys_app.command("request")
def keys_request(
    party: Annotated[str, typer.Option(help="Party that needs a key installed by a quorum.")],
    role: Annotated[
        str | None,
        typer.Option(help="For a party not yet registered: its role (party.registered)."),
    ] = None,
    cancel: Annotated[
        bool, typer.Option(help="Forget this party's pending key (a request not installed).")
    ] = False,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """A request for the founding quorum, as one JSON line: a new key (kept pending here)
    for a registered party whose key is lost or revoked (key.rotated); or, with --role, the
    registration of a new party in a role some party already holds (party.registered)."""
    ledger = Ledger.open(ledger_dir)
    if cancel:
        if ledger.keystore.pending(party) is None:
            raise KeyNotFound(f"{party} has no pending key in {ledger.keystore.path}")
        ledger.keystore.drop_pending(party)
        err.print(f"{party}: pending key dropped")
        return
    if role is None:
        new = ledger.request_key(party)
        request = {"type": KEY_ROTATED, "body": {"party": party, "key": new.vkey()}}
    else:
        checked = parse_role(role)
        if ledger.keystore.has(party):
            signer = ledger.keystore.signer(party)
        else:
            signer = ledger.keystore.create(party, checked)
        request = {
            "type": PARTY_REGISTERED,
            "body": {"name": party, "role": checked, "key": signer.vkey()},
        }
    err.print(
        f"request for {party}: have it approved (`cwledger keys approve`) by a quorum of "
        "the founding parties, then `cwledger keys install`"
    )
    sys.stdout.write(json.dumps(request) + "\n")


def _request(file: Path) -> tuple[str, dict[str, Any]]:
    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    doc = parse_json_object(text, str(file))
    type_, body = doc.get("type"), doc.get("body")
    if type_ not in (KEY_ROTATED, PARTY_REGISTERED, WITNESS_POLICY) or not isinstance(body, dict):
        raise EventRejected(
            [
                Problem(
                    str(file),
                    f"want {{type: {KEY_ROTATED}, {PARTY_REGISTERED} or {WITNESS_POLICY}, body}}",
                )
            ]
        )
    return type_, body


@keys_app.command("approve")
def keys_approve(
    request: Annotated[Path, typer.Argument(help="The request (`keys request`); - for stdin.")],
    as_party: Annotated[str, typer.Option("--as", help="The founding party that approves.")],
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Approve a request with a founding party's current key: one JSON line (an approval)."""
    ledger = Ledger.open(ledger_dir)
    type_, body = _request(request)
    sys.stdout.write(json.dumps(ledger.approve(type_, body, as_party)) + "\n")


@keys_app.command("install")
def keys_install(
    request: Annotated[Path, typer.Argument(help="The request (`keys request`); - for stdin.")],
    approval: Annotated[
        list[Path], typer.Option(help="A file of approvals (`keys approve`), repeatable.")
    ],
    as_party: Annotated[str, typer.Option("--as", help="Who sends (and signs) the entry.")],
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Append an approved request: the key (or party) is in force once a quorum approved."""
    ledger = open_ledger(ledger_dir)
    type_, body = _request(request)
    approvals = []
    for file in approval:
        for n, line in _read_lines(file):
            approvals.append(parse_json_object(line, f"{file} line {n}"))
    receipt = ledger.submit_approved(type_, body, approvals, as_party)
    err.print(f"{type_} appended at entry {receipt.index} with {len(approvals)} approvals")


@keys_app.command("revoke")
def keys_revoke(
    party: Annotated[str, typer.Option(help="Party whose key is revoked.")],
    key_id: Annotated[str, typer.Option(help="The key id (8 hex digits).")],
    reason: Annotated[str, typer.Option(help="Why (e.g. 'key compromised').")],
    as_party: Annotated[
        str | None, typer.Option("--as", help="Who signs (default: the party itself).")
    ] = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Revoke a key from now on: key.revoked, signed by the party or a registrar (who may
    revoke a key but never install one: a new key comes from the party or a quorum)."""
    ledger = open_ledger(ledger_dir)
    body = {"party": party, "key_id": key_id, "reason": reason}
    _append_one(ledger, {"type": KEY_REVOKED, "body": body}, as_party or party)


@keys_app.command("list")
def keys_list(ledger_dir: LedgerDir = Path("."), as_json: JsonFlag = False) -> None:
    """Every key in the keystore with its party, role, C2SP verifier key and ledger status."""
    ledger = Ledger.open(ledger_dir)
    authority = ledger.authority()
    rows = []
    for party in ledger.keystore.parties():
        for k in ledger.keystore.keys(party):
            rec = authority.keys.get((party, k.signer.key_id.hex()))
            if party == CHECKPOINT_SIGNER:
                status = "valid" if authority.log_vkey == k.signer.vkey() else "not the log key"
            else:
                status = rec.status if rec is not None else "not registered"
            rows.append(
                {
                    "party": party,
                    "role": k.role,
                    "key_id": k.signer.key_id.hex(),
                    "vkey": k.signer.vkey(),
                    "created": k.created,
                    "status": status,
                }
            )
    for party in ledger.keystore.pending_parties():
        pending = ledger.keystore.pending(party)
        if pending is not None:
            rows.append(
                {
                    "party": party,
                    "role": pending.role,
                    "key_id": pending.signer.key_id.hex(),
                    "vkey": pending.signer.vkey(),
                    "created": pending.created,
                    "status": f"pending ({pending.kind})",
                }
            )
    if as_json:
        print_json(rows)
        return
    table = Table("party", "role", "key id", "status", "verifier key")
    for r in rows:
        table.add_row(*(shown(r[k]) for k in ("party", "role", "key_id", "status", "vkey")))
    out.print(table)


def _read_lines(file: Path) -> Iterator[tuple[int, str]]:
    """The file's non-blank lines, numbered. Raises MalformedInput on a line that is not
    UTF-8 text."""
    handle = sys.stdin.buffer if str(file) == "-" else file.open("rb")
    with handle:
        for n, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise MalformedInput(
                    f"{shown(file)}, line {n}: not UTF-8 text ({e.reason})"
                ) from None
            if line.strip():
                yield n, line


def append(
    file: Annotated[
        Path, typer.Argument(help="JSON Lines: events, or DSSE envelopes; - for stdin.")
    ],
    as_party: Annotated[
        str | None, typer.Option("--as", help="Sign plain events as this party.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10000, help="Events per transaction.")
    ] = 1000,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="In a confidential ledger, name PARTY as a further recipient of every "
            "sealed event signed (repeatable).",
        ),
    ] = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print each receipt as JSON.")] = False,
) -> None:
    """Sign (with --as) and append events; each batch is one all-or-nothing transaction.

    A plain event is {"type", "body"} with optional "id" and "time"; without an id, one is
    derived from its content, so a retried line is not appended twice. --to names further
    readers of what each event seals (in its body's "recipients"); an event with nothing
    sealed names none.
    """
    if to and as_party is None:
        raise MalformedInput("--to names recipients of events this command signs: give --as")
    ledger = open_ledger(ledger_dir)
    lines = list(_read_lines(file))
    appended = duplicates = 0
    with progress() as bar:
        task = bar.add_task("appending", total=len(lines))
        for start in range(0, len(lines), batch_size):
            chunk = lines[start : start + batch_size]
            envelopes: list[bytes | str] = []
            raws: list[dict[str, Any]] = []
            problems: list[Problem] = []
            for n, line in chunk:
                try:
                    obj = parse_json_object(line, f"line {n}")
                except CwledgerError as e:
                    problems.append(Problem(f"line {n}", str(e)))
                    continue
                if "payloadType" in obj:
                    envelopes.append(line.strip())
                elif as_party is None:
                    problems.append(
                        Problem(f"line {n}", "a plain event needs --as PARTY to sign it")
                    )
                else:
                    raws.append(_with_defaults(obj, as_party))
            if problems:
                raise EventRejected(problems)
            if raws:
                assert as_party is not None
                envelopes += ledger.sign(raws, as_party, to or ())
            receipts = ledger.append(envelopes)
            for r in receipts:
                duplicates += r.duplicate
                appended += not r.duplicate
                if as_json:
                    sys.stdout.write(json.dumps(r.to_json()) + "\n")
            sys.stdout.flush()
            bar.advance(task, len(chunk))
    cp = ledger.latest_checkpoint()
    err.print(
        f"appended {appended}, already present {duplicates}; "
        f"log size {cp.size}, root {cp.root_hash.hex()}"
    )


def share(
    entries: Annotated[list[int], typer.Argument(help="Indices of sealed entries to share.")],
    with_party: Annotated[
        str, typer.Option("--with", help="The party that reads them from now on.")
    ],
    as_party: Annotated[
        str, typer.Option("--as", help="The sender: the operator, or the entries' author.")
    ],
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Share earlier sealed entries with a party added later (a new inspector): the sender
    opens its own box of each and seals the same payload to the party's encryption key, in
    payload.shared entries the log checks against each entry's commitment."""
    ledger = open_ledger(ledger_dir)
    receipts = ledger.share(entries, with_party, as_party)
    at = ", ".join(str(r.index) for r in receipts)
    err.print(
        f"{len(set(entries))} sealed entries shared with {shown(with_party)} "
        f"(payload.shared at entry {at})"
    )


def _reading_said(reading: Reading) -> str:
    """What `verify --as` says of a party's reading."""
    got = f"{reading.opened + reading.shared} of {reading.sealed} sealed entries opened"
    got += f" and checked by {reading.party}"
    if reading.shared:
        got += f" ({reading.shared} through a share)"
    if reading.replayed:
        return f"{got}; the book replayed from them agrees"
    why = []
    if reading.not_entitled:
        why.append(f"{len(reading.not_entitled)} not sealed or shared to {reading.party}")
    if reading.no_key:
        why.append(f"{len(reading.no_key)} sealed to a key of {reading.party} not in this keystore")
    return (
        f"{got}; the book was NOT replayed: {plural(reading.unread, 'entry', 'entries')}"
        f" not readable by {reading.party} ({'; '.join(why)})"
    )


def log(
    tail: Annotated[int, typer.Option(min=0, help="Show the last N entries.")] = 20,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """What is in the log: the last entries, newest last."""
    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        size = r.size()
        entries = r.entries(max(0, size - tail), size)
    if as_json:
        print_json(
            [
                {
                    "index": e.index,
                    "time": e.event_time,
                    "type": e.event_type,
                    "author": e.author,
                    "id": e.event_id,
                    "leaf_hash": e.leaf_hash.hex(),
                }
                for e in entries
            ]
        )
        return
    table = Table("index", "time", "type", "author", "id", "leaf hash", title=f"log size {size}")
    for e in entries:
        table.add_row(
            str(e.index),
            *(shown(v) for v in (e.event_time, e.event_type, e.author, e.event_id)),
            e.leaf_hash.hex()[:16],
        )
    out.print(table)


def checkpoint(ledger_dir: LedgerDir = Path(".")) -> None:
    """The checkpoint the log serves (C2SP tlog-checkpoint note): the newest with its
    witnesses' quorum, with every cosignature collected, as /log/checkpoint serves it."""
    sys.stdout.write(Ledger.open(ledger_dir).latest_checkpoint().cosigned_note)


def _served_with_policy(
    ledger: Ledger, log_key: str | None, witness: list[str] | None, quorum: int | None
) -> tuple[StoredCheckpoint, str]:
    """Check the checkpoint the log serves with the policy (pinned keys, else the ledger's
    own, said on stderr); it, and what it says of it. Raises MonitorAlarm below the
    quorum."""
    with ledger.store.read() as r:
        cp = r.latest_checkpoint() or r.newest_checkpoint()
        newest = r.newest_checkpoint()
        assert cp is not None and newest is not None  # every ledger has its genesis's
        # The policy the served checkpoint is cosigned under (a later one is not yet).
        authority = dataclasses.replace(
            ledger.authority_of(r), witness_policy=policy_for(r, cp.size)
        )
    policy, notes = trust_policy(authority, log_key, witness, quorum)
    for line in notes:
        err.print(shown(f"note: {line}"), highlight=False)
    verified = open_checkpoint(cp.cosigned_note.encode(), policy)
    if newest.size > cp.size:
        err.print(
            shown(
                f"note: entries {cp.size}..{newest.size - 1} are not witnessed yet: the "
                f"checkpoint for size {newest.size} has {len(newest.cosignatures)} of the "
                f"{newest.quorum} cosignatures its policy asks (`cwledger witnesses collect`)"
            ),
            highlight=False,
        )
    if not policy.witnesses:
        return cp, f"the checkpoint for size {cp.size} is signed by the log key (no witnesses)"
    return cp, (
        f"the checkpoint for size {cp.size} is cosigned by {len(verified.cosigned_by)} of "
        f"{len(policy.witnesses)} witnesses (quorum {policy.quorum})"
    )


@prove_app.command("inclusion")
def prove_inclusion(
    index: Annotated[int, typer.Argument(help="Log index of the entry.")],
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: latest checkpoint).")
    ] = None,
    ledger_dir: LedgerDir = Path("."),
    log_key: PinnedLogKey = None,
    witness: PinnedWitnesses = None,
    quorum: PinnedQuorum = None,
) -> None:
    """Inclusion proof (RFC 9162 PATH) of an entry in a tree size. In the tree of the
    checkpoint the log serves (the default), the proof is checked against that checkpoint,
    itself checked with the keys pinned (the log's, the witnesses', the quorum), and the
    cosigned checkpoint is printed with it."""
    ledger = Ledger.open(ledger_dir)
    proof = ledger.prove_inclusion(index, size)
    cp = ledger.latest_checkpoint()
    if proof["tree_size"] == cp.size:
        cp, said = _served_with_policy(ledger, log_key, witness, quorum)
        verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            index,
            cp.size,
            [bytes.fromhex(h) for h in proof["proof"]],
            cp.root_hash,
        )
        proof["checkpoint"] = cp.cosigned_note
        err.print(shown(f"checked against the checkpoint served: {said}"))
    elif log_key or witness or quorum is not None:
        raise MalformedInput(
            f"size {proof['tree_size']} is not the checkpoint the log serves ({cp.size}): "
            "only that one is checked with pinned keys"
        )
    print_json(proof)


@prove_app.command("consistency")
def prove_consistency(
    size1: Annotated[int, typer.Argument(help="Older tree size.")],
    size2: Annotated[int | None, typer.Argument(help="Newer tree size (default: latest).")] = None,
    ledger_dir: LedgerDir = Path("."),
    log_key: PinnedLogKey = None,
    witness: PinnedWitnesses = None,
    quorum: PinnedQuorum = None,
) -> None:
    """Consistency proof (RFC 9162 PROOF) between two tree sizes. To the checkpoint the
    log serves (the default), it is checked against that checkpoint, itself checked with
    the keys pinned, and the cosigned checkpoint is printed with it."""
    ledger = Ledger.open(ledger_dir)
    proof = ledger.prove_consistency(size1, size2)
    cp = ledger.latest_checkpoint()
    if proof["size2"] == cp.size:
        cp, said = _served_with_policy(ledger, log_key, witness, quorum)
        if 0 < size1 < cp.size:
            verify_consistency(
                size1,
                cp.size,
                [bytes.fromhex(h) for h in proof["proof"]],
                bytes.fromhex(proof["root1"]),
                cp.root_hash,
            )
        proof["checkpoint"] = cp.cosigned_note
        err.print(shown(f"checked against the checkpoint served: {said}"))
    elif log_key or witness or quorum is not None:
        raise MalformedInput(
            f"size {proof['size2']} is not the checkpoint the log serves ({cp.size}): "
            "only that one is checked with pinned keys"
        )
    print_json(proof)


def verify(
    ledger_dir: LedgerDir = Path("."),
    log_key: PinnedLogKey = None,
    witness: PinnedWitnesses = None,
    quorum: PinnedQuorum = None,
    as_party: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Open the sealed entries with this party's keys in the keystore, not the "
            "operator's.",
        ),
    ] = None,
) -> None:
    """Full audit: every envelope, signature, key, role, tile, checkpoint and witness
    cosignature, and the book replayed into a scratch copy and compared with the stored one;
    then the checkpoint the log serves against the keys you pinned (the log's, the
    witnesses' and the quorum). Exit 1 if bad. Sealed bodies are opened with the
    operator's encryption keys in the keystore; without them everything else is checked
    and the book is not replayed (said so). With --as PARTY, every sealed entry that party
    has a box (or a share) for is opened with its keys and checked, the others are
    counted, and the book is replayed from its openings when it reads them all. Exit 1 if
    an entry it opens is refused."""
    ledger = Ledger.open(ledger_dir)
    # Refreshed by the audit's own progress calls: no refresh thread, so the audit's
    # worker processes can be forked rather than spawned.
    with progress(auto_refresh=False) as bar:
        task = bar.add_task("verifying", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.refresh()

        report = audit(ledger.store, progress=advance)
        book = bar.add_task("replaying the book", total=report.size)

        def replayed(n: int) -> None:
            bar.advance(book, n)
            bar.refresh()

        try:
            if as_party is not None:
                reading = verify_as(
                    ledger.store, as_party, ledger.keystore.decryption_keys(as_party), replayed
                )
                if reading.broken:
                    index, what = reading.broken[0]
                    raise SealBroken(
                        f"entry {index}, opened by {as_party}: {what} "
                        f"({plural(len(reading.broken), 'entry', 'entries')} refused)"
                    )
                book_said = _reading_said(reading)
            else:
                check_book(ledger.store, replayed, ledger.operator_keys())
                book_said = "the book agrees"
        except SealedUnread as e:
            book_said = (
                f"the book was NOT replayed: {report.sealed} sealed entries could not be "
                f"opened ({shown(str(e))})"
            )
    _, served = _served_with_policy(ledger, log_key, witness, quorum)
    sealed = f" ({report.sealed} sealed)" if report.sealed else ""
    err.print(
        f"[green]verified[/]: {report.size} entries{sealed}, {report.checkpoints} checkpoints, "
        f"{report.cosignatures} cosignatures, {report.tiles} tiles, {report.parties} parties, "
        f"{report.keys} keys; {book_said}; {served}"
    )
    sys.stdout.write(f"OK {report.size} {report.root_hash.hex()}\n")
