"""The log explorer in a browser: the page at both widths, the "Verified in your browser"
panel against a pinned key (green for real entries; red, naming the step, for a tampered
entry, a tampered proof, a note by another key, a browser without Ed25519), the search, and
`static/js/verify.js` run in the page against the shared RFC 9162 / C2SP test vectors."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cwledger.tlog import note
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.tlog.note import Signer, Verifier
from tests.tlog._vectors import load
from tests.web.conftest import Site, Watched, open_page

IMPORT = "const v = await import('/static/js/verify.js');"


def _api(site: Site, path: str) -> Any:
    resp = httpx.get(f"{site.base}{path}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def _size(site: Site) -> int:
    return int(_api(site, "/api/v1/log/checkpoint")["size"])


def _origin(site: Site) -> str:
    return Verifier.from_vkey(site.log_key).name


def _verify(view: Watched, key: str, witnesses: str = "") -> str:
    """Pin `key` (and witness keys), click verify, wait for the verdict; the panel's text."""
    page = view.page
    page.fill("#pinned-key", key)
    if witnesses:
        page.fill("#pinned-witnesses", witnesses)
    page.click("#verify-button")
    page.wait_for_selector("#verify-result.green, #verify-result.red", timeout=15_000)
    return str(page.inner_text("#verify-result"))


def _states(view: Watched) -> dict[str, str]:
    steps = view.page.locator("#verify-steps li")
    return {
        steps.nth(i).get_attribute("data-step"): steps.nth(i).get_attribute("data-state")
        for i in range(steps.count())
    }


@pytest.fixture
def fresh(site: Site, browser: Any) -> Iterator[Callable[[int], Watched]]:
    """A page at `/log?entry=N` in a context of its own (nothing pinned yet)."""
    opened: list[Watched] = []

    def go(index: int) -> Watched:
        w = open_page(browser)
        opened.append(w)
        w.page.goto(f"{site.base}/log?entry={index}")
        return w

    yield go
    for w in opened:
        w.page.context.close()


# -- the page --------------------------------------------------------------------------------


def test_the_log_page_at_both_widths(site: Site, browser: Any, width: int) -> None:
    size = _size(site)
    w = open_page(browser, width)
    for path in ("/log", "/log?entry=5"):
        w.page.goto(f"{site.base}{path}")
        assert w.page.inner_text("h1") == "Log explorer"
        assert w.page.inner_text("#cp-size") == f"{size:,} entries"
        rows = w.page.locator("#entries tbody tr")
        assert rows.count() == min(25, size)
        assert rows.nth(0).locator("td").nth(0).inner_text() == f"#{size - 1}"
        assert w.page.locator("#signatures tbody tr[data-key]").count() >= 1
        w.page.wait_for_function(  # the script has run: nothing is pinned in this context
            "() => document.getElementById('pin-status').textContent.includes('No key pinned')"
            " && document.querySelector('#signatures [data-pinned]').textContent"
            ".includes('no key pinned')"
        )
        scroll = w.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width + 1, f"{path} scrolls sideways at {width} px: {scroll} px"
        assert w.page.get_by_label("Pinned log key").count() == 1
        assert w.page.get_by_label("Index or event id").count() == 1
    assert w.page.inner_text("#entry-h") == "Entry 5"
    event = json.loads(w.page.inner_text("#event-json"))
    entry = _api(site, "/api/v1/log/entries?start=5&end=6")["entries"][0]
    payload = json.loads(
        base64.b64decode(json.loads(base64.b64decode(entry["envelope"]))["payload"])
    )
    assert event == payload
    assert "Verified" in _verify(w, site.log_key)  # and the verdict fits the width too
    scroll = w.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"the verdict scrolls sideways at {width} px: {scroll} px"
    w.assert_clean()
    w.page.context.close()


def test_without_a_pinned_key_the_panel_asks_for_one(site: Site, view: Watched) -> None:
    view.page.goto(f"{site.base}/log?entry=5")
    view.page.wait_for_function(
        "() => document.getElementById('verify-status').textContent.includes('pin')"
    )
    panel = view.page.locator("#verify-result")
    assert "green" not in (panel.get_attribute("class") or "")
    assert "red" not in (panel.get_attribute("class") or "")
    assert "No log key is pinned" in panel.inner_text()
    # The server's claim, for comparison only: here it is the real key.
    assert view.page.inner_text("#claimed-key") == site.log_key
    assert f"names {site.log_key}" in panel.inner_text()
    assert view.page.input_value("#pinned-key") == ""
    view.assert_clean()


def test_the_page_escapes_what_it_shows(site: Site, view: Watched) -> None:
    view.page.goto(f"{site.base}/log?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>" in view.page.inner_text("#notice")
    assert view.page.locator("#notice script").count() == 0
    view.page.goto(f"{site.base}/log?entry=999999999")
    assert "not in the latest checkpoint" in view.page.inner_text("#notice")
    view.assert_clean()


# -- verified in the browser -----------------------------------------------------------------


def test_a_real_entry_verifies_green_with_the_pinned_key(
    site: Site, fresh: Callable[[int], Watched]
) -> None:
    for index in (5, _size(site) - 1):
        w = fresh(index)
        text = _verify(w, site.log_key)
        assert "Verified" in text and "NOT verified" not in text, text
        assert "green" in (w.page.get_attribute("#verify-result", "class") or "")
        states = _states(w)
        # The scenario names no witnesses: that step has nothing to check, and says so.
        assert states.pop("witnesses") == "skip", states
        assert set(states.values()) == {"pass"}, states
        assert "names no witnesses" in w.page.inner_text('#verify-steps [data-step="witnesses"]')
        cell = w.page.locator(f'#signatures tr[data-key^="{_origin(site)}+"] [data-pinned]')
        assert "verifies with your pinned log key" in cell.inner_text()
        w.assert_clean()
    # The key stays pinned in this browser: the next page checks at once.
    w.page.goto(f"{site.base}/log?entry=7")
    w.page.wait_for_selector("#verify-result.green, #verify-result.red", timeout=15_000)
    assert w.page.input_value("#pinned-key") == site.log_key
    assert "Verified" in w.page.inner_text("#verify-result")
    w.page.click("#forget-button")
    assert w.page.evaluate("localStorage.length") == 0
    w.assert_clean()


def test_a_tampered_entry_fails_at_the_leaf(site: Site, fresh: Callable[[int], Watched]) -> None:
    w = fresh(5)

    def tamper(route: Any) -> None:
        doc = route.fetch().json()
        raw = bytearray(base64.b64decode(doc["entries"][0]["envelope"]))
        raw[-5] ^= 0x01  # inside the signature's base64: still JSON, another leaf
        doc["entries"][0]["envelope"] = base64.b64encode(bytes(raw)).decode()
        route.fulfill(json=doc)

    w.page.route("**/api/v1/log/entries*", tamper)
    text = _verify(w, site.log_key)
    assert "NOT verified" in text and "leaf" in w.page.inner_text("#verify-status"), text
    assert "red" in (w.page.get_attribute("#verify-result", "class") or "")
    states = _states(w)
    assert states["leaf"] == "fail" and states["signature"] == "pass" and states["root"] == "pass"
    w.assert_clean()


def test_a_tampered_proof_fails_at_the_root(site: Site, fresh: Callable[[int], Watched]) -> None:
    w = fresh(5)

    def flip(route: Any) -> None:
        doc = route.fetch().json()
        first = bytearray(bytes.fromhex(doc["proof"][0]))
        first[0] ^= 0x08
        doc["proof"][0] = first.hex()
        route.fulfill(json=doc)

    w.page.route("**/api/v1/log/proofs/inclusion*", flip)
    text = _verify(w, site.log_key)
    assert "NOT verified" in text and "root" in w.page.inner_text("#verify-status"), text
    states = _states(w)
    assert states["root"] == "fail" and states["leaf"] == "pass" and states["signature"] == "pass"
    w.assert_clean()


def test_a_note_by_another_key_fails_at_the_signature(
    site: Site, fresh: Callable[[int], Watched]
) -> None:
    # The reader pinned another key of the same name: the log's note is not signed by it.
    other = Signer(_origin(site), os.urandom(32)).verifier().vkey()
    w = fresh(5)
    text = _verify(w, other)
    assert "NOT verified" in text and "signature" in w.page.inner_text("#verify-status"), text
    states = _states(w)
    assert states["signature"] == "fail" and states["leaf"] == "pass" and states["root"] == "pass"
    # The server serves a note signed by that other key (a forged checkpoint).
    forger = Signer(_origin(site), os.urandom(32))
    served = httpx.get(f"{site.base}/log/checkpoint").text
    forged = note.sign(served[: served.rindex("\n\n") + 1], [forger]).decode()
    w2 = fresh(5)
    w2.page.route("**/log/checkpoint", lambda route: route.fulfill(body=forged))
    text = _verify(w2, site.log_key)
    assert "NOT verified" in text and "signature" in w2.page.inner_text("#verify-status")
    assert _states(w2)["signature"] == "fail"
    # A key named otherwise than the origin is not this log's key, even if it signed.
    witness = Signer("witness.example", os.urandom(32))
    w3 = fresh(5)
    w3.page.route(
        "**/log/checkpoint",
        lambda route: route.fulfill(body=note.sign(served[: served.rindex("\n\n") + 1], [witness])),
    )
    text = _verify(w3, witness.verifier().vkey())
    assert "NOT verified" in text and "origin" in w3.page.inner_text("#verify-steps")
    for x in (w, w2, w3):
        x.assert_clean()


def test_a_changed_root_in_the_note_breaks_its_signature(
    site: Site, fresh: Callable[[int], Watched]
) -> None:
    served = httpx.get(f"{site.base}/log/checkpoint").text
    lines = served.split("\n")
    root = bytearray(base64.b64decode(lines[2]))
    root[0] ^= 0x01
    lines[2] = base64.b64encode(bytes(root)).decode()
    w = fresh(5)
    w.page.route("**/log/checkpoint", lambda route: route.fulfill(body="\n".join(lines)))
    text = _verify(w, site.log_key)
    assert "NOT verified" in text
    states = _states(w)
    assert states["signature"] == "fail" and states["root"] == "fail"
    w.assert_clean()


def test_a_witness_cosignature_is_checked_against_a_pinned_witness_key(
    site: Site, fresh: Callable[[int], Watched]
) -> None:
    witness = CosignatureSigner("witness.example/w1", os.urandom(32))
    served = httpx.get(f"{site.base}/log/checkpoint").text
    text_part = served[: served.rindex("\n\n") + 1]
    cosigned = served + witness.cosign(text_part, 1_700_000_000) + "\n"
    w = fresh(5)
    w.page.route("**/log/checkpoint", lambda route: route.fulfill(body=cosigned))
    text = _verify(w, site.log_key, witness.verifier().vkey())
    assert "Verified" in text and "NOT" not in text, text
    row = w.page.locator(f'#signatures tr[data-key="{witness.name}+{witness.key_id.hex()}"]')
    assert "a witness" in row.inner_text()
    assert "verifies with your pinned witness key" in row.locator("[data-pinned]").inner_text()
    w.assert_clean()


def test_without_webcrypto_ed25519_the_panel_says_so(site: Site, browser: Any) -> None:
    w = open_page(browser)
    w.page.add_init_script(
        """(() => {
          const subtle = crypto.subtle;
          const real = subtle.importKey.bind(subtle);
          subtle.importKey = (format, data, alg, ...rest) =>
            (alg && (alg === "Ed25519" || alg.name === "Ed25519"))
              ? Promise.reject(new DOMException("no Ed25519", "NotSupportedError"))
              : real(format, data, alg, ...rest);
        })();"""
    )
    w.page.goto(f"{site.base}/log?entry=5")
    text = _verify(w, site.log_key)
    assert "NOT verified" in text, text
    assert "Ed25519" in w.page.inner_text('#verify-steps [data-step="signature"]')
    assert _states(w)["signature"] == "fail"
    w.assert_clean()
    w.page.context.close()


# -- the search ------------------------------------------------------------------------------


def test_a_search_by_event_id_finds_the_entry(site: Site, view: Watched) -> None:
    entry = _api(site, "/api/v1/log/entries?start=7&end=8")["entries"][0]
    view.page.goto(f"{site.base}/log")
    view.page.get_by_label("Index or event id").fill(entry["event_id"])
    view.page.click("#search button")
    view.page.wait_for_url("**/log?entry=7")
    assert view.page.inner_text("#entry-event-id") == entry["event_id"]
    view.page.get_by_label("Index or event id").fill("3")
    view.page.click("#search button")
    view.page.wait_for_url("**/log?entry=3")
    view.page.get_by_label("Index or event id").fill("no-such-event")
    view.page.click("#search button")
    assert "No entry has the event id" in view.page.inner_text("#notice")
    view.assert_clean()


# -- verify.js against the shared vectors ----------------------------------------------------


def _run(view: Watched, body: str, arg: Any) -> list[str]:
    """Run `body` (after `v` = the module) in the page with `arg`; it returns failures."""
    failures: list[str] = view.page.evaluate(f"async (arg) => {{ {IMPORT} {body} }}", arg)
    return failures


@pytest.fixture
def module_page(site: Site, view: Watched) -> Watched:
    view.page.goto(f"{site.base}/log")
    return view


def test_rfc9162_inclusion_vectors(module_page: Watched) -> None:
    inclusion = load("inclusion.json")
    roots = load("roots.json")

    def ints(v: dict[str, Any]) -> dict[str, Any]:  # sizes beyond 2^53 go as text
        return {**v, "leaf_index": str(v["leaf_index"]), "tree_size": str(v["tree_size"])}

    arg = {
        "generation": [ints(v) for v in inclusion["generation"]["vectors"]],
        "probes": [ints(v) for v in inclusion["probes"]["vectors"]],
        "hasher": roots["hasher_vectors"],
        "tree": roots["reference_tree"],
    }
    failures = _run(
        module_page,
        """
        const out = [];
        const hex = v.fromHex;
        const eq = (a, b) => v.toHex(a) === b;
        for (const h of arg.hasher) {
          if (h.kind === "leaf") {
            if (!eq(await v.leafHash(hex(h.input_hex)), h.want_hex)) out.push(h.desc);
          } else if (h.kind === "node") {
            const node = await v.nodeHash(hex(h.left_hex), hex(h.right_hex));
            if (!eq(node, h.want_hex)) out.push(h.desc);
          }
        }
        for (const g of arg.generation) {
          const at = `generation ${g.leaf_index}/${g.tree_size}`;
          const leaf = await v.leafHash(hex(g.leaf_hex));
          if (!eq(leaf, g.leaf_hash_hex)) out.push(`${at}: leaf`);
          const path = g.proof_hex.map(hex);
          const root = await v.rootFromInclusionProof(leaf, g.leaf_index, g.tree_size, path);
          if (!eq(root, g.root_hex)) out.push(`${at}: root`);
          const n = v.inclusionProofLength(BigInt(g.leaf_index), BigInt(g.tree_size));
          if (n !== path.length) out.push(`${at}: length`);
        }
        for (const p of arg.probes) {
          let failed = false;
          try {
            await v.verifyInclusion(
              hex(p.leaf_hash_hex), p.leaf_index, p.tree_size, p.proof_hex.map(hex),
              hex(p.root_hex),
            );
          } catch (e) {
            if (!(e instanceof v.VerificationError)) out.push(`${p.file}: ${e}`);
            failed = true;
          }
          if (failed !== p.want_error) out.push(`${p.file}: failed=${failed}`);
        }
        // Every leaf of the reference tree at every size, with the RFC's PATH.
        const leaves = await Promise.all(arg.tree.leaves_hex.map((l) => v.leafHash(hex(l))));
        const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
        const mth = async (lo, hi) => {
          if (hi - lo === 1) return leaves[lo];
          const k = split(hi - lo);
          return v.nodeHash(await mth(lo, lo + k), await mth(lo + k, hi));
        };
        const pathOf = async (m, lo, hi) => {
          if (hi - lo === 1) return [];
          const k = split(hi - lo);
          return m < lo + k
            ? [...(await pathOf(m, lo, lo + k)), await mth(lo + k, hi)]
            : [...(await pathOf(m, lo + k, hi)), await mth(lo, lo + k)];
        };
        for (const r of arg.tree.roots) {
          for (let m = 0; m < r.tree_size; m++) {
            const path = await pathOf(m, 0, r.tree_size);
            const got = await v.rootFromInclusionProof(leaves[m], m, r.tree_size, path);
            if (!eq(got, r.root_hex)) out.push(`reference ${m}/${r.tree_size}`);
          }
        }
        return out;
        """,
        arg,
    )
    assert failures == []


def test_signed_note_vectors(module_page: Watched) -> None:
    notes = load("notes.json")
    arg = {
        "keys": [k["vkey"] for k in notes["keys"]["vectors"]],
        "bad": [k["vkey"] for k in notes["bad_vkeys"]["vectors"]],
        "open": notes["open"]["vectors"],
        "split": notes["parse_only"]["vectors"],
    }
    failures = _run(
        module_page,
        """
        const out = [];
        for (const k of arg.keys) {
          try {
            if ((await v.parseVerifierKey(k)).vkey !== k) out.push(`round trip ${k}`);
          } catch (e) {
            out.push(`good key refused ${k}: ${e}`);
          }
        }
        for (const k of arg.bad) {
          try {
            await v.parseVerifierKey(k);
            out.push(`bad key accepted ${k}`);
          } catch (e) {
            if (!(e instanceof v.MalformedError)) out.push(`bad key ${k}: ${e}`);
          }
        }
        const b64 = (s) => v.toBase64(Uint8Array.from([...s.keyId, ...s.signature]));
        const triples = (sigs) => JSON.stringify(sigs.map((s) => [s.name, s.keyIdHex, b64(s)]));
        const want = (sigs) => JSON.stringify(sigs.map((s) => [s.name, s.key_id_hex, s.base64]));
        for (const o of arg.open) {
          const msg = o.msg !== undefined ? o.msg : v.fromHex(o.msg_hex);
          const keys = await Promise.all(o.verifiers.map((k) => v.parseVerifierKey(k)));
          let got;
          let kind = null;
          try {
            got = await v.openNote(msg, keys);
          } catch (e) {
            kind = e.kind;
            got = e;
          }
          if (kind !== o.want_error) {
            out.push(`open ${o.desc}: ${kind} (${got && got.message})`);
            continue;
          }
          if (o.want_unverified && triples(got.unverified) !== want(o.want_unverified)) {
            out.push(`open ${o.desc}: unverified`);
          }
          if (kind !== null) continue;
          if (o.want_text !== undefined && got.text !== o.want_text) {
            out.push(`open ${o.desc}: text`);
          }
          if (o.want_sigs && triples(got.sigs) !== want(o.want_sigs)) {
            out.push(`open ${o.desc}: sigs`);
          }
          if (!o.want_sigs && got.sigs.length !== keys.length) out.push(`open ${o.desc}: count`);
        }
        for (const s of arg.split) {
          const got = v.parseSignedNote(s.msg);
          const lines = JSON.stringify(got.signatures.map((x) => x.line));
          if (got.text !== s.want_text || lines !== JSON.stringify(s.want_sig_lines)) {
            out.push(`split ${s.note}`);
          }
        }
        return out;
        """,
        arg,
    )
    assert failures == []


def _sigsum_vkey(seed_hex: str) -> str:
    seed = bytes.fromhex(seed_hex)
    pub = Signer("x", seed).public_key
    return Signer("sigsum.org/v1/tree/" + hashlib.sha256(pub).hexdigest(), seed).verifier().vkey()


def test_checkpoint_vectors(module_page: Watched) -> None:
    checkpoints = load("checkpoints.json")
    signed = []
    for v in checkpoints["signed"]["vectors"]:
        if v.get("parse_only"):
            continue
        key = v["log_vkey"] if "log_vkey" in v else _sigsum_vkey(v["log_seed_hex"])
        # As cwledger.tlog: golang.org/x/mod's verdict where sigsum-go's differs (see
        # tests/tlog/test_checkpoint.py).
        valid = v.get("want_valid_golang_x_mod", v["want_valid"])
        signed.append({**v, "key": key, "extra": v.get("extra_vkeys", []), "valid": valid})
    arg = {"parse": checkpoints["parse"]["vectors"], "signed": signed}
    failures = _run(
        module_page,
        """
        const out = [];
        for (const p of arg.parse) {
          const reject = p.want_error || p.c2sp_sha256_strict !== undefined;
          let cp = null;
          try {
            cp = v.parseCheckpoint(p.body, p.expected_origin);
          } catch (e) {
            const known = e instanceof v.MalformedError || e instanceof v.VerificationError;
            if (!known) out.push(`parse ${p.desc}: ${e}`);
          }
          if ((cp === null) !== reject) {
            out.push(`parse ${p.desc}: ${cp === null ? "refused" : "accepted"}`);
            continue;
          }
          if (cp === null) continue;
          const rest = cp.extensions.map((l) => l + "\\n").join("");
          if (cp.origin !== p.want_origin || cp.size !== BigInt(p.want_size)
              || v.toHex(cp.root) !== p.want_root_hex || rest !== p.want_rest) {
            out.push(`parse ${p.desc}: fields`);
          }
        }
        for (const s of arg.signed) {
          let ok = false;
          try {
            const log = await v.parseVerifierKey(s.key);
            const extra = await Promise.all(s.extra.map((k) => v.parseVerifierKey(k)));
            const cp = v.parseNote(s.msg);
            const opened = await v.openNote(s.msg, [log, ...extra]);
            ok = opened.sigs.some((x) => x.name === log.name);
            ok = ok && opened.sigs.length === 1 + extra.length;
            if (s.want_size !== undefined && cp.size !== BigInt(s.want_size)) ok = false;
            if (s.want_origin !== undefined && cp.origin !== s.want_origin) ok = false;
          } catch (e) {
            if (e.kind === undefined) out.push(`signed ${s.desc}: ${e}`);
            ok = false;
          }
          if (ok !== s.valid) out.push(`signed ${s.desc}: ${ok}`);
        }
        return out;
        """,
        arg,
    )
    assert failures == []


def test_cosignature_vectors(module_page: Watched) -> None:
    cosignatures = load("cosignatures.json")
    verify = cosignatures["verify"]
    seed = bytes.fromhex(verify["witness_seed_hex"])
    vkey = CosignatureSigner(verify["witness_name"], seed).verifier().vkey()
    arg = {"vkey": vkey, **verify, "timestamps": cosignatures["timestamp_parse"]["vectors"]}
    failures = _run(
        module_page,
        """
        const out = [];
        const key = await v.parseVerifierKey(arg.vkey);
        if (key.type !== v.COSIGNATURE_V1) out.push("witness key type");
        const check = async (sig) => v.verifyNoteSignature(arg.body, sig, key);
        for (const l of arg.lines) {
          let got;
          try {
            const sig = v.parseSignatureLine(l.line);
            const ts = v.cosignatureTimestamp(sig.signature);
            if (sig.name !== key.name || sig.keyIdHex !== key.keyIdHex) got = "ignored";
            else if (ts === null) got = "malformed";
            else if (await check(sig)) {
              got = "valid";
              if (ts !== BigInt(l.want_timestamp)) out.push("timestamp");
              const later = sig.signature.slice();
              later[7] += 1; // the timestamp + 1: the signature no longer holds
              if (await check({ ...sig, signature: later })) out.push("timestamp + 1 verified");
            } else got = "invalid";
          } catch (e) {
            got = e instanceof v.MalformedError ? "malformed" : `${e}`;
          }
          if (got !== l.want) out.push(`${l.line.slice(0, 40)}: ${got}, want ${l.want}`);
        }
        for (const t of arg.timestamps) {
          const ts = v.cosignatureTimestamp(v.fromBase64(t.sig_base64).slice(4));
          const want = t.want_error ? null : BigInt(t.want_timestamp);
          if (ts !== want) out.push(`timestamp ${t.desc}`);
        }
        return out;
        """,
        arg,
    )
    assert failures == []
