"""The log asks its witnesses: each checkpoint goes to every witness of the policy in force.

After a batch, :func:`collect_cosignatures` sends the newest checkpoint to each witness
(c2sp.org/tlog-witness ``add-checkpoint``), with the consistency proof from the size that
witness last cosigned (kept in the store; on a 409 that names another size, once more
from that one), checks the cosignature it answers with the witness's key from the policy
(c2sp.org/tlog-cosignature) and stores it. Witnesses are asked at once, each in its own
thread, and their answers stored together (one write, not one a witness); one that is down
or refuses is recorded with its failure and asked again next time. Nothing here blocks or
undoes an append: the entries and the log's checkpoint are already durable; the
checkpoint is served once it holds its quorum (`LogReader.latest_checkpoint`).

:class:`Witnessing` runs the collection in a background thread for the server: `poke` after
each append; it retries with backoff while some witness has not cosigned the newest
checkpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

from cwledger.book.registry import GOVERNANCE_TYPES
from cwledger.errors import CwledgerError
from cwledger.ledger.admission import replay_authority
from cwledger.ledger.authority import WitnessPolicy
from cwledger.ledger.ledger import Ledger
from cwledger.store import LogReader, StoredCheckpoint
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature
from cwledger.witness.client import WitnessUnavailable, add_checkpoint
from cwledger.witness.protocol import OldSizeMismatch

__all__ = [
    "AddCheckpoint",
    "Asked",
    "Witnessing",
    "collect_cosignatures",
    "policy_for",
]

GROUP_WAIT = 0.25
"""Seconds to wait for every witness's answer before storing those in hand (one write)."""

AddCheckpoint = Callable[[str, int, Sequence[bytes], bytes], list[str]]
"""Sends (witness URL, old size, proof, note) to a witness; its cosignature lines. Raises
as :func:`cwledger.witness.client.add_checkpoint`, which is the default."""


@dataclass(frozen=True)
class Asked:
    """What one witness did with the newest checkpoint: `cosigned` (now or before) is the
    size it holds our cosignature for, `failure` why it did not cosign this time."""

    witness: str  # its verifier key
    url: str
    size: int  # the checkpoint asked about
    cosigned: bool
    failure: str | None = None


def policy_for(reader: LogReader, size: int) -> WitnessPolicy:
    """The witness policy in force for the tree of `size`: the one its checkpoint is
    cosigned under (its stored quorum is this policy's), from the governance entries
    below `size`. A later policy (not yet cosigned for) does not apply to it."""
    governance = reader.entries_of_types(GOVERNANCE_TYPES)
    authority = replay_authority((e.index, e.envelope) for e in governance if e.index < size)
    return authority.witness_policy


def _default_post(timeout: float) -> AddCheckpoint:
    def post(url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        return add_checkpoint(url, old, proof, note, timeout=timeout)

    return post


def collect_cosignatures(
    ledger: Ledger, *, post: AddCheckpoint | None = None, timeout: float = 10.0
) -> list[Asked]:
    """Ask every witness of the policy in force that has not cosigned the newest checkpoint
    to cosign it; store each cosignature that verifies. Returns what each witness did (in
    the policy's order); never raises for a witness's failure (it is recorded)."""
    with ledger.store.read() as r:
        cp = r.newest_checkpoint()
        size = r.size()
        policy = ledger.authority_of(r).witness_policy
        states = r.witness_states()
    if cp is None or not policy.witnesses:
        return []
    if cp.size != size:  # a batch without its checkpoint: the audit names it; nothing to ask
        return []
    send = post or _default_post(timeout)

    def ask(index: int) -> _Answer:
        w = policy.witnesses[index]
        state = states.get(w.key)
        if state is not None and state.size >= cp.size:
            return _Answer(Asked(w.key, w.url, cp.size, cosigned=state.size == cp.size))
        return _ask(ledger, cp, w.key, w.url, 0 if state is None else state.size, send)

    # The answers are stored in one write (a write costs a disk flush, and the log's appends
    # wait for it), never while waiting on a witness: those that answer within GROUP_WAIT
    # together, then each later one as it comes.
    with ThreadPoolExecutor(max_workers=len(policy.witnesses)) as pool:
        futures = [pool.submit(ask, i) for i in range(len(policy.witnesses))]
        done, pending = wait(futures, timeout=GROUP_WAIT)
        _record(ledger, cp.size, [f.result() for f in done])
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            _record(ledger, cp.size, [f.result() for f in done])
        return [f.result().asked for f in futures]


@dataclass(frozen=True)
class _Answer:
    """What one witness did, and what to store of it: its cosignature (timestamp and line),
    if it gave one; `attempted` false when it was not asked (it holds this size already)."""

    asked: Asked
    timestamp: int = 0
    line: str = ""
    attempted: bool = False


def _record(ledger: Ledger, size: int, answers: Sequence[_Answer]) -> None:
    """Store these answers' cosignatures and attempts, in one write transaction."""
    attempted = [a for a in answers if a.attempted]
    if not attempted:
        return
    now = ledger.clock()
    with ledger.store.write() as w:
        for a in attempted:
            if a.asked.cosigned:
                w.add_cosignature(size, a.asked.witness, a.line, a.timestamp)
            w.witness_attempted(a.asked.witness, now, a.asked.failure)


def _ask(
    ledger: Ledger, cp: StoredCheckpoint, key: str, url: str, old: int, send: AddCheckpoint
) -> _Answer:
    note = cp.note.encode()
    text = note.decode().partition("\n\n")[0] + "\n"
    try:
        try:
            lines = send(url, old, _proof(ledger, old, cp.size), note)
        except OldSizeMismatch as e:  # the witness holds another size than we recorded
            if e.latest_size > cp.size:
                raise OldSizeMismatch(
                    f"the witness holds a cosigned tree of size {e.latest_size}, larger than "
                    f"this log's newest checkpoint ({cp.size}): a fork or a rewind of the log",
                    e.latest_size,
                ) from None
            old = e.latest_size  # equal to ours: it cosigns the same checkpoint again
            lines = send(url, old, _proof(ledger, old, cp.size), note)
        timestamp, line = _cosignature(key, text, lines)
    except CwledgerError as e:
        return _Answer(Asked(key, url, cp.size, cosigned=False, failure=str(e)), attempted=True)
    return _Answer(Asked(key, url, cp.size, cosigned=True), timestamp, line, attempted=True)


def _proof(ledger: Ledger, old: int, size: int) -> list[bytes]:
    if old in (0, size):
        return []
    with ledger.store.read() as r:
        return ledger.tree(r, size).consistency_proof(old, size)


def _cosignature(key: str, text: str, lines: Sequence[str]) -> tuple[int, str]:
    """The timestamp and line of the witness's cosignature among `lines`."""
    verifier = CosignatureVerifier.from_vkey(key)
    for line in lines:
        try:
            timestamp = verify_cosignature(verifier, text, line)
        except CwledgerError as e:
            raise WitnessUnavailable(
                f"the cosignature by {verifier.name} does not verify: {e}"
            ) from e
        if timestamp is not None:
            return timestamp, line
    raise WitnessUnavailable(
        f"the answer holds no cosignature by {verifier.name}+{verifier.key_id.hex()}"
    )


class Witnessing:
    """Collects cosignatures in a background thread: `poke()` after each append; retries
    with backoff (`first_retry` doubling up to `max_retry` seconds) while a witness has not
    cosigned the newest checkpoint. `stop()` ends the thread.

    A round starts at most every `min_interval` seconds: the appends of that time are
    cosigned together, as one checkpoint. A round costs the log some milliseconds of CPU
    (the proofs, the requests, the checks and one write), so under a stream of appends this
    bounds what collecting takes from them; a checkpoint waits that much longer for its
    cosignatures."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        post: AddCheckpoint | None = None,
        timeout: float = 10.0,
        first_retry: float = 1.0,
        max_retry: float = 60.0,
        min_interval: float = 1.0,
    ) -> None:
        self.ledger = ledger
        self.post = post
        self.timeout = timeout
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.min_interval = min_interval
        self.last: list[Asked] = []
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="witnessing", daemon=True)

    def start(self) -> Witnessing:
        """Start the thread (it asks once at start: a checkpoint left from before)."""
        self._wake.set()
        self._thread.start()
        return self

    def poke(self) -> None:
        """A new checkpoint may be there: ask the witnesses now."""
        self._wake.set()

    def stop(self) -> None:
        """End the thread (after the request in flight, if any)."""
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        delay = self.first_retry
        while not self._stopped.is_set():
            self._wake.wait()
            if self._stopped.is_set():
                return
            self._wake.clear()
            started = time.monotonic()
            try:
                self.last = collect_cosignatures(self.ledger, post=self.post, timeout=self.timeout)
            except Exception as e:  # noqa: BLE001 (the store is away: try again later)
                self.last = [Asked("", "", 0, cosigned=False, failure=repr(e))]
            if all(a.cosigned for a in self.last):
                delay = self.first_retry
                rest = self.min_interval - (time.monotonic() - started)
                if rest > 0:  # the pokes meanwhile wait for the next round
                    self._stopped.wait(rest)
                continue
            if not self._wake.wait(delay):  # no new append meanwhile: retry after the delay
                self._wake.set()
            delay = min(delay * 2, self.max_retry)
