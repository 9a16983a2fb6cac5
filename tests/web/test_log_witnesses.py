"""The log page and its bundle check with a witness policy, in a real browser: a ledger
whose `witness.policy` names 3 witnesses with a quorum of 2, its checkpoints cosigned by
real witnesses (`cwledger.witness`: their stores and the tlog-witness protocol, run in this
process), served by `cwledger serve`.

The page shows each cosignature (witness, key id, UTC time); the browser's check takes the
witness keys and the quorum the visitor pins: it passes with the 3 witnesses' keys and
K=2, fails naming the missing witnesses when the note holds fewer than K valid
cosignatures (one dropped, one byte of one changed), counts a wrong pinned key for nothing,
and says plainly when it counted against the ledger's own, unpinned, policy."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cwledger.api.process import spawn
from cwledger.ledger.bundle import build_bundle
from cwledger.ledger.keystore import CHECKPOINT_SIGNER
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import collect_cosignatures
from cwledger.tlog import note as note_mod
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.web.log import utc_time
from cwledger.witness.local import LocalWitness
from cwledger.witness.store import WitnessStore, init_witness
from tests.conftest import FOUNDING, ORIGIN, event
from tests.web.conftest import Watched, open_page

NAMES = ("witness-1.example", "witness-2.example", "witness-3.example")
QUORUM = 2


@dataclass
class Witnessed:
    """A served ledger with 3 witnesses (quorum 2): its URL, directory, log key, the
    witnesses' signers (their verifier keys are what a visitor pins) and the cosignature
    timestamps of the served checkpoint, by witness name."""

    base: str
    ledger_dir: Path
    log_key: str
    witnesses: list[CosignatureSigner]
    times: dict[str, int]

    @property
    def vkeys(self) -> list[str]:
        return [w.verifier().vkey() for w in self.witnesses]

    def ident(self, n: int) -> str:
        w = self.witnesses[n]
        return f"{w.name}+{w.key_id.hex()}"


def in_process_witnesses(stores: dict[str, WitnessStore]) -> Any:
    """A `post` for `collect_cosignatures` answering as the witness store of each URL, in
    this process (`cwledger.witness.local.LocalWitness`)."""
    witnesses = {url: LocalWitness(store, url) for url, store in stores.items()}

    def post(url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        return witnesses[url].add_checkpoint(old, proof, note)

    return post


def set_witness_policy(led: Ledger, witnesses: list[tuple[str, str]], quorum: int) -> None:
    """Append a `witness.policy` of (url, vkey) witnesses, approved by the founders."""
    body = {"witnesses": [{"url": u, "key": k} for u, k in witnesses], "quorum": quorum}
    k, eligible = led.authority().quorum_for(None)
    approvals = [led.approve("witness.policy", body, p) for p in eligible[:k]]
    led.submit_approved("witness.policy", body, approvals, "operator")


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witnessed]:
    root = tmp_path_factory.mktemp("witnessed")
    led = Ledger.init(root / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    log_key = led.keystore.signer(CHECKPOINT_SIGNER).verifier().vkey()
    stores: dict[str, WitnessStore] = {}
    signers = []
    for n, name in enumerate(NAMES, 1):
        signers.append(init_witness(root / f"w{n}", name))
        store = WitnessStore(root / f"w{n}")
        store.add_log(ORIGIN, log_key)
        stores[f"http://witness-{n}.invalid"] = store
    try:
        led.append(led.sign([event(n) for n in range(10)], "insp"))
        set_witness_policy(
            led, [(u, s.verifier().vkey()) for u, s in zip(stores, signers, strict=True)], QUORUM
        )
        post = in_process_witnesses(stores)
        collect_cosignatures(led, post=post)
        led.append(led.sign([event(n) for n in range(10, 20)], "insp"))
        asked = collect_cosignatures(led, post=post)
        assert [a.cosigned for a in asked] == [True, True, True], asked
        with led.store.read() as r:
            cp = r.latest_checkpoint()
            assert cp is not None and cp.size == r.size() and len(cp.cosignatures) == 3
            times = {
                next(
                    n
                    for n, s in zip(NAMES, signers, strict=True)
                    if s.verifier().vkey() == c.witness
                ): c.cosigned_at
                for c in r.cosignatures()
                if c.checkpoint_size == cp.size
            }
    finally:
        led.close()
        for store in stores.values():
            store.close()
    server = spawn(root / "ledger", env={"CWLEDGER_PUBLIC_PAGES": "true"})
    yield Witnessed(server.base, root / "ledger", log_key, signers, times)
    server.stop()


@pytest.fixture
def page(witnessed: Witnessed, browser: Any) -> Iterator[Watched]:
    w = open_page(browser)
    yield w
    w.page.context.close()


def _served(site: Witnessed) -> tuple[str, list[str]]:
    """The served note's text with the log's signature, and its cosignature lines by
    witness (in NAMES order)."""
    served = httpx.get(f"{site.base}/log/checkpoint").text
    head, _, block = served.rpartition("\n\n")
    lines = block.rstrip("\n").split("\n")
    by = {line.split(" ")[1]: line for line in lines}
    log_lines = [line for line in lines if line.split(" ")[1] not in NAMES]
    cosigs = [by[name] for name in NAMES]
    return head + "\n\n" + "".join(line + "\n" for line in log_lines), cosigs


def _changed(line: str) -> str:
    """A cosignature line with one byte of its Ed25519 signature changed."""
    prefix, b64 = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[4 + 8 + 10] ^= 0x01  # past the key id and the timestamp
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}"


def _pin(view: Watched, site: Witnessed, witnesses: Sequence[str], quorum: str) -> str:
    """Pin the log key, `witnesses` and `quorum`, verify; the panel's text."""
    p = view.page
    p.fill("#pinned-key", site.log_key)
    p.fill("#pinned-witnesses", "\n".join(witnesses))
    p.fill("#pinned-quorum", quorum)
    p.click("#verify-button")
    p.wait_for_selector("#verify-result.green, #verify-result.red", timeout=15_000)
    return str(p.inner_text("#verify-result"))


def _step(view: Watched, step: str) -> tuple[str, str]:
    li = view.page.locator(f'#verify-steps [data-step="{step}"]')
    return str(li.get_attribute("data-state")), str(li.inner_text())


def _serve_note(view: Watched, body: str) -> None:
    view.page.route("**/log/checkpoint", lambda route: route.fulfill(body=body))


# -- what the page shows ------------------------------------------------------------------------


def test_the_page_shows_each_cosignature_and_the_ledgers_policy(
    witnessed: Witnessed, page: Watched
) -> None:
    page.page.goto(f"{witnessed.base}/log")
    for n, w in enumerate(witnessed.witnesses):
        row = page.page.locator(f'#signatures tr[data-key="{witnessed.ident(n)}"]')
        assert row.locator("[data-name]").inner_text() == w.name
        assert row.locator("[data-key-id]").inner_text() == w.key_id.hex()
        when = utc_time(witnessed.times[w.name])
        assert when is not None and when.endswith(" UTC")
        assert f"a witness, cosigned at {when}" in row.locator("td").nth(1).inner_text()
    assert (
        "The note carries 3 witness cosignatures. The ledger's policy asks for 2 of 3."
        in page.page.inner_text("#cosignature-count")
    )
    policy = page.page.locator("#ledger-policy")
    assert policy.get_attribute("data-quorum") == "2"
    shown = [li.get_attribute("data-vkey") for li in policy.locator("li").all()]
    assert shown == witnessed.vkeys
    assert "For comparison only" in policy.inner_text()
    page.assert_clean()


# -- the served checkpoint, checked in the browser ------------------------------------------------


def test_three_pinned_witnesses_and_a_quorum_of_two_verify(
    witnessed: Witnessed, page: Watched
) -> None:
    page.page.goto(f"{witnessed.base}/log?entry=5")
    text = _pin(page, witnessed, witnessed.vkeys, "2")
    assert "Verified" in text and "NOT" not in text, text
    assert "cosigned by 3 of 3 pinned witnesses (quorum 2)" in text
    state, why = _step(page, "witnesses")
    assert state == "pass", why
    for n, w in enumerate(witnessed.witnesses):
        assert f"{witnessed.ident(n)} at {utc_time(witnessed.times[w.name])}" in why
        cell = page.page.locator(f'#signatures tr[data-key="{witnessed.ident(n)}"] [data-pinned]')
        assert "verifies with your pinned witness key" in cell.inner_text()
    assert page.page.get_attribute("#witness-status", "data-state") == "pass"
    # The quorum is pinned with the keys: the next visit checks with the same.
    page.page.reload()
    page.page.wait_for_selector("#verify-result.green, #verify-result.red", timeout=15_000)
    assert page.page.input_value("#pinned-quorum") == "2"
    assert page.page.input_value("#pinned-witnesses").split("\n") == witnessed.vkeys
    assert "cosigned by 3 of 3 pinned witnesses" in page.page.inner_text("#verify-result")
    page.assert_clean()


def test_a_note_with_fewer_than_the_quorum_fails_naming_the_missing(
    witnessed: Witnessed, page: Watched
) -> None:
    base, cosigs = _served(witnessed)
    _serve_note(page, base + cosigs[0] + "\n")
    page.page.goto(f"{witnessed.base}/log?entry=5")
    text = _pin(page, witnessed, witnessed.vkeys, "2")
    assert "NOT verified" in text and "witnesses" in text, text
    state, why = _step(page, "witnesses")
    assert state == "fail"
    want = f"1 valid cosignature, quorum 2; missing {witnessed.ident(1)}, {witnessed.ident(2)}"
    assert want in why, why
    # The log's signature and the entry's inclusion still hold: only the witnesses fail.
    assert _step(page, "signature")[0] == "pass" and _step(page, "root")[0] == "pass"
    for n in (1, 2):
        cell = page.page.locator(f'#signatures tr[data-key="{witnessed.ident(n)}"] [data-pinned]')
        assert "missing" in cell.inner_text()
    assert want in page.page.inner_text("#witness-status")
    page.assert_clean()


def test_a_changed_cosignature_byte_counts_for_nothing(witnessed: Witnessed, browser: Any) -> None:
    base, cosigs = _served(witnessed)
    # Witness 2's line changed, witness 3's dropped: 1 valid, quorum 2.
    w = open_page(browser)
    _serve_note(w, base + cosigs[0] + "\n" + _changed(cosigs[1]) + "\n")
    w.page.goto(f"{witnessed.base}/log?entry=5")
    assert "NOT verified" in _pin(w, witnessed, witnessed.vkeys, "2")
    state, why = _step(w, "witnesses")
    assert state == "fail"
    assert (
        f"1 valid cosignature, quorum 2; missing {witnessed.ident(1)} (its cosignature does "
        f"not verify), {witnessed.ident(2)}"
    ) in why, why
    cell = w.page.locator(f'#signatures tr[data-key="{witnessed.ident(1)}"] [data-pinned]')
    assert "does NOT verify with your pinned witness key" in cell.inner_text()
    w.assert_clean()
    w.page.context.close()
    # All three lines, one changed: 2 valid still make the quorum of 2, and the bad one is said.
    w = open_page(browser)
    _serve_note(w, base + cosigs[0] + "\n" + _changed(cosigs[1]) + "\n" + cosigs[2] + "\n")
    w.page.goto(f"{witnessed.base}/log?entry=5")
    text = _pin(w, witnessed, witnessed.vkeys, "2")
    assert "cosigned by 2 of 3 pinned witnesses (quorum 2)" in text, text
    assert f"the cosignature by {witnessed.ident(1)} does not verify" in _step(w, "witnesses")[1]
    # ... and with a quorum of 3 they do not.
    text = _pin(w, witnessed, witnessed.vkeys, "3")
    assert "NOT verified" in text
    assert "2 valid cosignatures, quorum 3; missing" in _step(w, "witnesses")[1]
    w.assert_clean()
    w.page.context.close()


def test_a_wrong_pinned_witness_key_counts_for_nothing(witnessed: Witnessed, page: Watched) -> None:
    # The names the witnesses use, with other keys: their real cosignatures match no pin.
    wrong = [CosignatureSigner(w.name, os.urandom(32)) for w in witnessed.witnesses[1:]]
    pins = [witnessed.vkeys[0], *(x.verifier().vkey() for x in wrong)]
    page.page.goto(f"{witnessed.base}/log?entry=5")
    text = _pin(page, witnessed, pins, "2")
    assert "NOT verified" in text, text
    state, why = _step(page, "witnesses")
    idents = [f"{x.name}+{x.key_id.hex()}" for x in wrong]
    assert state == "fail"
    assert f"1 valid cosignature, quorum 2; missing {idents[0]}, {idents[1]}" in why, why
    real = page.page.locator(f'#signatures tr[data-key="{witnessed.ident(1)}"] [data-pinned]')
    assert real.inner_text() == "no pinned key of this name and id"
    for ident in idents:  # the table names each pinned witness that did not cosign
        absent = page.page.locator(f'#signatures tr[data-absent][data-key="{ident}"]')
        assert "a witness you pinned" in absent.inner_text()
        assert "missing" in absent.locator("[data-pinned]").inner_text()
    page.assert_clean()


def test_unpinned_the_ledgers_own_policy_is_counted_and_said_to_be(
    witnessed: Witnessed, page: Watched
) -> None:
    page.page.goto(f"{witnessed.base}/log?entry=5")
    text = _pin(page, witnessed, [], "")
    assert "Verified" in text and "NOT verified" not in text, text
    state, why = _step(page, "witnesses")
    assert state == "pass"
    assert "cosigned by 3 of 3 witnesses of the ledger's policy (quorum 2)" in why
    assert "witness keys NOT pinned" in why
    assert "witness keys NOT pinned" in page.page.inner_text("#witness-status")
    # ... and a note below that policy's quorum fails even so.
    base, cosigs = _served(witnessed)
    _serve_note(page, base + cosigs[2] + "\n")
    page.page.click("#verify-button")
    page.page.wait_for_selector('#verify-steps [data-step="witnesses"][data-state="fail"]')
    assert "missing" in _step(page, "witnesses")[1]
    page.assert_clean()


def test_a_quorum_that_cannot_be_met_or_is_no_majority(witnessed: Witnessed, page: Watched) -> None:
    page.page.goto(f"{witnessed.base}/log")
    page.page.fill("#pinned-key", witnessed.log_key)
    page.page.fill("#pinned-witnesses", "\n".join(witnessed.vkeys))
    page.page.fill("#pinned-quorum", "4")
    page.page.click("#verify-button")
    page.page.wait_for_selector('#witness-status[data-state="fail"]')
    assert "quorum 4 of 3 witness keys: cannot be met" in page.page.inner_text("#witness-status")
    page.page.fill("#pinned-quorum", "1")
    page.page.click("#verify-button")
    page.page.wait_for_selector('#witness-status[data-state="pass"]')
    assert "not a majority" in page.page.inner_text("#witness-status")
    page.assert_clean()


# -- bundles, checked in the browser with the pinned policy ---------------------------------------


def _bundle(site: Witnessed, lines: Sequence[str] | None = None, at: int = 5) -> bytes:
    """A bundle of entry `at` (and the governance before it) with the served checkpoint's
    cosignature `lines` (default: all), and the ledger's policy in the file."""
    led = Ledger.open(site.ledger_dir)
    try:
        with led.store.read() as r:
            cp = r.latest_checkpoint()
            assert cp is not None
            policy = led.authority_of(r).witness_policy
            chosen = cp.cosignatures if lines is None else tuple(lines)
            return build_bundle(
                r,
                led.tree(r, cp.size),
                cp,
                [at],
                checkpoint_note=cp.note + "".join(line + "\n" for line in chosen),
                witness_vkeys=list(policy.keys),
                quorum=policy.quorum,
            )
    finally:
        led.close()


def _check(view: Watched, path: Path, log_key: str, witnesses: Sequence[str], quorum: str) -> str:
    p = view.page
    p.fill("#pinned-key", log_key)
    p.fill("#pinned-witnesses", "\n".join(witnesses))
    p.fill("#pinned-quorum", quorum)
    p.evaluate("document.getElementById('bundle-status').dataset.state = ''")
    p.set_input_files("#bundle-file", str(path))
    p.wait_for_selector('#bundle-status[data-state="pass"], #bundle-status[data-state="fail"]')
    return str(p.inner_text("#bundle-status"))


def test_a_bundle_with_the_pinned_quorum(
    witnessed: Witnessed, page: Watched, tmp_path: Path
) -> None:
    page.page.goto(f"{witnessed.base}/log")
    _, cosigs = _served(witnessed)
    path = tmp_path / "b.json"
    path.write_bytes(_bundle(witnessed, at=15))
    status = _check(page, path, witnessed.log_key, witnessed.vkeys, "2")
    assert status.startswith("Verified:"), status
    assert "cosigned by 3 of 3 pinned witnesses (quorum 2)" in status
    for n, w in enumerate(witnessed.witnesses):
        assert f"{witnessed.ident(n)} at {utc_time(witnessed.times[w.name])}" in status
    types = page.page.locator("#bundle-entries tbody tr td:nth-child(2)").all_inner_texts()
    assert "witness.policy (governance)" in types and "estimate.recorded" in types
    assert page.page.inner_text("#bundle-warnings") == ""
    # One cosignature of the quorum of 2: refused, naming the two missing.
    path.write_bytes(_bundle(witnessed, [cosigs[0]], at=15))
    status = _check(page, path, witnessed.log_key, witnessed.vkeys, "2")
    assert (
        f"NOT verified: checkpoint: 1 valid cosignatures, quorum 2; missing "
        f"{', '.join(sorted([witnessed.ident(1), witnessed.ident(2)]))}"
    ) in status, status
    # A changed byte in a cosignature: refused, naming whose.
    path.write_bytes(_bundle(witnessed, [cosigs[0], _changed(cosigs[1]), cosigs[2]], at=15))
    status = _check(page, path, witnessed.log_key, witnessed.vkeys, "2")
    assert status.startswith("NOT verified: checkpoint: the signature by"), status
    assert witnessed.ident(1) in status and "does not verify" in status
    # A wrong pinned witness key counts for nothing: 2 of the 3 real ones still make 2 ...
    wrong = CosignatureSigner(NAMES[2], os.urandom(32)).verifier().vkey()
    path.write_bytes(_bundle(witnessed, at=15))
    status = _check(page, path, witnessed.log_key, [*witnessed.vkeys[:2], wrong], "2")
    assert "cosigned by 2 of 3 pinned witnesses (quorum 2)" in status, status
    # ... but not 3.
    status = _check(page, path, witnessed.log_key, [*witnessed.vkeys[:2], wrong], "3")
    assert "2 valid cosignatures, quorum 3; missing witness-3.example+" in status, status
    page.assert_clean()


def test_an_unpinned_bundle_policy_is_said_to_be_the_files(
    witnessed: Witnessed, page: Watched, tmp_path: Path
) -> None:
    page.page.goto(f"{witnessed.base}/log")
    path = tmp_path / "b.json"
    path.write_bytes(_bundle(witnessed))
    status = _check(page, path, witnessed.log_key, [], "")
    assert "cosigned by 3 of 3 witnesses the bundle names (not pinned) (quorum 2)" in status, status
    warnings = page.page.inner_text("#bundle-warnings")
    assert (
        "witness keys not pinned: taken from the bundle, which proves only consistency with itself"
        in warnings
    )


def test_verify_js_counts_cosignatures_like_the_python(witnessed: Witnessed, page: Watched) -> None:
    """`countCosignatures` and `utcTime` of verify.js, on the served note, beside the
    Python reading of the same note."""
    page.page.goto(f"{witnessed.base}/log")
    served = httpx.get(f"{witnessed.base}/log/checkpoint").text
    opened = note_mod.open(served.encode(), [w.verifier() for w in witnessed.witnesses])
    assert len(opened.sigs) == 3
    got: Any = page.page.evaluate(
        """async ([note, vkeys]) => {
          const v = await import('/static/js/verify.js');
          const { text, signatures } = v.parseSignedNote(note);
          const policy = await v.witnessPolicy(vkeys, 2);
          const c = await v.countCosignatures(text, signatures, policy);
          return { cosigned: c.cosigned.map((x) => [x.witness, String(x.timestamp), x.time]),
                   missing: c.missing, invalid: c.invalid, met: c.met,
                   epoch: v.utcTime(0n), far: v.utcTime((1n << 63n) - 1n) };
        }""",
        [served, witnessed.vkeys],
    )
    want = [
        [witnessed.ident(n), str(witnessed.times[w.name]), utc_time(witnessed.times[w.name])]
        for n, w in enumerate(witnessed.witnesses)
    ]
    assert got["cosigned"] == want
    assert got["missing"] == [] and got["invalid"] == [] and got["met"] is True
    assert got["epoch"] == "1970-01-01 00:00:00 UTC" == utc_time(0)
    assert got["far"] is None and utc_time(2**63 - 1) is None
