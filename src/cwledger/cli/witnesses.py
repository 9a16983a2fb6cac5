"""`cwledger witnesses`: the ledger's witness policy (a governance event) and its cosignatures.

`add` and `remove` write a new `witness.policy` (the whole policy: witnesses and quorum),
sent by a registrar with the approvals of a quorum of the founding parties: the founding
parties whose keys are in this keystore approve here, and `--approval FILE` brings the
others' (`cwledger keys approve` of the `--request` this command prints). `collect` asks
every witness to cosign the newest checkpoint; `list` shows the policy and what each
witness last did.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.cli.common import JsonFlag, LedgerDir, collect_and_say, err, out, print_json, shown
from cwledger.errors import EventRejected, Problem
from cwledger.ledger.authority import WitnessPolicy
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import WITNESS_POLICY
from cwledger.time import rfc3339
from cwledger.tlog.cosignature import CosignatureVerifier

__all__ = ["witnesses_app"]

witnesses_app = typer.Typer(
    help="The ledger's witnesses: who cosigns its checkpoints, and how many must.",
    no_args_is_help=True,
)

Quorum = Annotated[
    int | None,
    typer.Option(help="How many witnesses must cosign (default: a majority of them)."),
]
RequestOnly = Annotated[
    bool,
    typer.Option(
        "--request",
        help="Print the new policy as a request for `cwledger keys approve` instead.",
    ),
]
Approvals = Annotated[
    list[Path] | None,
    typer.Option("--approval", help="A file of approvals (`keys approve`), repeatable."),
]
AsParty = Annotated[
    str | None, typer.Option("--as", help="The registrar who sends it (default: one here).")
]


def _body(policy: list[dict[str, str]], quorum: int | None) -> dict[str, Any]:
    k = len(policy) // 2 + 1 if policy else 0
    return {"witnesses": policy, "quorum": k if quorum is None else quorum}


def _current(policy: WitnessPolicy) -> list[dict[str, str]]:
    return [{"url": w.url, "key": w.key} for w in policy.witnesses]


def _set_policy(
    ledger: Ledger,
    body: dict[str, Any],
    request: bool,
    approval: list[Path] | None,
    as_party: str | None,
) -> None:
    if request:
        sys.stdout.write(json.dumps({"type": WITNESS_POLICY, "body": body}) + "\n")
        err.print(
            "have it approved (`cwledger keys approve`) by a quorum of the founding parties, "
            "then `cwledger keys install`"
        )
        return
    authority = ledger.authority()
    k, eligible = authority.quorum_for(None)
    approvals: list[dict[str, str]] = []
    for file in approval or []:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    approvals.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise EventRejected([Problem(f"{file} line {n}", str(e))]) from None
    approving = {a.get("party") for a in approvals}
    for party in eligible:
        if len(approving) >= k:
            break
        if party not in approving and ledger.keystore.has(party):
            approvals.append(ledger.approve(WITNESS_POLICY, body, party))
            approving.add(party)
    sender = as_party or next(
        (r for r in sorted(authority.registrars) if ledger.keystore.has(r)), None
    )
    if sender is None or len(approving) < k:
        raise EventRejected(
            [
                Problem(
                    "approvals",
                    f"a witness policy needs the approvals of {k} of the founding parties "
                    f"({', '.join(eligible)}) and a registrar to send it; this keystore "
                    f"gives {len(approving)}"
                    + ("" if sender else " and no registrar")
                    + ": print the request with --request and collect the others' approvals",
                )
            ]
        )
    receipt = ledger.submit_approved(WITNESS_POLICY, body, approvals, sender)
    err.print(
        f"witness policy set at entry {receipt.index}: {len(body['witnesses'])} witnesses, "
        f"quorum {body['quorum']} (approved by {', '.join(sorted(str(p) for p in approving))})"
    )
    collect_and_say(ledger)


@witnesses_app.command("add")
def witnesses_add(
    url: Annotated[str, typer.Argument(help="The witness's submission URL (tlog-witness).")],
    vkey: Annotated[str, typer.Argument(help="Its cosignature verifier key (type 0x04).")],
    quorum: Quorum = None,
    request: RequestOnly = False,
    approval: Approvals = None,
    as_party: AsParty = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Add a witness to the ledger's policy (a witness.policy entry, approved by a quorum of
    the founding parties); it is asked to cosign the newest checkpoint at once."""
    ledger = Ledger.open(ledger_dir)
    policy = _current(ledger.authority().witness_policy)
    name = CosignatureVerifier.from_vkey(vkey).name
    policy = [w for w in policy if w["key"].split("+", 1)[0] != name]
    body = _body([*policy, {"url": url, "key": vkey}], quorum)
    _set_policy(ledger, body, request, approval, as_party)


@witnesses_app.command("remove")
def witnesses_remove(
    vkey: Annotated[str, typer.Argument(help="The witness's verifier key (or its name).")],
    quorum: Quorum = None,
    request: RequestOnly = False,
    approval: Approvals = None,
    as_party: AsParty = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Remove a witness from the ledger's policy (a witness.policy entry, approved)."""
    ledger = Ledger.open(ledger_dir)
    policy = _current(ledger.authority().witness_policy)
    kept = [w for w in policy if vkey not in (w["key"], w["key"].split("+", 1)[0])]
    if len(kept) == len(policy):
        raise EventRejected([Problem("vkey", f"{vkey!r} is not a witness of this ledger")])
    _set_policy(ledger, _body(kept, quorum), request, approval, as_party)


@witnesses_app.command("collect")
def witnesses_collect(ledger_dir: LedgerDir = Path(".")) -> None:
    """Ask every witness that has not cosigned the newest checkpoint to cosign it now.
    Exit 1 if the checkpoint is still short of its quorum."""
    ledger = Ledger.open(ledger_dir)
    asked = collect_and_say(ledger)
    with ledger.store.read() as r:
        newest = r.newest_checkpoint()
    if asked and newest is not None and len(newest.cosignatures) < newest.quorum:
        raise typer.Exit(1)


@witnesses_app.command("list")
def witnesses_list(ledger_dir: LedgerDir = Path("."), as_json: JsonFlag = False) -> None:
    """The witness policy in force and what each witness last did."""
    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        policy = ledger.authority_of(r).witness_policy
        states = r.witness_states()
        newest = r.newest_checkpoint()
    rows: list[dict[str, Any]] = []
    for w in policy.witnesses:
        s = states.get(w.key)
        rows.append(
            {
                "url": w.url,
                "key": w.key,
                "cosigned_size": s.size if s else 0,
                "cosignatures": s.cosignatures if s else 0,
                "last_attempt": rfc3339(s.attempted_at) if s and s.attempted_at else None,
                "failure": s.failure if s else None,
            }
        )
    if as_json:
        print_json({"quorum": policy.quorum, "since": policy.since, "witnesses": rows})
        return
    size = newest.size if newest else 0
    title = (
        f"quorum {policy.quorum} of {len(rows)} (since entry {policy.since}); "
        f"newest checkpoint {size}"
        if rows
        else "no witnesses: the log's own signature is all there is"
    )
    table = Table("witness", "url", "cosigned", "last attempt", "failure", title=title)
    for row in rows:
        table.add_row(
            shown(CosignatureVerifier.from_vkey(row["key"]).name),
            shown(row["url"]),
            str(row["cosigned_size"]),
            row["last_attempt"] or "",
            shown(row["failure"] or ""),
        )
    out.print(table)
