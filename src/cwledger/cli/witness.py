"""`cwledger witness`: run a c2sp.org/tlog-witness that cosigns other logs' checkpoints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cwledger.cli.common import err, shown
from cwledger.witness.store import WitnessStore, init_witness

__all__ = ["witness_app"]

witness_app = typer.Typer(
    help="A witness: cosigns a log's checkpoints if each is consistent with the last.",
    no_args_is_help=True,
)

WitnessDir = Annotated[Path, typer.Argument(help="The witness's directory.")]


@witness_app.command("init")
def witness_init(
    path: WitnessDir,
    name: Annotated[str, typer.Option(help="The witness's key name (e.g. witness.example/w1).")],
) -> None:
    """Create a witness with a new Ed25519 cosignature key; print its verifier key."""
    signer = init_witness(path, name)
    err.print(shown(f"witness {name} created in {path}"))
    sys.stdout.write(signer.verifier().vkey() + "\n")


@witness_app.command("key")
def witness_key(path: WitnessDir) -> None:
    """Print the witness's verifier key (type 0x04, c2sp.org/tlog-cosignature)."""
    store = WitnessStore(path)
    store.close()
    sys.stdout.write(store.signer.verifier().vkey() + "\n")


@witness_app.command("add-log")
def witness_add_log(
    path: WitnessDir,
    origin: Annotated[str, typer.Option(help="The log's origin line.")],
    vkey: Annotated[str, typer.Option(help="The log's verifier key (name+keyid+base64).")],
) -> None:
    """Witness the log `origin`: trust checkpoints signed by `vkey` (repeat for more keys)."""
    store = WitnessStore(path)
    try:
        verifier = store.add_log(origin, vkey)
    finally:
        store.close()
    err.print(shown(f"witnessing {origin} signed by {verifier.name}+{verifier.key_id.hex()}"))


@witness_app.command("serve")
def witness_serve(
    path: WitnessDir,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
) -> None:
    """Serve POST /add-checkpoint (c2sp.org/tlog-witness)."""
    import uvicorn  # start-up time: only this command needs the server

    from cwledger.witness.app import create_witness_app  # start-up time: only serve needs the app

    app = create_witness_app(path)
    err.print(shown(f"witness {path} on http://{host}:{port}/add-checkpoint"))
    uvicorn.run(app, host=host, port=port, log_level="warning")
