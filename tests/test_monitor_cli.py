"""The fork test (issue 15, section 3): a ledger's directory copied, different events appended
to each copy (both signed by the same log key), each copy served by `cwledger serve`: a
`cwledger monitor` that saw one branch raises the alarm on the other, and on an older copy
(a rewind), and follows the honest branch as it grows."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cwledger.ledger.ledger import Ledger
from tests.conftest import FOUNDING, ORIGIN, event
from tests.tlog.test_monitor import LOG, MemoryLog, _entries

BASE = 260  # entries past one full tile before the fork


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(ledger_dir: Path) -> Iterator[str]:
    """`cwledger serve` on the ledger, on a free 127.0.0.1 port: its tlog-tiles URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cwledger", "serve", "--ledger", str(ledger_dir)]
        + ["--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/log"
    try:
        for _ in range(600):  # wait until it answers (or has died)
            if proc.poll() is not None:
                raise AssertionError(f"the server exited: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(url + "/checkpoint", timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer")
        yield url
    finally:
        proc.kill()
        proc.wait()


def _append(path: Path, numbers: range) -> int:
    led = Ledger.open(path)
    try:
        led.append(led.sign([event(i) for i in numbers], "insp"))
        return led.latest_checkpoint().size
    finally:
        led.close()


def monitor(url: str, state: Path, key: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwledger", "monitor", url, "--state", str(state)]
        + ["--log-key", key, *extra],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def branches(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    """(a, b, old): `old` the ledger before the fork, `a` and `b` its two branches of the
    same size, different events in each; and the log key."""
    old = tmp_path / "old"
    led = Ledger.init(old, ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    try:
        for start in range(1, BASE, 100):
            led.append(led.sign([event(i) for i in range(start, min(start + 100, BASE))], "insp"))
        key = led.authority().log_vkey
    finally:
        led.close()
    assert key is not None
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(old, a)
    shutil.copytree(old, b)
    assert _append(a, range(1000, 1010)) == _append(b, range(2000, 2010)) == BASE + 10
    return a, b, old, key


def test_a_monitor_that_saw_one_branch_raises_the_alarm_on_the_other(
    branches: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    a, b, old, key = branches
    state = tmp_path / "monitor"
    with served(a) as url_a, served(b) as url_b, served(old) as url_old:
        first = monitor(url_a, state, key)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith(f"OK {BASE + 10} ")
        seen = (state / "checkpoint").read_bytes()

        # b: the same size, another root.
        forked = monitor(url_b, state, key)
        assert forked.returncode == 2, forked.stderr
        said = " ".join(forked.stderr.split())
        assert "ALARM (fork)" in said and f"two checkpoints for size {BASE + 10}" in said
        # The evidence: two checkpoints of one size, both signed by the log key.
        evidence = state / "evidence" / f"fork-{BASE + 10}.checkpoint"
        assert f"kept in {evidence}" in said
        with urllib.request.urlopen(url_b + "/checkpoint") as resp:
            b_note = resp.read()
        assert evidence.read_bytes() == b_note != seen

        # b grows: its tree is still not an extension of a's.
        _append(b, range(3000, 3005))
        forked = monitor(url_b, state, key)
        assert forked.returncode == 2, forked.stderr
        said = " ".join(forked.stderr.split())
        assert (
            "ALARM (fork)" in said and f"not consistent with the one for size {BASE + 10}" in said
        )

        # An older copy: a rewind.
        rewound = monitor(url_old, state, key)
        assert rewound.returncode == 2, rewound.stderr
        said = " ".join(rewound.stderr.split())
        assert "ALARM (rewind)" in said and f"from size {BASE + 10} to size {BASE}" in said
        assert (state / "checkpoint").read_bytes() == seen  # no alarm moves the state
        assert (state / "evidence" / f"rewind-{BASE}.checkpoint").is_file()

        # The honest branch grows: consistent.
        _append(a, range(4000, 4300))
        grown = monitor(url_a, state, key)
        assert grown.returncode == 0, grown.stderr
        assert grown.stdout.startswith(f"OK {BASE + 310} ")
        assert f"from size {BASE + 10}" in " ".join(grown.stderr.split())


def test_a_monitor_needs_the_quorum_and_the_log_key(
    branches: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    from cwledger.tlog.cosignature import CosignatureSigner
    from cwledger.tlog.note import Signer

    a, _, _, key = branches
    witness = CosignatureSigner.generate("witness.example").verifier().vkey()
    with served(a) as url:
        no_quorum = monitor(url, tmp_path / "s1", key, "--witness", witness, "--quorum", "1")
        assert no_quorum.returncode == 2
        said = " ".join(no_quorum.stderr.split())
        assert "ALARM (quorum)" in said and "missing: witness.example" in said
        # a pinned witness without --quorum must have cosigned (every pinned one counts)
        all_pinned = monitor(url, tmp_path / "s3", key, "--witness", witness)
        assert all_pinned.returncode == 2 and "ALARM (quorum)" in all_pinned.stderr
        other_key = Signer.generate(ORIGIN).verifier().vkey()
        wrong = monitor(url, tmp_path / "s2", other_key)
        assert wrong.returncode == 2 and "ALARM (signature)" in wrong.stderr
        assert not (tmp_path / "s1" / "checkpoint").exists()
        assert not (tmp_path / "s2").exists()  # a checkpoint the key does not verify: no evidence


def _publish(log: MemoryLog, root: Path) -> None:
    """Write the log's files under `root`, the checkpoint last (each by a rename)."""
    for path, data in sorted(log.files.items(), key=lambda kv: kv[0] == "checkpoint"):
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(file.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(file)


def test_watch_follows_a_published_directory_until_a_fork(tmp_path: Path) -> None:
    """`--watch` over a file:// directory: it keeps the checkpoint as the log grows, and
    exits with the alarm once the directory shows another branch.

    The other branch is published whole in a directory of its own, and the published
    path's symbolic link turned to it by one rename, while the monitor sleeps after a
    check (it has just replaced its state file): it never reads a directory half written,
    whose tiles would disagree with the checkpoint beside them (an alarm too, but of
    another kind)."""
    root, state = tmp_path / "published", tmp_path / "state"
    (tmp_path / "branch-a").mkdir()
    root.symlink_to(tmp_path / "branch-a", target_is_directory=True)
    log = MemoryLog(_entries(300))
    _publish(log, root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cwledger", "monitor", root.as_uri(), "--state", str(state)]
        + ["--log-key", LOG.verifier().vkey(), "--watch", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for size in (300, 520):
            if size != 300:
                log.entries = _entries(size)
                log.publish()
                _publish(log, root)
            for _ in range(600):  # until the monitor has kept the checkpoint of `size`
                if (state / "checkpoint").is_file() and (
                    state / "checkpoint"
                ).read_bytes() == log.files["checkpoint"]:
                    break
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
            else:
                raise AssertionError(f"the monitor did not keep the checkpoint of size {size}")
        _publish(MemoryLog(_entries(100) + _entries(500, "b")), tmp_path / "branch-b")
        kept = (state / "checkpoint").stat().st_ino
        while (state / "checkpoint").stat().st_ino == kept:  # until it has just checked again
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.005)
        (tmp_path / "turning").symlink_to(tmp_path / "branch-b", target_is_directory=True)
        (tmp_path / "turning").replace(root)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 2, stderr
        assert "ALARM (fork)" in stderr and "not consistent with the one for size 520" in " ".join(
            stderr.split()
        )
    finally:
        proc.kill()
        proc.wait()
