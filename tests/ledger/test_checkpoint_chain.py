"""Nothing deleted quietly: every batch stores its checkpoint, and `verify` names a stored
checkpoint that was deleted or changed (issue 15, section 6), on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from cwledger import store as store_module
from cwledger.ledger.audit import AuditFailure, audit
from cwledger.ledger.ledger import Ledger
from cwledger.store import Store
from tests.conftest import event, execute_sql

BATCHES = [(1, 4), (4, 9), (9, 10), (10, 14)]  # event numbers [a, b): 4 batches
SIZES = [1, 4, 9, 10, 14]  # the checkpoints: the genesis, then one per batch


@pytest.fixture
def ledger(any_ledger: Ledger) -> Ledger:
    for a, b in BATCHES:
        any_ledger.append(any_ledger.sign([event(i) for i in range(a, b)], "insp"))
    return any_ledger


def _failure(led: Ledger) -> AuditFailure:
    with pytest.raises(AuditFailure) as info:
        audit(led.store)
    return info.value


def test_each_batch_records_its_checkpoint_and_the_log_verifies(ledger: Ledger) -> None:
    with ledger.store.read() as r:
        assert [c.size for c in r.checkpoints()] == SIZES
        assert list(r.batches()) == [
            (1, 0, 0, 1),
            (4, 1, 3, 3),
            (9, 4, 8, 5),
            (10, 9, 9, 1),
            (14, 10, 13, 4),
        ]
    report = audit(ledger.store)
    assert (report.size, report.checkpoints) == (14, 5)


@pytest.mark.parametrize("size", [1, 9, 10, 14])
def test_a_deleted_checkpoint_is_named(ledger: Ledger, size: int) -> None:
    """The genesis's, a middle one, a one-entry batch's, the latest."""
    assert execute_sql(ledger, f"DELETE FROM checkpoint WHERE size = {size}") == 1
    failure = _failure(ledger)
    assert f"the checkpoint for size {size}" in str(failure) and "is missing" in str(failure)
    assert failure.index == size - 1


def test_a_changed_byte_of_a_note_is_named(ledger: Ledger) -> None:
    with ledger.store.read() as r:
        note = next(c.note for c in r.checkpoints() if c.size == 9)
    at = note.index("\n") + 1  # the size line: "9" becomes "8"... or any byte of the text
    changed = note[:at] + "8" + note[at + 1 :]
    execute_sql(ledger, f"UPDATE checkpoint SET note = '{changed}' WHERE size = 9")
    failure = _failure(ledger)
    assert "checkpoint for size 9" in str(failure) and failure.index == 8


def test_a_changed_byte_of_a_signature_is_named(ledger: Ledger) -> None:
    with ledger.store.read() as r:
        note = next(c.note for c in r.checkpoints() if c.size == 4)
    at = note.rindex(" ") + 10  # inside the signature's base64
    changed = note[:at] + ("A" if note[at] != "A" else "B") + note[at + 1 :]
    execute_sql(ledger, f"UPDATE checkpoint SET note = '{changed}' WHERE size = 4")
    failure = _failure(ledger)
    assert "checkpoint for size 4 does not verify with the log key" in str(failure)
    assert failure.index == 3


def test_a_changed_stored_root_is_named(ledger: Ledger) -> None:
    other = "00" * 32
    root = f"x'{other}'" if ledger.store.url.startswith("sqlite") else f"'\\x{other}'::bytea"
    execute_sql(ledger, f"UPDATE checkpoint SET root_hash = {root} WHERE size = 10")
    failure = _failure(ledger)
    assert "checkpoint for size 10 says root" in str(failure) and failure.index == 9


def test_a_checkpoint_at_no_batch_boundary_is_named(ledger: Ledger) -> None:
    """A checkpoint moved to another size (its row's size changed) is at no boundary, and
    the one it was is missing: the first of the two is named."""
    execute_sql(ledger, "UPDATE checkpoint SET size = 6 WHERE size = 9")
    failure = _failure(ledger)
    assert "checkpoint for size 6" in str(failure) or "checkpoint for size 9" in str(failure)


def test_entries_that_record_no_checkpoint_are_named(ledger: Ledger) -> None:
    execute_sql(ledger, "UPDATE log_entry SET checkpoint_size = NULL WHERE idx >= 10")
    failure = _failure(ledger)
    assert "entries 10..13 record no checkpoint" in str(failure) and failure.index == 10


def test_merged_batches_leave_their_checkpoint_at_no_boundary(ledger: Ledger) -> None:
    """A batch's entries made to name the next batch's checkpoint: the checkpoint signed
    with them is then at no batch boundary, and named."""
    execute_sql(ledger, "UPDATE log_entry SET checkpoint_size = 10 WHERE idx >= 4 AND idx < 9")
    failure = _failure(ledger)
    assert "the checkpoint for size 9 is at no batch boundary" in str(failure)
    assert failure.index == 8


def test_an_entry_naming_another_batch_is_named(ledger: Ledger) -> None:
    execute_sql(ledger, "UPDATE log_entry SET checkpoint_size = 14 WHERE idx = 6")
    failure = _failure(ledger)
    assert "entries 4..8 (4) record the checkpoint for size 9" in str(failure)
    assert failure.index == 4


def test_verify_names_the_deleted_checkpoint(ledger: Ledger, backend: str) -> None:
    execute_sql(ledger, "DELETE FROM checkpoint WHERE size = 9")
    cli = subprocess.run(
        [sys.executable, "-m", "cwledger", "verify", "--ledger", str(ledger.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1, cli.stderr
    said = " ".join(cli.stderr.split())
    assert "entry 8:" in said and "the checkpoint for size 9" in said and "is missing" in said


def _alembic(url: str, action: str, revision: str) -> None:
    store = Store.open(url, migrate=False)
    try:
        with store.engine.begin() as conn:
            cfg = Config()
            where = Path(store_module.__file__).parent / "migrations"
            cfg.set_main_option("script_location", str(where))
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
    finally:
        store.close()


def test_the_migration_records_the_batches_of_an_existing_ledger(ledger: Ledger) -> None:
    """A ledger from before revision 0006 (the column dropped) gets every entry's batch
    from its checkpoints, and verifies; a checkpoint deleted afterwards is named."""
    url = ledger.store.url
    path = ledger.path
    ledger.close()
    _alembic(url, "downgrade", "0005")
    led = Ledger.open(path)  # migrates to the head
    try:
        with led.store.read() as r:
            assert [b[0] for b in r.batches()] == SIZES
        assert audit(led.store).checkpoints == 5
        execute_sql(led, "DELETE FROM checkpoint WHERE size = 4")
        assert "the checkpoint for size 4" in str(_failure(led))
    finally:
        led.close()
