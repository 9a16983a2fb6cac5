"""Whom a verifier trusts: the log's key, the witnesses' keys and the quorum, pinned by the
verifier or else read from the ledger itself (which proves nothing against an operator
who rewrote it, and is said so).

:func:`trust_policy` makes the policy (`cwledger.tlog.monitor.Policy`) that `verify` and
`prove` check the served checkpoint with (the mirror, `check-bundle` and the monitor make
theirs from their own source in the same way); `cwledger.tlog.monitor.open_checkpoint`
then refuses a checkpoint without the log's signature or with fewer than the quorum of
valid cosignatures, naming the missing witnesses.
"""

from __future__ import annotations

from collections.abc import Sequence

from cwledger.errors import MalformedInput, VerificationError
from cwledger.ledger.authority import Authority
from cwledger.tlog.cosignature import CosignatureVerifier
from cwledger.tlog.monitor import Policy
from cwledger.tlog.note import Verifier

__all__ = ["UNPINNED_LOG_KEY", "trust_policy"]

UNPINNED_LOG_KEY = (
    "the log key was not pinned (--log-key): checked against the one the ledger's own "
    "genesis names, which proves the checkpoints consistent, not whose log this is"
)


def trust_policy(
    authority: Authority,
    log_key: str | None = None,
    witnesses: Sequence[str] | None = None,
    quorum: int | None = None,
) -> tuple[Policy, list[str]]:
    """The policy to check the ledger's checkpoints with, and what was not pinned.

    A pinned `log_key` must be the one the genesis names (else VerificationError). Pinned
    `witnesses` win over the ledger's witness policy; their quorum is `quorum`, else all of
    them. Unpinned, the witnesses and quorum are the policy in force (`witness.policy`),
    and a `quorum` alone raises the policy's. Raises MalformedInput for a key that does not
    parse or a quorum that cannot be met.
    """
    notes: list[str] = []
    named = authority.log_vkey
    if named is None:
        raise VerificationError("the ledger has no genesis naming its log key")
    if log_key is None:
        notes.append(UNPINNED_LOG_KEY)
        log_key = named
    elif Verifier.from_vkey(log_key).vkey() != named:
        raise VerificationError(
            f"the ledger's genesis names the log key {named}, not the pinned {log_key}"
        )
    policy = authority.witness_policy
    if witnesses is None:
        keys = policy.keys
        k = policy.quorum if quorum is None else quorum
        if keys:
            notes.append(
                f"the witness keys were not pinned (--witness): checked against the ledger's "
                f"own witness policy (entry {policy.since}: {len(keys)} witnesses, quorum "
                f"{policy.quorum})"
            )
    else:
        keys = tuple(CosignatureVerifier.from_vkey(w).vkey() for w in witnesses)
        k = len(keys) if quorum is None else quorum
    if not 0 <= k <= len(keys):
        raise MalformedInput(f"quorum {k} of {len(keys)} witness keys: cannot be met")
    return Policy(log_key, keys, k), notes
