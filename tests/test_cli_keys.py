"""`cwledger keys` under failure and attack (issue 13, items 1 and 2).

Item 1: a rotation killed between the log and the keystore, or hitting a full disk, never
locks the party out: the new key is pending (synced) before the entry, and the next
command promotes it (the log took it) or drops it (it did not).
Item 2: the operator cannot rotate another party's key; it may revoke it; a quorum of the
founding parties installs a new one (request, approve, install), and the party writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import CwledgerError
from cwledger.ledger.ledger import Ledger

runner = CliRunner()
ORIGIN = "example.org/cwledger/keys"


def run(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str, input: str | None = None) -> str:
    """The command's error: a CwledgerError (`main` prints it as one line and exits 1)."""
    result = runner.invoke(app, list(args), input=input)
    assert isinstance(result.exception, CwledgerError), result.output
    return " ".join(result.exception.diagnostics().split())


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger"
    founding = [
        "--party",
        "insp:inspectorate",
        "--party",
        "dec:declarant",
        "--party",
        "obs:observer",
    ]
    run("init", str(path), "--origin", ORIGIN, *founding)
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    return path


def _event(n: int) -> str:
    body = {"inspection": f"I-{n}", "site": "S-01", "kind": "routine"}
    return json.dumps({"type": "inspection.opened", "id": f"ev-{n}", "body": body}) + "\n"


def _estimate(n: int) -> str:
    body = {
        "estimate": {
            "party": "dec",
            "value": float(n),
            "u": 1.0,
            "unit": "t",
            "method": "open sources",
            "scope": "total",
        }
    }
    return json.dumps({"type": "estimate.recorded", "id": f"est-{n}", "body": body}) + "\n"


def _keys(party: str) -> dict[str, str]:
    listed = json.loads(run("keys", "list", "--json"))
    return {k["key_id"]: k["status"] for k in listed if k["party"] == party}


def _rotations(path: Path) -> int:
    led = Ledger.open(path)
    try:
        with led.store.read() as r:
            return sum(e.event_type == "key.rotated" for e in r.entries(0, r.size()))
    finally:
        led.close()


# -- item 1: a rotation interrupted ------------------------------------------------------

# Runs `keys rotate` in a child process that kills itself (SIGKILL) just before the log
# append, just after it committed, or while promoting the key (written into the party's
# file, the pending file not yet removed).
KILLED = """
import os, signal, sys
from cwledger.cli import app
from cwledger.ledger.keystore import Keystore
from cwledger.ledger.ledger import Ledger

def kill(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

original = Ledger.append
def append(self, *args, **kwargs):
    if sys.argv[2] == "before":
        kill()
    receipts = original(self, *args, **kwargs)
    if sys.argv[2] == "after":
        kill()
    return receipts
Ledger.append = append
if sys.argv[2] == "promoting":
    Keystore.drop_pending = kill
app(["keys", "rotate", "--party", "insp", "--ledger", sys.argv[1]])
"""


@pytest.mark.parametrize("moment", ["before", "after", "promoting"])
def test_a_rotation_killed_around_the_log_append_never_locks_the_party_out(
    ledger_dir: Path, moment: str
) -> None:
    [old] = _keys("insp")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, "-c", KILLED, str(ledger_dir), moment], env=env, check=False
    )
    assert child.returncode == -signal.SIGKILL
    assert _rotations(ledger_dir) == (0 if moment == "before" else 1)
    run("append", "-", "--as", "insp", input=_event(1))  # the party still writes
    statuses = _keys("insp")
    if moment != "before":  # the log took the new key: promoted
        [new] = [k for k in statuses if k != old]
        assert statuses == {old: "rotated", new: "valid"}
    else:  # it did not: dropped, the old key signs on
        assert statuses == {old: "valid"}
    assert not list((ledger_dir / "keys").glob("*.pending"))
    assert not list((ledger_dir / "keys").glob("*.tmp"))
    run("keys", "rotate", "--party", "insp")  # and can rotate again
    run("append", "-", "--as", "insp", input=_event(2))
    assert run("verify").startswith("OK")


class _FullDisk:
    """Every file created in the keystore from `full` on is empty and refuses its bytes
    with ENOSPC (the descriptor is /dev/full's), as on a full disk."""

    def __init__(self, keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.keys = keys.resolve()
        real = os.open

        def open_(path: object, flags: int, mode: int = 0o777, **kw: object) -> int:
            p = Path(os.fsdecode(path))  # type: ignore[arg-type]
            if self.full and flags & os.O_CREAT and p.resolve().parent == self.keys:
                os.close(real(p, flags, mode))
                return real("/dev/full", os.O_WRONLY)
            return real(path, flags, mode, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", open_)


def _filling_after_the_append(disk: _FullDisk, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Ledger.append

    def append(self: Ledger, *args: object, **kwargs: object) -> object:
        receipts = original(self, *args, **kwargs)  # type: ignore[arg-type]
        disk.full = True
        return receipts

    monkeypatch.setattr(Ledger, "append", append)


@pytest.mark.parametrize("when", ["from the start", "once the log took the key"])
def test_a_rotation_on_a_full_disk_never_locks_the_party_out(ledger_dir: Path, when: str) -> None:
    [old] = _keys("insp")
    with pytest.MonkeyPatch.context() as mp:
        disk = _FullDisk(ledger_dir / "keys", mp)
        if when == "from the start":
            disk.full = True
        else:
            _filling_after_the_append(disk, mp)
        result = runner.invoke(app, ["keys", "rotate", "--party", "insp"])
    # Refused with ENOSPC (an OSError, or the error that says where the key is kept).
    assert result.exit_code != 0
    assert "No space left on device" in str(result.exception), result.exception
    assert _rotations(ledger_dir) == (1 if when != "from the start" else 0)
    run("append", "-", "--as", "insp", input=_event(1))  # space freed: the party still writes
    statuses = _keys("insp")
    assert statuses[old] == ("valid" if when == "from the start" else "rotated")
    assert list(statuses.values()).count("valid") == 1
    assert not list((ledger_dir / "keys").glob("*.tmp"))
    assert not list((ledger_dir / "keys").glob("*.pending"))
    assert run("verify").startswith("OK")


def test_a_full_disk_after_the_log_took_the_key_is_one_clear_line(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _filling_after_the_append(_FullDisk(ledger_dir / "keys", monkeypatch), monkeypatch)
    message = fails("keys", "rotate", "--party", "insp")
    assert "the log holds the new key of insp" in message
    assert "insp.pending" in message and "next command" in message


# -- item 2: no party installs a key for another -----------------------------------------


def _operator_key_for(ledger_dir: Path, tmp_path: Path) -> str:
    """A key named after `dec` that the operator holds (in a keystore of its own)."""
    from cwledger.tlog.note import Signer

    stolen = Signer.generate("dec")
    (tmp_path / "stolen").write_text(stolen.skey())
    return stolen.vkey()


def test_the_operator_cannot_rotate_a_declarants_key_but_a_quorum_can_install_one(
    ledger_dir: Path, tmp_path: Path
) -> None:
    # The attack: key.rotated for dec, signed by the operator (a registrar).
    body = {"party": "dec", "key": _operator_key_for(ledger_dir, tmp_path)}
    attack = json.dumps({"type": "key.rotated", "body": body}) + "\n"
    message = fails("append", "-", "--as", "operator", input=attack)
    assert "operator may not install a key for dec" in message
    assert _rotations(ledger_dir) == 0
    # The operator may revoke dec's key; dec then writes nothing.
    [dec_key] = _keys("dec")
    run(
        "keys",
        "revoke",
        "--party",
        "dec",
        "--key-id",
        dec_key,
        "--reason",
        "lost",
        "--as",
        "operator",
    )
    assert "revoked by entry" in fails("append", "-", "--as", "dec", input=_estimate(1))
    # dec asks for a new key; two founding parties approve it; anyone sends it.
    request = tmp_path / "request.json"
    request.write_text(run("keys", "request", "--party", "dec"))
    assert list(_keys("dec").values()) == ["revoked", "pending (request)"]
    run("keys", "request", "--party", "dec", "--cancel")  # changed its mind: asks again
    assert list(_keys("dec").values()) == ["revoked"]
    request.write_text(run("keys", "request", "--party", "dec"))
    approvals = tmp_path / "approvals.jsonl"
    approvals.write_text(run("keys", "approve", str(request), "--as", "insp"))
    short = fails("keys", "install", str(request), "--approval", str(approvals), "--as", "operator")
    assert "needs the approvals of 2 of the founding parties operator, insp, obs" in short
    with approvals.open("a") as f:
        f.write(run("keys", "approve", str(request), "--as", "obs"))
    run("keys", "install", str(request), "--approval", str(approvals), "--as", "operator")
    assert sorted(_keys("dec").values()) == ["revoked", "valid"]
    run("append", "-", "--as", "dec", input=_estimate(2))  # dec writes again
    assert run("verify").startswith("OK")


def test_a_second_declarant_needs_the_quorum(ledger_dir: Path, tmp_path: Path) -> None:
    message = fails("keys", "new", "--party", "dec2", "--role", "declarant")
    assert "role declarant is already held by dec" in message and "keys request" in message
    assert not (ledger_dir / "keys" / "dec2.json").exists()
    request = tmp_path / "request.json"
    request.write_text(run("keys", "request", "--party", "dec2", "--role", "declarant"))
    approvals = tmp_path / "approvals.jsonl"
    approvals.write_text(
        "".join(run("keys", "approve", str(request), "--as", p) for p in ("insp", "dec", "obs"))
    )
    run("keys", "install", str(request), "--approval", str(approvals), "--as", "operator")
    run("append", "-", "--as", "dec2", input=_estimate(3))
    run("keys", "new", "--party", "wit", "--role", "witness")  # a role nobody holds: the registrar
    assert run("verify").startswith("OK")


def test_init_sets_the_quorum_in_the_genesis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "q"
    parties = ["--party", "a:declarant", "--party", "b:inspectorate", "--party", "c:observer"]
    run("init", str(path), "--origin", ORIGIN, *parties, "--quorum", "3")
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    request = tmp_path / "request.json"
    request.write_text(run("keys", "request", "--party", "a"))
    approvals = tmp_path / "approvals.jsonl"
    approvals.write_text("".join(run("keys", "approve", str(request), "--as", p) for p in "bc"))
    message = fails("keys", "install", str(request), "--approval", str(approvals), "--as", "b")
    assert "needs the approvals of 3 of the founding parties operator, b, c; it has 2" in message
    with approvals.open("a") as f:
        f.write(run("keys", "approve", str(request), "--as", "operator"))
    run("keys", "install", str(request), "--approval", str(approvals), "--as", "b")
    assert _keys("a") and sorted(_keys("a").values()) == ["rotated", "valid"]
