"""The audit of the stored witness cosignatures (`cwledger verify`, issue 15 section 6).

Every stored checkpoint records the quorum the witness policy in force for its tree asks
(`checkpoint.quorum`), and every stored cosignature must be a valid cosignature of its
checkpoint by a witness of that policy. Per witness, the cosignatures form a chain
(`cosignature_chain`: each row's value covers the previous one, its size and its line) whose
head, size and count the log's record of the witness (`witness_state`) holds: a deleted,
changed or reordered cosignature, or a changed witness record, breaks the chain or its
head, and the audit names it.

The checks are split in two so the audit can run them in its one pass over the log:
:meth:`CosignatureAudit.check_checkpoint` when the replay reaches a checkpoint (the policy
in force there is the authority's), and :meth:`CosignatureAudit.finish` at the end (the
chains and the witness records).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence

from cwledger.errors import VerificationError
from cwledger.ledger.authority import WitnessPolicy
from cwledger.store import StoredCheckpoint, StoredCosignature, WitnessState, cosignature_chain
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature

__all__ = ["CosignatureAudit"]

Fail = Callable[[int, str], Exception]
"""Makes the audit's failure at an entry index (`AuditFailure`)."""


def _holds(sizes: Sequence[int], size: int) -> bool:
    """Whether `size` is among `sizes` (in increasing order)."""
    at = bisect_left(sizes, size)
    return at < len(sizes) and sizes[at] == size


def _name(vkey: str) -> str:
    """A witness as the messages name it: its key's name and id."""
    return "+".join(vkey.split("+")[:2])


class CosignatureAudit:
    """The stored cosignatures and witness records, checked against the checkpoints and the
    witness policy in force for each, as streams: what it holds is one checkpoint's
    cosignatures and the set of witnesses, not the table (a log that checkpoints every
    batch and asks several witnesses stores a cosignature per witness per batch)."""

    def __init__(
        self,
        by_size: Iterable[StoredCosignature],
        cosigned: Iterable[tuple[int, str]],
        by_witness: Callable[[str], Iterable[StoredCosignature]],
        states: Mapping[str, WitnessState],
        checkpoint_sizes: Sequence[int],
        fail: Fail,
    ) -> None:
        """`by_size`: every cosignature by checkpoint size then witness; `cosigned`: (size,
        first witness) of each size they name, in increasing order; `by_witness(w)`: w's
        cosignatures by size; `checkpoint_sizes`: the stored checkpoints' sizes, in
        increasing order. Raises `fail` at the smallest cosigned size that is no stored
        checkpoint's."""
        self._fail = fail
        self._by_size = iter(by_size)
        self._next = next(self._by_size, None)
        self._by_witness = by_witness
        self._witnesses: set[str] = set()
        self.states = dict(states)
        self.count = 0
        for size, witness in cosigned:
            if not _holds(checkpoint_sizes, size):
                raise fail(
                    max(size - 1, 0),
                    f"a cosignature by {_name(witness)} of the checkpoint for size {size}, "
                    "which is not stored",
                )

    def _up_to(self, size: int) -> list[StoredCosignature]:
        """The cosignatures of the checkpoint for `size`, read past every smaller one."""
        out = []
        while self._next is not None and self._next.checkpoint_size <= size:
            c, self._next = self._next, next(self._by_size, None)
            self._witnesses.add(c.witness)
            self.count += 1
            if c.checkpoint_size == size:
                out.append(c)
        return out

    def check_checkpoint(self, cp: StoredCheckpoint, policy: WitnessPolicy) -> None:
        """The checkpoint's quorum is the policy's, and each of its cosignatures is a valid
        one by a witness of the policy."""
        where = cp.size - 1
        if cp.quorum != policy.quorum:
            raise self._fail(
                where,
                f"the checkpoint for size {cp.size} records a witness quorum of {cp.quorum}; "
                f"the witness policy in force for its tree asks {policy.quorum}",
            )
        text = cp.note[: cp.note.find("\n\n") + 1]
        witnesses = set(policy.keys)
        for c in self._up_to(cp.size):
            if c.witness not in witnesses:
                raise self._fail(
                    where,
                    f"a cosignature of the checkpoint for size {cp.size} by {_name(c.witness)}, "
                    "not a witness of the policy in force for its tree",
                )
            try:
                stamp = verify_cosignature(CosignatureVerifier.from_vkey(c.witness), text, c.line)
            except VerificationError as e:
                raise self._fail(
                    where,
                    f"the cosignature of the checkpoint for size {cp.size} by "
                    f"{_name(c.witness)} does not verify: {e}",
                ) from e
            if stamp != c.cosigned_at:
                raise self._fail(
                    where,
                    f"the cosignature of the checkpoint for size {cp.size} by "
                    f"{_name(c.witness)} is stamped {stamp}, stored as {c.cosigned_at}",
                )

    def finish(self) -> None:
        """Each witness's chain of cosignatures is whole and ends where its record says."""
        while self._next is not None:  # any left after the last checkpoint checked
            self._up_to(self._next.checkpoint_size)
        for witness in sorted(self._witnesses | set(self.states)):
            chain, last, count = bytes(32), 0, 0
            for c in self._by_witness(witness):
                chain = cosignature_chain(chain, c.checkpoint_size, c.line)
                if c.chain != chain:
                    raise self._fail(
                        c.checkpoint_size - 1,
                        f"the chain of cosignatures by {_name(witness)} breaks at the checkpoint "
                        f"for size {c.checkpoint_size}: a cosignature before it was deleted, "
                        "changed or reordered",
                    )
                last, count = c.checkpoint_size, count + 1
            state = self.states.get(witness)
            have = (state.size, state.chain, state.cosignatures) if state else (0, bytes(32), 0)
            if have != (last, chain, count):
                raise self._fail(
                    max(last - 1, 0),
                    f"the log's record of witness {_name(witness)} says {have[2]} cosignatures "
                    f"up to size {have[0]}; the stored cosignatures are {count} up to size "
                    f"{last}: a cosignature or the record was deleted or changed",
                )
