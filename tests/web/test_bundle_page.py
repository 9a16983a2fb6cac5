"""The log page checks an offline bundle in the browser (chosen or dropped), with the keys
the visitor pins in the text fields: a real bundle verifies and lists its entries; a
changed byte, a wrong pinned key, or cosignatures below the pinned witnesses' quorum fail,
named; `checkBundle` of verify.js refuses single-byte changes across the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.ledger.bundle import build_bundle, check_bundle
from cwledger.ledger.ledger import Ledger
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.tlog.note import Signer
from tests.web.conftest import Site, Watched

W1, W2 = (CosignatureSigner(f"witness-{n}.example", bytes([n]) * 32) for n in (1, 2))
IMPORT = "const v = await import('/static/js/verify.js');"


def _bundle(site: Site, indices: list[int], cosigners: tuple[CosignatureSigner, ...] = ()) -> bytes:
    led = Ledger.open(site.ledger_dir)
    try:
        with led.store.read() as r:
            cp = r.latest_checkpoint()
            assert cp is not None
            text = Checkpoint(cp.note.split("\n", 1)[0], cp.size, cp.root_hash).to_text()
            lines = "".join(w.cosign(text, 1_700_000_000) + "\n" for w in cosigners)
            return build_bundle(
                r,
                led.tree(r, cp.size),
                cp,
                indices,
                checkpoint_note=cp.note + lines,
                witness_vkeys=[w.verifier().vkey() for w in (W1, W2)] if cosigners else [],
                quorum=2 if cosigners else 0,
            )
    finally:
        led.close()


def _check(view: Watched, path: Path, log_key: str = "", witnesses: str = "") -> str:
    page = view.page
    page.fill("#pinned-key", log_key)
    page.fill("#pinned-witnesses", witnesses)
    page.evaluate("document.getElementById('bundle-status').dataset.state = ''")
    page.set_input_files("#bundle-file", str(path))
    page.wait_for_selector('#bundle-status[data-state="pass"], #bundle-status[data-state="fail"]')
    return str(page.inner_text("#bundle-status"))


@pytest.fixture
def log_page(site: Site, view: Watched) -> Watched:
    view.page.goto(f"{site.base}/log")
    return view


def test_a_chosen_bundle_verifies_and_lists_its_entries(
    site: Site, log_page: Watched, tmp_path: Path
) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(_bundle(site, [5, 40]))
    status = _check(log_page, path, site.log_key)
    assert status.startswith("Verified:"), status
    rows = log_page.page.locator("#bundle-entries tbody tr")
    indices = [int(rows.nth(i).locator("td").nth(0).inner_text()) for i in range(rows.count())]
    assert 0 in indices and 5 in indices and 40 in indices and indices == sorted(indices)
    assert log_page.page.inner_text("#bundle-warnings") == ""
    log_page.assert_clean()


def test_without_a_pinned_key_it_says_so(site: Site, log_page: Watched, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(_bundle(site, [5]))
    assert _check(log_page, path).startswith("Verified:")
    assert (
        "log key not pinned: taken from the bundle, which proves only consistency with itself"
        in (log_page.page.inner_text("#bundle-warnings"))
    )


def test_a_changed_byte_and_a_wrong_pinned_key_fail(
    site: Site, log_page: Watched, tmp_path: Path
) -> None:
    data = bytearray(_bundle(site, [5]))
    at = data.index(b'"envelope":"') + 40
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    path = tmp_path / "changed.json"
    path.write_bytes(bytes(data))
    assert "NOT verified" in _check(log_page, path, site.log_key)
    path.write_bytes(_bundle(site, [5]))
    origin = json.loads(path.read_bytes())["checkpoint"].split("\n", 1)[0]
    other = Signer.generate(origin).verifier().vkey()
    status = _check(log_page, path, other)
    assert status.startswith("NOT verified: checkpoint"), status


def test_pinned_witnesses_need_their_cosignatures(
    site: Site, log_page: Watched, tmp_path: Path
) -> None:
    pins = f"{W1.verifier().vkey()}\n{W2.verifier().vkey()}"
    both, one = tmp_path / "both.json", tmp_path / "one.json"
    both.write_bytes(_bundle(site, [5], (W1, W2)))
    one.write_bytes(_bundle(site, [5], (W1,)))
    assert "cosigned by 2 of 2 pinned witnesses" in _check(log_page, both, site.log_key, pins)
    status = _check(log_page, one, site.log_key, pins)
    assert "1 valid cosignatures, quorum 2; missing witness-2.example" in status, status


def test_a_dropped_bundle_is_checked(site: Site, log_page: Watched) -> None:
    data = list(_bundle(site, [7]))
    log_page.page.fill("#pinned-key", site.log_key)
    log_page.page.evaluate(
        """(bytes) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(bytes)], "dropped.json"));
          document.getElementById("bundle-drop").dispatchEvent(
            new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        }""",
        data,
    )
    log_page.page.wait_for_selector('#bundle-status[data-state="pass"]')


def test_verify_js_refuses_single_byte_changes(site: Site, log_page: Watched) -> None:
    data = _bundle(site, [5], (W1, W2))
    step = max(1, len(data) // 400)
    failed: Any = log_page.page.evaluate(
        "async (args) => {"
        + IMPORT
        + """
          const [bytes, step] = args;
          const good = new Uint8Array(bytes);
          await v.checkBundle(good, {});
          const passed = [];
          for (let at = 0; at < good.length; at += step) {
            const bad = good.slice();
            bad[at] ^= 1;
            try { await v.checkBundle(bad, {}); passed.push(at); } catch (e) {
              if (!(e instanceof v.BundleError)) passed.push(`${at}: ${e}`);
            }
          }
          return passed;
        }""",
        [list(data), step],
    )
    assert failed == []


def test_bundle_of_an_item_holds_its_chain_of_custody(site: Site, tmp_path: Path) -> None:
    """`cwledger bundle --item` (on the scenario this session's server serves)."""
    led = Ledger.open(site.ledger_dir)
    try:
        with led.store.read() as r:
            item = next(p.item for p in r.book.every_position() if len(r.book.custody(p.item)) > 1)
            custody = r.book.custody(item)
    finally:
        led.close()
    out = tmp_path / "item.json"
    done = CliRunner().invoke(
        app, ["bundle", "--item", item, "--out", str(out), "--ledger", str(site.ledger_dir)]
    )
    assert done.exit_code == 0, done.output
    result = check_bundle(out.read_bytes(), log_vkey=site.log_key)
    checked = [e.index for e in result.entries if not e.governance]
    assert set(custody) <= {e.index for e in result.entries}
    assert set(checked) <= set(custody)
