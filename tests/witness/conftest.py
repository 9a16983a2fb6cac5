"""A real witness process for the tests, and an in-memory log whose checkpoints it is fed.

`witness` is a new witness directory served by ``cwledger witness serve`` in a subprocess on
a free 127.0.0.1 port, witnessing `SyntheticLog`'s origin; it is killed at the end.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

import pytest

from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.hashing import leaf_hash
from cwledger.tlog.note import Signer, sign
from cwledger.tlog.proof import consistency_proof, root_hash
from cwledger.witness.store import WitnessStore, init_witness

ORIGIN = "example.org/witness/test-log"
WITNESS_NAME = "witness.example/w1"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running `cwledger witness serve` process."""

    path: Path
    process: subprocess.Popen[bytes]
    url: str

    def stop(self, sig: int = 15) -> None:
        """Send `sig` (default SIGTERM) and reap the process."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=30)


def serve(path: Path) -> Served:
    """Start `cwledger witness serve path` on a free port; return once it accepts connections."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "cwledger", "witness", "serve", str(path), "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60  # a wait for start-up, not a timing under test
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, errors = process.communicate()
                raise RuntimeError(f"witness did not start: {errors.decode()}") from None
            time.sleep(0.05)
    return Served(path, process, f"http://127.0.0.1:{port}")


@dataclass
class SyntheticLog:
    """A log held in memory: leaf hashes and a note key; signs checkpoints of any prefix."""

    origin: str = ORIGIN
    signer: Signer = field(default_factory=lambda: Signer.generate(ORIGIN))
    leaves: list[bytes] = field(default_factory=list)

    def grow(self, n: int, tag: str = "") -> int:
        """Append `n` leaves (distinct for each `tag`); return the new size."""
        start = len(self.leaves)
        self.leaves += [leaf_hash(f"{tag}{i}".encode()) for i in range(start, start + n)]
        return len(self.leaves)

    def root(self, size: int) -> bytes:
        return root_hash(self.leaves[:size])

    def checkpoint(self, size: int, signer: Signer | None = None) -> bytes:
        """The note of the checkpoint at `size`, signed by the log key (or `signer`)."""
        text = Checkpoint(self.origin, size, self.root(size)).to_text()
        return sign(text, [signer or self.signer])

    def proof(self, old: int, size: int) -> list[bytes]:
        """The consistency proof from `old` to `size` (empty from 0 or to the same size)."""
        if old in (0, size):
            return []
        return consistency_proof(self.leaves[:size], old)


def make_witness(path: Path, logs: dict[str, str]) -> str:
    """A witness directory trusting each origin's log vkey; its own vkey."""
    signer = init_witness(path, WITNESS_NAME)
    store = WitnessStore(path)
    for origin, vkey in logs.items():
        store.add_log(origin, vkey)
    store.close()
    return signer.verifier().vkey()


_logs = itertools.count()


@pytest.fixture
def log() -> SyntheticLog:
    """A new in-memory log with an origin of its own."""
    origin = f"{ORIGIN}-{next(_logs)}"
    return SyntheticLog(origin, Signer.generate(origin))


@dataclass
class Witness:
    """A served witness and its verifier key."""

    served: Served
    vkey: str

    @property
    def url(self) -> str:
        return self.served.url


@pytest.fixture(scope="module")
def module_witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    """A served witness for a module's tests, of no log yet."""
    path = tmp_path_factory.mktemp("witness") / "witness"
    vkey = make_witness(path, {})
    served = serve(path)
    try:
        yield Witness(served, vkey)
    finally:
        served.stop(9)


@pytest.fixture
def witness(module_witness: Witness, log: SyntheticLog) -> Witness:
    """The module's served witness, now also of `log` (the server learns of it on its first
    checkpoint, as after `cwledger witness add-log`)."""
    store = WitnessStore(module_witness.served.path)
    store.add_log(log.origin, log.signer.verifier().vkey())
    store.close()
    return module_witness


def digest(data: str) -> bytes:
    """A 32-byte hash of `data` (a fake proof element)."""
    return sha256(data.encode()).digest()
