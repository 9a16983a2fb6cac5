"""`cwledger mirror`: a published directory behind a plain `python -m http.server` on
127.0.0.1 becomes a complete, independent, audited ledger that answers like the original;
it resumes, and refuses a rewound or forked source."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cwledger.ledger.mirror as mirror_module
from cwledger.book import answers, progress
from cwledger.cli import app
from cwledger.errors import VerificationError
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.mirror import InconsistentSource, mirror
from cwledger.ledger.publish import publish
from cwledger.ledger.tile_bytes import resource_path, resources
from cwledger.store import Store
from tests.conftest import ORIGIN, row_counts
from tests.publish.helpers import cwledger_serve, grow, http_server, log_api


@pytest.fixture(scope="module")
def syria(syria_2013_copy: Callable[..., Path]) -> Iterator[Ledger]:
    led = Ledger.open(syria_2013_copy(confidential=False))
    yield led
    led.close()


def _same_log_bytes(a: Ledger, b: Ledger) -> int:
    """Every `/log/` resource of `a`'s latest tree is served byte for byte by `b` too."""
    api_a, api_b = log_api(a), log_api(b)
    size = a.latest_checkpoint().size
    paths = ["checkpoint", *(resource_path(ref) for ref in resources(size))]
    for path in paths:
        got_a = api_a.get(f"/log/{path}", headers={"Accept-Encoding": "identity"})
        got_b = api_b.get(f"/log/{path}", headers={"Accept-Encoding": "identity"})
        assert got_a.status_code == got_b.status_code == 200, path
        assert got_a.content == got_b.content, path
    return len(paths)


def test_a_mirror_of_a_published_directory_verifies_and_answers_like_the_original(
    syria: Ledger, tmp_path: Path
) -> None:
    out = tmp_path / "pub"
    publish(syria, out)
    stages: set[str] = set()
    with http_server(out) as url:
        report = mirror(
            url, tmp_path / "mirror", progress=lambda stage, done, total: stages.add(stage)
        )
    cp = syria.latest_checkpoint()
    assert (report.size, report.root_hash, report.fetched) == (cp.size, cp.root_hash, cp.size)
    assert not report.pinned and stages >= {"fetching", "verifying"}
    copy = Ledger.open(tmp_path / "mirror")
    try:
        assert copy.latest_checkpoint().note == cp.note
        assert audit(copy.store).root_hash == cp.root_hash
        with syria.store.read() as r, copy.store.read() as m:
            assert answers.holdings(m.book) == answers.holdings(r.book)
            assert answers.holdings(m.book, by="chemical") == answers.holdings(
                r.book, by="chemical"
            )
            assert answers.status_document(
                progress.load_facts(m.book), None
            ) == answers.status_document(progress.load_facts(r.book), None)
            assert m.book.dump() == r.book.dump()
        assert _same_log_bytes(syria, copy) > 3
    finally:
        copy.close()


def test_a_mirror_resumes_with_only_the_new_entries(ledger: Ledger, tmp_path: Path) -> None:
    grow(ledger, 0, 600)
    out, dest = tmp_path / "pub", tmp_path / "mirror"
    publish(ledger, out)
    vkey = ledger.authority().log_vkey
    assert vkey is not None
    with http_server(out) as url:
        first = mirror(url, dest, log_key=vkey)
        assert (first.held_before, first.fetched, first.pinned) == (0, 601, True)
        grow(ledger, 600, 300)
        publish(ledger, out)
        second = mirror(url, dest)
        assert (second.held_before, second.fetched, second.size) == (601, 300, 901)
        third = mirror(url, dest)
        assert third.fetched == 0
    copy = Ledger.open(dest)
    try:
        with copy.store.read() as r:
            assert [c.size for c in r.checkpoints()] == [601, 901]
        assert copy.latest_checkpoint().note == ledger.latest_checkpoint().note
        _same_log_bytes(ledger, copy)
    finally:
        copy.close()


def test_a_run_cut_off_before_its_checkpoint_is_completed_by_the_next(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first run stores one chunk of entries, then stops (a kill) before the chunk that
    # carries its checkpoint; the source grows meanwhile. The next run stores the rest
    # under the new checkpoint, and the entries the cut-off run left belong to that batch:
    # the audit's chain of checkpoints holds (no batch whose checkpoint is missing).
    grow(ledger, 0, 600)
    out, dest = tmp_path / "pub", tmp_path / "mirror"
    publish(ledger, out)
    monkeypatch.setattr("cwledger.ledger.mirror.BUNDLES_PER_CHUNK", 1)
    extend = Ledger.extend_log
    calls = []

    def cut_off(self: Ledger, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return extend(self, *args, **kwargs)  # type: ignore[arg-type]

    with http_server(out) as url:
        monkeypatch.setattr(Ledger, "extend_log", cut_off)
        with pytest.raises(KeyboardInterrupt):
            mirror(url, dest)
        monkeypatch.setattr(Ledger, "extend_log", extend)
        grow(ledger, 600, 100)
        publish(ledger, out)
        done = mirror(url, dest)
    assert (done.held_before, done.size) == (256, 701)
    copy = Ledger.open(dest)
    try:
        with copy.store.read() as r:
            assert [c.size for c in r.checkpoints()] == [701]
        audit(copy.store)
        _same_log_bytes(ledger, copy)
    finally:
        copy.close()


def test_a_mirror_holds_the_level_0_tiles_of_one_chunk_at_a_time(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a mirror holds of its source's tiles does not grow with the log: the level-0
    tiles of the chunk it is storing (and the right edge the root check read), not one
    per 256 entries of the whole log (8 KB each: 320 MB at 10,000,000 entries)."""
    grow(ledger, 0, 1800)  # 7 full bundles and a partial one: 8 chunks of one bundle
    out = tmp_path / "pub"
    publish(ledger, out)
    monkeypatch.setattr(mirror_module, "BUNDLES_PER_CHUNK", 1)
    held: list[int] = []
    fetch = mirror_module._SourceTree.fetch

    def counted(self: Any, keys: Any) -> dict[tuple[int, int], bytes]:
        rows = fetch(self, keys)
        held.append(sum(1 for level, _ in self.rows if level == 0))
        return rows

    monkeypatch.setattr(mirror_module._SourceTree, "fetch", counted)
    with http_server(out) as url:
        report = mirror(url, tmp_path / "mirror")
    assert report.size == 1801 and report.audit.size == 1801
    assert len(held) > 8 and max(held) == 2


def test_a_pinned_key_that_is_not_the_logs_is_refused_and_nothing_is_written(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 10)
    out = tmp_path / "pub"
    publish(ledger, out)
    other = Ledger.init(tmp_path / "other", ORIGIN, time="2013-09-14T00:00:00Z")
    wrong = other.authority().log_vkey
    other.close()
    assert wrong is not None
    with (
        http_server(out) as url,
        pytest.raises(VerificationError, match="not the one the genesis names"),
    ):
        mirror(url, tmp_path / "mirror", log_key=wrong)
    store = Store.for_directory(tmp_path / "mirror")
    try:
        with store.read() as r:
            assert r.size() == 0 and r.latest_checkpoint() is None
    finally:
        store.close()


def test_a_forked_or_rewound_source_is_refused_naming_the_sizes(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 300)
    fork_dir = tmp_path / "fork"
    shutil.copytree(ledger.path, fork_dir)  # the same log key, 301 entries
    grow(ledger, 300, 300)
    pub_a, pub_b, pub_c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    publish(ledger, pub_a)
    fork = Ledger.open(fork_dir)
    try:
        publish(fork, pub_c)  # the log as it was at 301 entries: a rewind of pub_a
        grow(fork, 5000, 400)  # other events after the same 301: a fork at 701 entries
        publish(fork, pub_b)
    finally:
        fork.close()
    dest = tmp_path / "mirror"
    with http_server(pub_a) as url:
        mirror(url, dest)
    copy = Ledger.open(dest)
    before = row_counts(copy)
    copy.close()
    with http_server(pub_b) as url, pytest.raises(InconsistentSource) as forked:
        mirror(url, dest)
    assert "tree of size 701 does not extend the 601 entries" in str(forked.value)
    with http_server(pub_c) as url, pytest.raises(InconsistentSource) as rewound:
        mirror(url, dest)
    assert "checkpoint is for 301 entries but this mirror holds 601" in str(rewound.value)
    copy = Ledger.open(dest)
    try:
        assert row_counts(copy) == before
        assert audit(copy.store).size == 601
    finally:
        copy.close()


def test_the_cli_mirrors_and_says_when_no_key_is_pinned(ledger: Ledger, tmp_path: Path) -> None:
    grow(ledger, 0, 20)
    out = tmp_path / "pub"
    publish(ledger, out)
    with http_server(out) as url:
        done = CliRunner().invoke(app, ["mirror", url, str(tmp_path / "m")])
    assert done.exit_code == 0, done.output
    assert "no log key pinned" in done.output
    assert f"OK 21 {ledger.latest_checkpoint().root_hash.hex()}" in done.output


def test_a_mirror_of_a_cwledger_serve_reads_its_log_api(ledger: Ledger, tmp_path: Path) -> None:
    grow(ledger, 0, 300)
    with cwledger_serve(ledger.path) as url:
        report = mirror(url, tmp_path / "mirror")
        assert report.source == url + "/log" and report.size == 301
        grow(ledger, 300, 20)  # the server reads the same database
        again = mirror(url, tmp_path / "mirror")
    assert (again.held_before, again.fetched) == (301, 20)
    copy = Ledger.open(tmp_path / "mirror")
    try:
        _same_log_bytes(ledger, copy)
    finally:
        copy.close()


def test_a_mirror_into_postgresql_resumes_and_refuses_a_fork(
    ledger: Ledger, tmp_path: Path, pg_url: str
) -> None:
    grow(ledger, 0, 300)
    fork_dir = tmp_path / "fork"
    shutil.copytree(ledger.path, fork_dir)
    out, dest = tmp_path / "pub", tmp_path / "mirror"
    publish(ledger, out)
    with http_server(out) as url:
        first = mirror(url, dest, database_url=pg_url)
        grow(ledger, 300, 300)
        publish(ledger, out)
        second = mirror(url, dest)  # the database its database.url names
    assert (first.fetched, second.held_before, second.fetched) == (301, 301, 300)
    assert not (dest / "ledger.db").exists()
    fork = Ledger.open(fork_dir)
    try:
        grow(fork, 5000, 400)
        publish(fork, tmp_path / "forked")
    finally:
        fork.close()
    with http_server(tmp_path / "forked") as url, pytest.raises(InconsistentSource, match="701"):
        mirror(url, dest)
    copy = Ledger.open(dest)
    try:
        assert copy.latest_checkpoint().note == ledger.latest_checkpoint().note
        _same_log_bytes(ledger, copy)
    finally:
        copy.close()


@pytest.mark.parametrize(
    ("name", "at", "error"),
    [
        ("tile/0/000", 100, "tile 0/0 does not match the hashes"),
        ("tile/1/000.p/2", 5, "tiles do not hash to the signed root"),
        ("tile/entries/001", 300, "tile 0/1 does not match the hashes"),
        ("checkpoint", -10, "signature|malformed|base64"),
    ],
)
def test_a_source_with_a_changed_byte_is_refused_and_nothing_is_stored(
    ledger: Ledger, tmp_path: Path, name: str, at: int, error: str
) -> None:
    grow(ledger, 0, 600)
    out = tmp_path / "pub"
    publish(ledger, out)
    data = bytearray((out / name).read_bytes())
    data[at] ^= 0x01
    (out / name).write_bytes(bytes(data))
    with http_server(out) as url, pytest.raises(VerificationError, match=error):
        mirror(url, tmp_path / "mirror")
    store = Store.for_directory(tmp_path / "mirror")
    try:
        with store.read() as r:
            assert r.size() == 0 and r.latest_checkpoint() is None
    finally:
        store.close()
