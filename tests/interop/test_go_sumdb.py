"""Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's golang-golang-x-mod-dev, built
offline) read our log as an outside client: our checkpoint note opens with our log's key;
our tiles, laid out under Go's tile paths (`tile/8/<L>/<N>`; ours are `tile/<L>/<N>`, the
hashes are the same), hash to the signed root with `tlog.TileHashReader` and
`tlog.TreeHash`; our inclusion proofs pass `tlog.CheckRecord` and equal the ones
`tlog.ProveRecord` builds from the tiles. A changed tile or proof makes Go refuse.

Go is a test dependency (`.ci/run` installs golang-go and golang-golang-x-mod-dev): under
CI=true a missing Go fails; elsewhere the test skips, saying why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwledger.ledger.ledger import Ledger
from cwledger.tlog.hashing import HASH_SIZE
from cwledger.tlog.tiles import tile_layout, tile_path
from tests.conftest import FOUNDING, ORIGIN, event

GO_SOURCE = Path(__file__).resolve().parents[1] / "go" / "sumdbcheck"
GO_PATH = Path("/usr/share/gocode")  # Debian's packaged Go sources
NOTE_PACKAGE = GO_PATH / "src/golang.org/x/mod/sumdb/note"
SIZE = 600  # two full level-0 tiles and a partial one; a partial level-1 tile


def _missing() -> str | None:
    if shutil.which("go") is None:
        return "go is not installed (apt-get install golang-go golang-golang-x-mod-dev)"
    if not NOTE_PACKAGE.is_dir():
        return f"{NOTE_PACKAGE} is missing (apt-get install golang-golang-x-mod-dev)"
    return None


@pytest.fixture(scope="module")
def sumdbcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go client, built offline from Debian's sources (GOPATH mode, no proxy)."""
    why = _missing()
    if why is not None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true: {why}")
        pytest.skip(why)
    out = tmp_path_factory.mktemp("go") / "sumdbcheck"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GO_PATH),
        "GOCACHE": str(tmp_path_factory.mktemp("gocache")),
        "GOPROXY": "off",
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    subprocess.run(["go", "build", "-o", str(out), "."], cwd=GO_SOURCE, env=env, check=True)
    return out


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    path = tmp_path_factory.mktemp("ledger") / "ledger"
    led = Ledger.init(path, ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    first = led.store.size()  # the genesis
    for start in range(0, SIZE - first, 200):
        led.append(
            led.sign([event(i) for i in range(start, min(start + 200, SIZE - first))], "insp")
        )
    yield led
    led.close()


def _go_tiles(ledger: Ledger, size: int, root: Path) -> int:
    """Lay the hash tiles of the tree of `size` out under Go's paths; how many there are."""
    wanted: dict[tuple[int, int], int] = {}
    for level, (full, partial) in enumerate(tile_layout(size)):
        wanted |= {(level, n): 256 for n in range(full)}
        if partial:
            wanted[(level, full)] = partial
    with ledger.store.read() as r:
        stored = r.tiles(wanted)
    for (level, n), width in wanted.items():
        ours = tile_path(level, n, width)  # tile/<L>/<N>[.p/<W>]
        go = root / ("tile/8/" + ours.removeprefix("tile/"))
        go.parent.mkdir(parents=True, exist_ok=True)
        go.write_bytes(stored[(level, n)][: width * HASH_SIZE])  # the C2SP bytes
    return len(wanted)


def _input(ledger: Ledger, tiles: Path, indices: list[int]) -> dict[str, object]:
    cp = ledger.latest_checkpoint()
    vkey = ledger.authority().log_vkey
    proofs = []
    with ledger.store.read() as r:
        for i in indices:
            [entry] = r.entries(i, i + 1)
            proof = ledger.prove_inclusion(i, cp.size)["proof"]
            proofs.append(
                {
                    "index": i,
                    "leaf": base64.b64encode(entry.envelope).decode(),
                    "proof": [base64.b64encode(bytes.fromhex(h)).decode() for h in proof],
                }
            )
    return {"note": cp.note, "vkey": vkey, "tiles": str(tiles), "proofs": proofs}


def _run(binary: Path, doc: dict[str, object], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(doc))
    return subprocess.run([str(binary), str(path)], capture_output=True, text=True, check=False)


INDICES = [0, 1, 255, 256, 300, 511, 512, SIZE - 1]


def test_go_reads_our_note_tiles_and_proofs(
    sumdbcheck: Path, ledger: Ledger, tmp_path: Path
) -> None:
    cp = ledger.latest_checkpoint()
    assert cp.size == SIZE
    assert _go_tiles(ledger, cp.size, tmp_path / "log") == 4  # 0/000, 0/001, 0/002.p/88, 1/000.p/2
    assert (tmp_path / "log/tile/8/0/002.p/88").is_file()
    assert (tmp_path / "log/tile/8/1/000.p/2").is_file()
    done = _run(sumdbcheck, _input(ledger, tmp_path / "log", INDICES), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["OK", str(SIZE), cp.root_hash.hex(), str(len(INDICES))]


def test_go_refuses_a_changed_tile(sumdbcheck: Path, ledger: Ledger, tmp_path: Path) -> None:
    _go_tiles(ledger, SIZE, tmp_path / "log")
    tile = tmp_path / "log/tile/8/0/001"
    data = bytearray(tile.read_bytes())
    data[100] ^= 1
    tile.write_bytes(bytes(data))
    done = _run(sumdbcheck, _input(ledger, tmp_path / "log", [300]), tmp_path)
    assert done.returncode == 1 and "sumdbcheck:" in done.stderr, done.stdout


def test_go_refuses_a_changed_proof_and_a_changed_note(
    sumdbcheck: Path, ledger: Ledger, tmp_path: Path
) -> None:
    _go_tiles(ledger, SIZE, tmp_path / "log")
    doc = _input(ledger, tmp_path / "log", [300])
    proofs = doc["proofs"]
    assert isinstance(proofs, list)
    proof = proofs[0]["proof"]
    proof[0] = base64.b64encode(bytes(32)).decode()
    done = _run(sumdbcheck, doc, tmp_path)
    assert done.returncode == 1 and "tlog.CheckRecord of entry 300" in done.stderr
    doc = _input(ledger, tmp_path / "log", [300])
    note = str(doc["note"])
    doc["note"] = note.replace(f"\n{SIZE}\n", f"\n{SIZE - 1}\n", 1)
    done = _run(sumdbcheck, doc, tmp_path)
    assert done.returncode == 1 and "note.Open" in done.stderr
