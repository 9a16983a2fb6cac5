"""A ledger's witness policy set in a test, and a witness run in-process on the real protocol.

`set_policy` writes a `witness.policy` governance entry as `cwledger witnesses add` does:
approved by a quorum of the founding parties (their keys are in the test ledger's keystore)
and sent by the operator. `InProcessWitness` is a real witness directory whose `post` runs
the witness's own steps (parse the request, open the checkpoint with the trusted log keys,
decide and record it durably, cosign) without HTTP, on a clock the test sets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from cwledger.ledger.ledger import Ledger
from cwledger.model.events import WITNESS_POLICY
from cwledger.witness.protocol import format_request, open_checkpoint, parse_request
from cwledger.witness.store import Opened, WitnessStore, init_witness


def set_policy(ledger: Ledger, witnesses: Sequence[tuple[str, str]], quorum: int) -> int:
    """Set the ledger's witnesses ((url, vkey) each) and quorum; the policy entry's index."""
    body = {"witnesses": [{"url": u, "key": k} for u, k in witnesses], "quorum": quorum}
    k, eligible = ledger.authority().quorum_for(None)
    approvals = [ledger.approve(WITNESS_POLICY, body, party) for party in eligible[:k]]
    return ledger.submit_approved(WITNESS_POLICY, body, approvals, "operator").index


class InProcessWitness:
    """A witness in directory `path` for the ledger's log, cosigning with timestamps from
    `clock` (POSIX seconds): `post` has the signature of `witness.client.add_checkpoint`."""

    def __init__(self, path: Path, name: str, ledger: Ledger, clock: Callable[[], int]) -> None:
        self.vkey = init_witness(path, name).verifier().vkey()
        self.store = WitnessStore(path)
        authority = ledger.authority()
        assert authority.origin is not None and authority.log_vkey is not None
        self.store.add_log(authority.origin, authority.log_vkey)
        self.clock = clock

    def post(self, url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        parsed = parse_request(format_request(old, proof, note))
        checkpoint, text = open_checkpoint(parsed, self.store.trusted())
        [refusal] = self.store.record([Opened(parsed, checkpoint, text)])
        if refusal is not None:
            raise refusal
        return [self.store.signer.cosign(text, self.clock())]

    def close(self) -> None:
        self.store.close()
