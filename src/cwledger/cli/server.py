"""The server: `cwledger serve` (the HTTP API) and `cwledger tokens` (who may call it)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cwledger.cli.common import JsonFlag, LedgerDir, err, out, print_json, shown
from cwledger.http.settings import Settings
from cwledger.ledger.access import issue_token, list_tokens, revoke_token
from cwledger.ledger.ledger import Ledger
from cwledger.words import plural

__all__ = ["serve", "tokens_app", "parse_duration"]

tokens_app = typer.Typer(
    help="Bearer tokens of the parties for the HTTP API.", no_args_is_help=True
)

_DEFAULT = Settings.model_construct()  # the fields' defaults, without reading the environment
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="CWLEDGER_DATABASE_URL",
        help="Database URL (sqlite:///... or postgresql+psycopg://...); default: the ledger's.",
        show_default=False,
    ),
]


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m` or `3600s` as a timedelta; a usage error otherwise."""
    m = re.fullmatch(r"([1-9][0-9]{0,6})([dhms])", text.strip())
    if m is None:
        raise typer.BadParameter(f"{text!r}: give a duration like 30d, 12h, 90m or 3600s")
    n, unit = int(m.group(1)), m.group(2)
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[unit]: n})


def serve(
    ledger_dir: LedgerDir = Path("."),
    db: DatabaseOption = None,
    host: Annotated[
        str | None,
        typer.Option(
            help=f"Address to listen on (default: $CWLEDGER_HOST, else {_DEFAULT.host}).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help=f"Port to listen on (default: $CWLEDGER_PORT, else {_DEFAULT.port}).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
) -> None:
    """Serve the HTTP API (/api/v1, /log/ tiles, /openapi.json) and the pages over the ledger."""
    import uvicorn  # start-up time: only this command needs the server

    # The settings, built once here (options over CWLEDGER_* variables), are the server's
    # one source: it listens where they say, and each worker builds its app from them.
    given = {"host": host, "port": port}
    settings = Settings(
        ledger=ledger_dir,
        database_url=db,
        **{k: v for k, v in given.items() if v is not None},  # type: ignore[arg-type]
    )
    Ledger.open(settings.ledger, database_url=settings.database_url).close()  # fail clearly
    settings.hand_to_workers()
    err.print(
        shown(
            f"serving {settings.ledger} on http://{settings.host}:{settings.port}/"
            " (OpenAPI document at /openapi.json)"
        )
    )
    uvicorn.run(
        "cwledger.api.app:server_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        http="cwledger.api.transport:NoDelayH11Protocol",
        log_level="warning",
    )


@tokens_app.command("issue")
def tokens_issue(
    party: Annotated[str, typer.Option(help="The party the token acts for (as the log lists).")],
    expires: Annotated[
        str | None,
        typer.Option(help="Valid for this long: 30d, 12h, 90m, 3600s (default: no expiry)."),
    ] = None,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    ledger_dir: LedgerDir = Path("."),
    db: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a bearer token for a party. The token is printed once; only its hash is kept."""
    valid_for = None if expires is None else parse_duration(expires)
    ledger = Ledger.open(ledger_dir, database_url=db)
    token, row = issue_token(
        ledger.store, ledger.authority(), party, valid_for=valid_for, label=label
    )
    if as_json:
        print_json(
            {"token": token, "token_id": row.token_id, "party": party, "expires_at": row.expires_at}
        )
        return
    err.print(
        shown(
            f"token {row.token_id} for {party}"
            + (f", expires {row.expires_at}" if row.expires_at else ", no expiry")
            + " (shown once; send it as `Authorization: Bearer <token>`)"
        )
    )
    out.print(token, highlight=False)


@tokens_app.command("list")
def tokens_list(
    ledger_dir: LedgerDir = Path("."), db: DatabaseOption = None, as_json: JsonFlag = False
) -> None:
    """Every token issued: party, when issued, expiry, revocation (never the secret)."""
    rows = list_tokens(Ledger.open(ledger_dir, database_url=db).store)
    if as_json:
        print_json(
            [
                {
                    "token_id": t.token_id,
                    "party": t.party,
                    "issued_at": t.issued_at,
                    "expires_at": t.expires_at,
                    "revoked_at": t.revoked_at,
                    "label": t.label,
                }
                for t in rows
            ]
        )
        return
    table = Table(
        "token", "party", "issued", "expires", "revoked", "label", title=plural(len(rows), "token")
    )
    for t in rows:
        cells = (t.token_id, t.party, t.issued_at, t.expires_at or "", t.revoked_at or "", t.label)
        table.add_row(*map(shown, cells))
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see `cwledger tokens list`).")],
    ledger_dir: LedgerDir = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Revoke a token at once: the server refuses it from the next request on."""
    revoke_token(Ledger.open(ledger_dir, database_url=db).store, token_id)
    err.print(shown(f"token {token_id} revoked"))
