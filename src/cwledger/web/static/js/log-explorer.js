// The log explorer's checks, in the browser: the pinned keys (localStorage: the log's key,
// witness keys and their quorum), the signature lines of the latest checkpoint against
// them, the witnesses' quorum, and the "Verified in your browser" panel of the chosen
// entry. Fetches only this origin's published bytes; verifies with verify.js.
import {
  checkBundle, countCosignatures, quorumShortfall, utcTime, witnessPolicy,
  COSIGNATURE_V1, CryptoUnavailable, bytesEqual, cosignatureTimestamp, ed25519Available, fromBase64, fromHex, leafHash, parseNote,
  parseVerifierKey, rootFromInclusionProof, toBase64, toHex, verifyNoteSignature,
} from "./verify.js";

const STORE = "cwledger.pinned-keys";
const STEPS = {
  note: "the checkpoint note",
  signature: "the signature by the pinned log key",
  witnesses: "the witnesses' cosignatures",
  leaf: "the leaf hash",
  root: "the root from the inclusion proof",
  event: "the event shown",
};

const $ = (id) => document.getElementById(id);

function loadPins() {
  try {
    const pins = JSON.parse(localStorage.getItem(STORE) || "null");
    if (pins && typeof pins.log === "string" && Array.isArray(pins.witnesses)) {
      return { log: pins.log, witnesses: pins.witnesses, quorum: Number.isSafeInteger(pins.quorum) ? pins.quorum : null };
    }
  } catch {
    // unreadable: as if nothing were pinned
  }
  return { log: "", witnesses: [], quorum: null };
}

/** The pins as the form holds them: {log, witnesses, quorum (null when blank)}; the
 *  quorum as typed (NaN for what is not a whole number: the check then refuses it). */
function formPins() {
  const q = $("pinned-quorum").value.trim();
  return {
    log: $("pinned-key").value.trim(),
    witnesses: $("pinned-witnesses").value.split("\n").map((x) => x.trim()).filter(Boolean),
    quorum: q === "" ? null : /^[0-9]{1,3}$/.test(q) ? Number(q) : NaN,
  };
}

function savePins(pins) {
  localStorage.setItem(STORE, JSON.stringify(pins));
}

async function fetchBytes(url) {
  const resp = await fetch(url, { cache: "no-store", credentials: "same-origin", redirect: "error" });
  if (!resp.ok) throw new Error(`${url} answered ${resp.status}`);
  return new Uint8Array(await resp.arrayBuffer());
}

async function fetchJson(url) {
  const resp = await fetch(url, { cache: "no-store", credentials: "same-origin", redirect: "error" });
  if (!resp.ok) throw new Error(`${url} answered ${resp.status}`);
  return resp.json();
}

// -- the panel -------------------------------------------------------------------------------

function setStep(step, state, why, list = []) {
  const li = document.querySelector(`#verify-steps [data-step="${step}"]`);
  if (!li) return;
  li.querySelector("ul")?.remove();
  if (list.length) li.append(listOf(list));
  li.dataset.state = state;
  li.querySelector(".lx-mark").textContent = { pass: "\u2714", fail: "\u2718", pending: "\u00b7", running: "\u2026", skip: "\u2013" }[state];
  const label = { pass: "passed", fail: "failed", pending: "not checked", running: "checking", skip: "nothing to check" }[state];
  li.querySelector(".lx-why").textContent = why ? `(${label}) ${why}` : `(${label})`;
}

function setPanel(colour, text) {
  const panel = $("verify-result");
  if (!panel) return;
  panel.classList.remove("green", "red");
  if (colour) panel.classList.add(colour);
  panel.dataset.verdict = colour || "";
  $("verify-status").textContent = text;
}

function resetSteps() {
  for (const step of Object.keys(STEPS)) setStep(step, "pending", "");
}

// -- the checkpoint's signature lines ----------------------------------------------------------

function kindOf(sig, origin) {
  const ts = cosignatureTimestamp(sig.signature);
  if (ts !== null) return ["a witness", `cosignature/v1, timestamp ${ts}`, utcTime(ts) || ""];
  if (sig.name === origin && sig.signature.length === 64) {
    return ["the log (key named after the origin)", "Ed25519 note signature by the key named after the log's origin", ""];
  }
  return ["another key", `${sig.signature.length}-byte signature by another key`, ""];
}

function el(tag, className, text, data) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  if (data) e.dataset[data] = "";
  return e;
}

/** A row of the signature table (as the template writes them): the key (name, key id), by
 *  whom (and when, for a cosignature), and the cell the pinned keys' verdict goes in. */
function addRow(tbody, name, keyIdHex, by, detail, time) {
  const row = document.createElement("tr");
  row.dataset.key = `${name}+${keyIdHex}`;
  const key = el("td");
  const id = el("div", "mono lx-muted lx-small", "key id ");
  id.append(el("span", "", keyIdHex, "keyId"));
  key.append(el("span", "mono", name, "name"), id);
  const who = el("td", "", by);
  if (time) {
    who.append(", cosigned at ", el("span", "lx-nowrap", time, "time"));
  }
  who.append(el("div", "lx-muted lx-small", detail));
  row.append(key, who, el("td", "lx-pinned", "", "pinned"));
  tbody.append(row);
  return row;
}

async function markSignatureLines(note, keys) {
  const tbody = document.querySelector("#signatures tbody");
  if (!tbody) return;
  for (const row of tbody.querySelectorAll("tr[data-absent]")) row.remove();
  if (note) {
    const shown = new Set(Array.from(tbody.querySelectorAll("tr[data-key]"), (r) => r.dataset.key));
    for (const sig of note.signatures) {
      if (!shown.has(`${sig.name}+${sig.keyIdHex}`)) {
        const [by, detail, time] = kindOf(sig, note.origin);
        addRow(tbody, sig.name, sig.keyIdHex, by, `${detail}; in the note now served, not in the one this page was made with`, time);
        shown.add(`${sig.name}+${sig.keyIdHex}`);
      }
    }
    // A pinned witness with no line in the note: a row of its own, so the table names it.
    for (const k of keys) {
      if (k.type === COSIGNATURE_V1 && !shown.has(`${k.name}+${k.keyIdHex}`)) {
        const row = addRow(tbody, k.name, k.keyIdHex, "a witness you pinned", "no cosignature line by this key in the note", "");
        row.dataset.absent = "";
        shown.add(`${k.name}+${k.keyIdHex}`);
      }
    }
    tbody.querySelector("td.empty")?.closest("tr")?.toggleAttribute("hidden", shown.size > 0);
  }
  for (const row of tbody.querySelectorAll("tr[data-key]")) {
    const cell = row.querySelector("[data-pinned]");
    const cut = row.dataset.key.lastIndexOf("+");
    const [name, idHex] = [row.dataset.key.slice(0, cut), row.dataset.key.slice(cut + 1)];
    const key = keys.find((k) => k.name === name && k.keyIdHex === idHex);
    const sigs = note ? note.signatures.filter((s) => s.name === name && s.keyIdHex === idHex) : [];
    cell.classList.remove("lx-ok", "lx-bad");
    if (!key) {
      cell.textContent = keys.length ? "no pinned key of this name and id" : (cell.dataset.unchecked || "not checked (no key pinned)");
    } else if (sigs.length === 0) {
      const witness = key.type === COSIGNATURE_V1;
      cell.textContent = witness
        ? "\u2718 missing: no cosignature by this pinned witness in the checkpoint now served"
        : "not in the checkpoint now served (reload the page)";
      if (witness) cell.classList.add("lx-bad");
    } else {
      let ok = false;
      try {
        for (const sig of sigs) ok = ok || (await verifyNoteSignature(note.text, sig, key));
      } catch (e) {
        cell.textContent = `cannot check: ${e.message}`;
        cell.classList.add("lx-bad");
        continue;
      }
      const who = key.type === COSIGNATURE_V1 ? "pinned witness key" : "pinned log key";
      cell.textContent = ok ? `\u2714 verifies with your ${who}` : `\u2718 does NOT verify with your ${who}`;
      cell.classList.add(ok ? "lx-ok" : "lx-bad");
    }
  }
}

// -- the witnesses ---------------------------------------------------------------------------

const UNPINNED = "witness keys NOT pinned: counted against the ledger's own witness policy as this server "
  + "serves it, which proves only that the server agrees with itself";

/** The ledger's witness policy as this page shows it (for comparison), or null. */
function ledgerPolicy() {
  const box = $("ledger-policy");
  if (!box) return null;
  const vkeys = Array.from(box.querySelectorAll("[data-vkey]"), (li) => li.dataset.vkey);
  return { vkeys, quorum: Number(box.dataset.quorum) };
}

/** The witnesses' step: a quorum of valid cosignatures on the note by the pinned witness
 *  keys; with none pinned, by the ledger's own policy (said plainly). {state, why, short}. */
async function checkWitnesses(pins, note) {
  const pinned = pins.witnesses.length > 0;
  const offered = pinned ? null : ledgerPolicy();
  if (!pinned && !offered) {
    if (pins.quorum) return { state: "fail", why: `a quorum of ${pins.quorum} is pinned, but no witness key`, short: "" };
    const why = "no witness key pinned, and the ledger names no witnesses: the checkpoint rests on the log's signature alone";
    return { state: "skip", why, short: "" };
  }
  let policy;
  try {
    if (Number.isNaN(pins.quorum)) throw new Error("the quorum is not a whole number");
    policy = await witnessPolicy(pinned ? pins.witnesses : offered.vkeys, pins.quorum ?? (pinned ? null : offered.quorum));
  } catch (e) {
    return { state: "fail", why: `${pinned ? "the pinned witness policy" : "the ledger's witness policy"}: ${e.message}`, short: "" };
  }
  if (!note) return { state: "fail", why: "no note to check", short: "" };
  let count;
  try {
    count = await countCosignatures(note.text, note.signatures, policy);
  } catch (e) {
    if (!(e instanceof CryptoUnavailable)) throw e;
    return { state: "fail", why: e.message, short: "" };
  }
  const whose = pinned ? "pinned witnesses" : "witnesses of the ledger's policy";
  const n = policy.witnesses.length;
  const list = count.cosigned.map((c) => `${c.witness} at ${c.time || `timestamp ${c.timestamp}`}`);
  const caveats = [];
  if (!pinned) caveats.push(UNPINNED);
  if (!policy.majority) {
    caveats.push(`a quorum of ${policy.quorum} of ${n} is not a majority: two disjoint sets of honest witnesses could each cosign one side of a split view`);
  }
  if (count.invalid.length && count.met) {
    caveats.push(`the cosignature by ${count.invalid.join(", ")} does not verify`);
  }
  const tail = caveats.length ? ` (${caveats.join("; ")})` : "";
  if (count.met) {
    const short = `cosigned by ${count.cosigned.length} of ${n} ${whose} (quorum ${policy.quorum})`;
    return { state: "pass", why: `${short}${tail}${list.length ? ":" : ""}`, short, list, pinned };
  }
  const why = `${n} ${whose}: ${quorumShortfall(count)}${tail}${list.length ? ". Cosigned:" : ""}`;
  return { state: "fail", why, short: `NOT cosigned by a quorum of the ${whose}`, list, pinned };
}

/** A list of who cosigned and when, each on its own line. */
function listOf(items) {
  const ul = el("ul", "lx-cosigners");
  for (const text of items) ul.append(el("li", "", text));
  return ul;
}

function showWitnesses(result) {
  const p = $("witness-status");
  p.hidden = false;
  p.dataset.state = result.state;
  p.classList.remove("lx-ok", "lx-bad");
  // Green only for pinned witnesses: a count against the server's own list reassures nobody.
  if (result.state === "fail") p.classList.add("lx-bad");
  else if (result.state === "pass" && result.pinned) p.classList.add("lx-ok");
  const mark = { pass: "\u2714 ", fail: "\u2718 NOT verified: ", skip: "" }[result.state];
  p.replaceChildren(el("span", "", `Witnesses: ${mark}${result.why}${result.list?.length ? "" : "."}`));
  if (result.list?.length) p.append(listOf(result.list));
}

// -- the checks ------------------------------------------------------------------------------

let runs = 0;

async function run(pins) {
  const ticket = ++runs;
  const stale = () => ticket !== runs;
  const panel = $("verify-result");
  const index = panel ? BigInt(panel.dataset.index) : null;
  const failed = [];
  const fail = (step, why) => { failed.push(step); setStep(step, "fail", why); };
  resetSteps();
  setPanel(null, "Checking\u2026");

  // The pinned keys: the log's (required) and the witnesses' (optional).
  let logKey;
  const keys = [];
  try {
    logKey = await parseVerifierKey(pins.log);
    if (logKey.type === COSIGNATURE_V1) throw new Error("a log key is of type 0x01 (this one is a witness key)");
    keys.push(logKey);
  } catch (e) {
    $("pin-status").textContent = `The pinned log key is not a valid verifier key: ${e.message}.`;
    setPanel("red", `NOT verified: the pinned log key is not a valid verifier key (${e.message}).`);
    fail("signature", e.message);
    return;
  }
  for (const w of pins.witnesses) {
    try { keys.push(await parseVerifierKey(w)); } catch {
      // the witnesses' step names it
    }
  }

  // (a) the note: origin, size, root, signature lines.
  let note;
  try {
    setStep("note", "running", "");
    note = parseNote(await fetchBytes("/log/checkpoint"));
    if (stale()) return;
    setStep("note", "pass", `origin ${note.origin}, size ${note.size}, root ${toBase64(note.root)}`);
  } catch (e) {
    if (stale()) return;
    fail("note", e.message);
  }
  await markSignatureLines(note, keys);
  if (stale()) return;

  // (b) the log's signature, by the pinned key, on the note's text.
  const pinnedName = `${logKey.name}+${logKey.keyIdHex}`;
  if (!(await ed25519Available())) {
    fail("signature", "this browser's WebCrypto cannot verify Ed25519 signatures, so nothing is verified here; use `cwledger verify`");
  } else if (note) {
    const lines = note.signatures.filter((s) => s.name === logKey.name && s.keyIdHex === logKey.keyIdHex);
    if (logKey.name !== note.origin) {
      fail("signature", `the pinned key is named ${logKey.name}, but this checkpoint's origin is ${note.origin}: it is not this log's key`);
    } else if (lines.length === 0) {
      const by = note.signatures.map((s) => `${s.name}+${s.keyIdHex}`).join(", ") || "nobody";
      fail("signature", `no signature line is by the pinned key ${pinnedName} (the note is signed by ${by})`);
    } else {
      let ok = false;
      try {
        for (const s of lines) ok = ok || (await verifyNoteSignature(note.text, s, logKey));
      } catch (e) {
        if (!(e instanceof CryptoUnavailable)) throw e;
        ok = null;
        fail("signature", e.message);
      }
      if (ok) setStep("signature", "pass", `Ed25519 signature by ${pinnedName} over the note's text`);
      else if (ok === false) fail("signature", `the signature line by ${pinnedName} does not verify over this note's text`);
    }
  } else {
    fail("signature", "no note to check");
  }
  if (stale()) return;

  // (b2) the witnesses: a quorum of valid cosignatures by the pinned witness keys.
  setStep("witnesses", "running", "");
  const witnessed = await checkWitnesses(pins, note);
  if (stale()) return;
  if (witnessed.state === "fail") { failed.push("witnesses"); setStep("witnesses", "fail", witnessed.why, witnessed.list); }
  else setStep("witnesses", witnessed.state, witnessed.why, witnessed.list);
  showWitnesses(witnessed);

  const good = !failed.includes("note") && !failed.includes("signature");
  $("pin-status").textContent = good
    ? `Pinned ${pinnedName}: the latest checkpoint (size ${note.size}) is signed by it.`
    : `Pinned ${pinnedName}: the latest checkpoint is NOT verified with it.`;
  if (!panel) return;

  // (c), (d): the entry's bytes and its inclusion proof, against the signed checkpoint.
  let entry = null;
  let proof = null;
  if (note) {
    const n = index.toString();
    const [entries, incl] = await Promise.allSettled([
      fetchJson(`/api/v1/log/entries?start=${n}&end=${(index + 1n).toString()}`),
      fetchJson(`/api/v1/log/proofs/inclusion?index=${n}&size=${note.size.toString()}`),
    ]);
    if (stale()) return;
    if (entries.status === "fulfilled") entry = entries.value;
    else fail("leaf", entries.reason.message);
    if (incl.status === "fulfilled") proof = incl.value;
    else fail("root", incl.reason.message);
  } else {
    fail("leaf", "no checkpoint to check against");
    fail("root", "no checkpoint to check against");
  }

  let bytes = null;
  let proofLeaf = null;
  if (entry) {
    try {
      const e = (entry.entries || [])[0];
      if (!e || BigInt(e.index) !== index) throw new Error(`the server sent no entry ${index}`);
      bytes = fromBase64(e.envelope, "the entry's bytes");
      const computed = await leafHash(bytes);
      if (!proof) throw new Error("no proof to compare with");
      proofLeaf = fromHex(proof.leaf_hash, "the proof's leaf hash");
      if (!bytesEqual(computed, proofLeaf)) {
        throw new Error(`SHA-256(0x00 || entry) is ${toHex(computed)}, the proof is for ${toHex(proofLeaf)}`);
      }
      setStep("leaf", "pass", `SHA-256(0x00 || the ${bytes.length} entry bytes) = ${toHex(computed)}, the proof's leaf`);
    } catch (e) {
      if (!failed.includes("leaf")) fail("leaf", e.message);
    }
  }
  if (proof && note) {
    try {
      if (BigInt(proof.index) !== index) throw new Error(`the proof is for entry ${proof.index}, not ${index}`);
      if (BigInt(proof.tree_size) !== note.size) {
        throw new Error(`the proof is for a tree of ${proof.tree_size}, the signed checkpoint has ${note.size}`);
      }
      const path = (proof.proof || []).map((h, k) => fromHex(h, `proof hash ${k}`));
      const root = await rootFromInclusionProof(
        fromHex(proof.leaf_hash, "the proof's leaf hash"), index, note.size, path,
      );
      if (!bytesEqual(root, note.root)) {
        throw new Error(`the proof gives root ${toBase64(root)}, the signed root is ${toBase64(note.root)}`);
      }
      setStep("root", "pass", `${path.length} hashes from the leaf give the signed root of size ${note.size} (RFC 9162)`);
    } catch (e) {
      if (!failed.includes("root")) fail("root", e.message);
    }
  }

  // The event this page shows is the payload of the bytes just verified.
  try {
    if (!bytes) throw new Error("no verified entry bytes");
    const envelope = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    const payload = new TextDecoder("utf-8", { fatal: true }).decode(fromBase64(envelope.payload, "payload"));
    const shown = JSON.stringify(JSON.parse($("event-json").textContent));
    if (JSON.stringify(JSON.parse(payload)) !== shown) throw new Error("the page shows another event than the entry's payload");
    setStep("event", "pass", "the JSON above is the verified entry's payload");
  } catch (e) {
    fail("event", e.message);
  }
  if (stale()) return;

  if (failed.length === 0) {
    const cosigned = witnessed.state === "pass" ? `, ${witnessed.short}` : "";
    setPanel("green", `Verified: entry ${index} is in the log of size ${note.size} whose checkpoint your pinned key ${pinnedName} signed${cosigned}.`);
  } else {
    const which = failed.map((s) => `${s} (${STEPS[s]})`).join(", ");
    setPanel("red", `NOT verified: failed at ${which}.`);
  }
}

// -- the page --------------------------------------------------------------------------------

function showPins(pins) {
  $("pinned-key").value = pins.log;
  $("pinned-witnesses").value = pins.witnesses.join("\n");
  $("pinned-quorum").value = pins.quorum === null ? "" : String(pins.quorum);
}

function unpinned() {
  resetSteps();
  const claimed = $("claimed-key");
  // The page's own words, in the reader's language, where the template gives them.
  const said = $("verify-status")?.dataset.unpinned;
  setPanel(null, said || ("No log key is pinned in this browser: pin the log's key below to check this entry."
    + (claimed ? ` For comparison only (it is never used to verify), the genesis entry as this server serves it names ${claimed.textContent}.` : "")));
  $("pin-status").textContent = $("pin-status").dataset.unpinned || "No key pinned in this browser.";
  $("witness-status").hidden = true;
  markSignatureLines(null, []);
}

async function main() {
  bundleInput();
  const pins = loadPins();
  showPins(pins);
  $("pin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const next = formPins();
    if (!next.log) { localStorage.removeItem(STORE); unpinned(); return; }
    savePins({ ...next, quorum: Number.isNaN(next.quorum) ? null : next.quorum });
    run(next).catch(report);
  });
  $("forget-button").addEventListener("click", () => {
    localStorage.removeItem(STORE);
    showPins({ log: "", witnesses: [], quorum: null });
    runs++;
    unpinned();
  });
  if (pins.log) await run(pins);
  else unpinned();
}

// -- offline bundles: checked in the browser with the keys in the pin form ----------------------

async function checkBundleFile(file) {
  const status = $("bundle-status");
  const table = $("bundle-entries");
  const list = $("bundle-warnings");
  const tbody = table.querySelector("tbody");
  tbody.replaceChildren();
  list.replaceChildren();
  table.hidden = true;
  status.dataset.state = "running";
  status.textContent = `Checking ${file.name}\u2026`;
  const form = formPins();
  const pins = { log: form.log || null, witnesses: form.witnesses, quorum: form.quorum };
  try {
    if (Number.isNaN(pins.quorum)) throw new Error("the pinned quorum is not a whole number");
    const r = await checkBundle(new Uint8Array(await file.arrayBuffer()), pins);
    for (const w of r.warnings) {
      const li = document.createElement("li");
      li.textContent = `Warning: ${w}`;
      list.append(li);
    }
    for (const e of r.entries) {
      const tr = document.createElement("tr");
      for (const text of [String(e.index), e.governance ? `${e.type} (governance)` : e.type, e.author, e.time, e.id]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.hidden = false;
    status.dataset.state = "pass";
    const whose = r.witnesses === 0 ? "witnesses" : r.witnessesPinned ? "pinned witnesses" : "witnesses the bundle names (not pinned)";
    const who = r.cosignatures.map((c) => `${c.witness} at ${c.time || `timestamp ${c.timestamp}`}`);
    status.replaceChildren(el("span", "", `Verified: ${r.entries.length} entries are in the log ${r.origin} of size ${r.size} (root ${r.root.slice(0, 16)}\u2026), `
      + `signed by the ${form.log ? "pinned " : ""}log key and cosigned by ${r.cosignedBy.length} of ${r.witnesses} ${whose} (quorum ${r.quorum}); `
      + `each entry signed by its author.${who.length ? " Cosigned:" : ""}`));
    if (who.length) status.append(listOf(who));
  } catch (e) {
    status.dataset.state = "fail";
    status.textContent = `NOT verified: ${e && e.message ? e.message : e}`;
  }
}

function bundleInput() {
  const input = $("bundle-file");
  const drop = $("bundle-drop");
  if (!input || !drop) return;
  input.addEventListener("change", () => {
    if (!input.files.length) return;
    const file = input.files[0];
    input.value = ""; // the same file chosen again is checked again
    checkBundleFile(file);
  });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); });
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) checkBundleFile(file);
  });
}

function report(e) {
  setPanel("red", `NOT verified: the check stopped (${e && e.message ? e.message : e}).`);
}

main().catch(report);
