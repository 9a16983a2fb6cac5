"""Witnesses in this process, for the log's side of the protocol: each a real witness
directory (key, SQLite state) that answers through the same protocol functions and store as
`cwledger witness serve`, without HTTP. `Witnesses.post` has the signature of
`cwledger.witness.client.add_checkpoint`, for `collect_cosignatures(ledger, post=...)`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwledger.errors import CwledgerError
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import WITNESS_POLICY
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.witness.client import WitnessUnavailable
from cwledger.witness.protocol import format_request, open_checkpoint, parse_request
from cwledger.witness.store import KEY_FILE, Opened, WitnessStore, init_witness

__all__ = ["Witnesses", "set_policy"]


@dataclass
class Witnesses:
    """`n` witnesses of `ledger`'s log, at URLs http://witness-<i>.test; `down` holds the
    indices of those that do not answer; `clock` (POSIX seconds), when set, stamps their
    cosignatures."""

    ledger: Ledger
    root: Path
    n: int = 3
    clock: Callable[[], int] | None = None
    down: set[int] = field(default_factory=set)
    stores: list[WitnessStore] = field(default_factory=list)
    asked: list[tuple[int, int]] = field(default_factory=list)  # (witness, old size)

    def __post_init__(self) -> None:
        authority = self.ledger.authority()
        assert authority.origin is not None and authority.log_vkey is not None
        for i in range(self.n):
            path = self.root / f"witness-{i}"
            init_witness(path, f"witness-{i}.test")
            store = WitnessStore(path)
            if self.clock is not None:
                skey = (path / KEY_FILE).read_text().strip()  # PRIVATE+KEY+name+id+b64
                seed = base64.b64decode(skey.rsplit("+", 1)[1])[1:]
                store.signer = CosignatureSigner(store.signer.name, seed, clock=self.clock)
            store.add_log(authority.origin, authority.log_vkey)
            self.stores.append(store)

    @property
    def urls(self) -> list[str]:
        return [f"http://witness-{i}.test" for i in range(self.n)]

    @property
    def vkeys(self) -> list[str]:
        return [s.signer.verifier().vkey() for s in self.stores]

    def post(self, url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        """Answer as the witness at `url` would: its cosignature line, or its refusal."""
        i = self.urls.index(url)
        self.asked.append((i, old))
        if i in self.down:
            raise WitnessUnavailable(f"witness {url}: connection refused")
        store = self.stores[i]
        parsed = parse_request(format_request(old, proof, note))
        checkpoint, text = open_checkpoint(parsed, store.trusted())
        [refusal] = store.record([Opened(parsed, checkpoint, text)])
        if refusal is not None:
            assert isinstance(refusal, CwledgerError)
            raise refusal
        return [store.signer.cosign(text)]

    def close(self) -> None:
        for s in self.stores:
            s.close()


def set_policy(
    ledger: Ledger, urls: Sequence[str], vkeys: Sequence[str], quorum: int
) -> dict[str, Any]:
    """Append a witness.policy with the approvals of the founding quorum (the fixture's
    keystore holds every founding party's key); its receipt as JSON."""
    body = {
        "witnesses": [{"url": u, "key": k} for u, k in zip(urls, vkeys, strict=True)],
        "quorum": quorum,
    }
    k, eligible = ledger.authority().quorum_for(None)
    approvals = [ledger.approve(WITNESS_POLICY, body, p) for p in eligible[:k]]
    return ledger.submit_approved(WITNESS_POLICY, body, approvals, "operator").to_json()
