"""Witnesses in the test's own process, running the real witness protocol (the steps of
`cwledger.witness.app`: parse the request, check the log's signature, decide and record it
durably, then cosign), and a ledger that names them as its witness policy.

`witnessed(ledger, root)` gives a ledger three witnesses and quorum 2 (a `witness.policy`
approved by the founding parties) and has them cosign its newest checkpoint."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import Asked, collect_cosignatures
from cwledger.model.events import WITNESS_POLICY
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.witness.client import WitnessUnavailable
from cwledger.witness.local import LocalWitness
from cwledger.witness.store import KEY_FILE, WitnessStore, init_witness

W1, W2, W3 = "witness-1.example", "witness-2.example", "witness-3.example"
"""The names of the witnesses `local_witnesses` makes (the first three)."""


@dataclass
class LocalWitnesses:
    """Witnesses of one ledger, reached through `post` (for `collect_cosignatures`); those
    whose index is in `down` do not answer, and `asked` records (index, old size) of every
    request."""

    witnesses: list[LocalWitness] = field(default_factory=list)
    down: set[int] = field(default_factory=set)
    asked: list[tuple[int, int]] = field(default_factory=list)

    def post(self, url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        i = self.urls.index(url)
        self.asked.append((i, old))
        if i in self.down:
            raise WitnessUnavailable(f"witness {url}: connection refused")
        return self.witnesses[i].add_checkpoint(old, proof, note)

    @property
    def urls(self) -> list[str]:
        return [w.url for w in self.witnesses]

    def by_url(self, url: str) -> LocalWitness:
        return next(w for w in self.witnesses if w.url == url)

    @property
    def vkeys(self) -> list[str]:
        return [w.vkey for w in self.witnesses]

    def collect(self, ledger: Ledger) -> list[Asked]:
        """Have every witness of the ledger's policy cosign its newest checkpoint."""
        return collect_cosignatures(ledger, post=self.post)

    def close(self) -> None:
        for w in self.witnesses:
            w.store.close()


def local_witnesses(
    root: Path, ledger: Ledger, n: int = 3, clock: Callable[[], int] | None = None
) -> LocalWitnesses:
    """`n` new witnesses (named witness-1.example...) in `root`, each witnessing `ledger`;
    `clock` (POSIX seconds), when given, stamps their cosignatures."""
    out = LocalWitnesses()
    for i in range(1, n + 1):
        path = root / f"witness-{i}"
        init_witness(path, f"witness-{i}.example")
        out.witnesses.append(
            LocalWitness(_store(path, ledger, clock), f"http://witness-{i}.example")
        )
    return out


def set_policy(
    ledger: Ledger, witnesses: Sequence[LocalWitness] | Sequence[tuple[str, str]], quorum: int
) -> int:
    """Append a `witness.policy` naming `witnesses` (each a LocalWitness or a (url, vkey)
    pair) and `quorum`, approved by a quorum of the founding parties (their keys are in the
    test ledger's keystore) and sent by the operator, as `cwledger witnesses add` does; its
    log index."""
    pairs = [(w.url, w.vkey) if isinstance(w, LocalWitness) else w for w in witnesses]
    body = {"witnesses": [{"url": u, "key": k} for u, k in pairs], "quorum": quorum}
    k, eligible = ledger.authority().quorum_for(None)
    approvals = [ledger.approve(WITNESS_POLICY, body, party) for party in eligible[:k]]
    return ledger.submit_approved(WITNESS_POLICY, body, approvals, "operator").index


class InProcessWitness(LocalWitness):
    """A new witness in directory `path` named `name`, witnessing `ledger`'s log, its
    cosignatures stamped by `clock` (POSIX seconds); `post` has the signature of
    `witness.client.add_checkpoint`."""

    def __init__(self, path: Path, name: str, ledger: Ledger, clock: Callable[[], int]) -> None:
        init_witness(path, name)
        super().__init__(_store(path, ledger, clock), f"http://{name}")

    def post(self, url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        return self.add_checkpoint(old, proof, note)


def _store(path: Path, ledger: Ledger, clock: Callable[[], int] | None) -> WitnessStore:
    """The witness store in `path`, trusting `ledger`'s log key, stamping with `clock`."""
    authority = ledger.authority()
    assert authority.origin is not None and authority.log_vkey is not None
    store = WitnessStore(path)
    if clock is not None:
        skey = (path / KEY_FILE).read_text().strip()  # PRIVATE+KEY+name+id+b64(type||seed)
        seed = base64.b64decode(skey.split("+", 4)[4])[1:]
        store.signer = CosignatureSigner(store.signer.name, seed, clock=clock)
    store.add_log(authority.origin, authority.log_vkey)
    return store


def witnessed(ledger: Ledger, root: Path, n: int = 3, quorum: int = 2) -> LocalWitnesses:
    """`ledger` with `n` local witnesses and `quorum` as its policy, its newest checkpoint
    cosigned by all of them."""
    witnesses = local_witnesses(root, ledger, n)
    set_policy(ledger, witnesses.witnesses, quorum)
    asked = witnesses.collect(ledger)
    assert all(a.cosigned for a in asked), asked
    return witnesses


def drop_cosignatures(note: str, *names: str) -> str:
    """The cosigned checkpoint `note` without the cosignature lines of the witnesses `names`
    (each must have one)."""
    lines = note.splitlines(keepends=True)
    kept = [line for line in lines if not any(line.startswith(f"— {n} ") for n in names)]
    assert len(kept) == len(lines) - len(names)
    return "".join(kept)
