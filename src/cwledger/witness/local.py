"""A witness answered in this process: the same steps as `cwledger witness serve` (parse
the add-checkpoint body, check the log's signature, decide and record durably, cosign),
without HTTP. For a log that runs its own witness beside it (the demonstration), for
benchmarks, and for tests of the log's side of the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cwledger.witness.protocol import format_request, open_checkpoint, parse_request
from cwledger.witness.store import Opened, WitnessStore

__all__ = ["LocalWitness"]


class LocalWitness:
    """The witness of `store`, named `url` in a witness policy (only its name there:
    `add_checkpoint` answers in this process)."""

    def __init__(self, store: WitnessStore, url: str) -> None:
        self.url = url
        self.store = store

    @classmethod
    def open(cls, path: Path, url: str) -> LocalWitness:
        """The witness in directory `path`. Raises WitnessNotFound."""
        return cls(WitnessStore(path), url)

    @property
    def vkey(self) -> str:
        """Its cosignature verifier key."""
        return self.store.signer.verifier().vkey()

    @property
    def name(self) -> str:
        return self.store.signer.name

    def add_checkpoint(self, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        """What `POST /add-checkpoint` answers with 200: the cosignature line. Raises the
        witness's refusal (the exceptions the server turns into 4xx answers)."""
        request = parse_request(format_request(old, proof, note))
        checkpoint, text = open_checkpoint(request, self.store.trusted())
        [refusal] = self.store.record([Opened(request, checkpoint, text)])
        if refusal is not None:
            raise refusal
        return [self.store.signer.cosign(text)]

    def close(self) -> None:
        self.store.close()
