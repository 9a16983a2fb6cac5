// cwledger: checking the published log in the browser. Pure functions, no library, no
// network, no DOM: SHA-256 and Ed25519 come from WebCrypto (crypto.subtle).
//
//   c2sp.org/signed-note      parseSignedNote, parseVerifierKey, verifyNoteSignature, openNote
//   c2sp.org/tlog-checkpoint  parseCheckpoint, parseNote (a signed note holding a checkpoint)
//   c2sp.org/tlog-cosignature verifyNoteSignature with a witness key (type 0x04)
//   RFC 9162 2.1.3.2          leafHash, nodeHash, rootFromInclusionProof, verifyInclusion
//
// As strict as cwledger.tlog (note.py, checkpoint.py, verify.py), which follow
// golang.org/x/mod and transparency-dev/merkle: canonical base64 only, key names without
// '+', spaces or control characters, at most 100 signature lines, split at the LAST blank
// line, a proof of exactly the expected length with 32-byte hashes. Sizes and indices are
// BigInt (a tree may hold up to 2^64 - 1 leaves).

export const ED25519 = 0x01;
export const COSIGNATURE_V1 = 0x04;
export const MAX_SIGNATURES = 100;
export const HASH_SIZE = 32;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_TIMESTAMP = (1n << 63n) - 1n;
const SIG_PREFIX = "\u2014 "; // em dash, space

/** Input that breaks a format (note, checkpoint, key, base64, hex). */
export class MalformedError extends Error {
  constructor(message) { super(message); this.name = "MalformedError"; this.kind = "malformed"; }
}

/** A well-formed input that does not verify (a root, a leaf, an origin that differs). */
export class VerificationError extends Error {
  constructor(message) { super(message); this.name = "VerificationError"; this.kind = "verification"; }
}

/** openNote: a known key's signature fails ("invalid_signature"), or no known key signed
 *  ("unverified", with the note's `text` and `unverified` signatures). */
export class NoteError extends Error {
  constructor(kind, message, detail = {}) {
    super(message);
    this.name = "NoteError";
    this.kind = kind;
    Object.assign(this, detail);
  }
}

/** The browser cannot check an Ed25519 signature (no WebCrypto, or no Ed25519 in it). */
export class CryptoUnavailable extends Error {
  constructor(message) { super(message); this.name = "CryptoUnavailable"; this.kind = "unavailable"; }
}

// -- bytes ------------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** Whether two byte arrays are equal. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string (either case, even length). Throws MalformedError. */
export function fromHex(hex, what = "hex") {
  if (typeof hex !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) {
    throw new MalformedError(`${what}: expected an even number of hex digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard padded base64 of bytes. */
export function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes of canonical standard base64 (padded, zero padding bits). Throws MalformedError. */
export function fromBase64(s, what = "base64") {
  if (typeof s !== "string" || !B64.test(s)) {
    throw new MalformedError(`${what}: expected padded standard base64`);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toBase64(out) !== s) throw new MalformedError(`${what}: expected canonical base64`);
  return out;
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    throw new CryptoUnavailable(
      "this browser offers no WebCrypto here (crypto.subtle needs HTTPS or localhost)",
    );
  }
  return s;
}

/** SHA-256 of bytes (WebCrypto). */
export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

// -- RFC 9162 hashing and inclusion proofs -----------------------------------------------------

/** RFC 9162 leaf hash: SHA-256(0x00 || entry). */
export async function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0), entry));
}

/** RFC 9162 node hash: SHA-256(0x01 || left || right). */
export async function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function toBigInt(value, what) {
  let v;
  try {
    v = typeof value === "bigint" ? value : BigInt(value);
  } catch {
    throw new VerificationError(`${what}: expected an integer, got ${String(value).slice(0, 30)}`);
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new VerificationError(`${what}: ${value} is not an exact integer (pass a BigInt)`);
  }
  if (v < 0n || v > MAX_U64) throw new VerificationError(`${what}: ${v} is outside 0..2^64-1`);
  return v;
}

function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

function bitCount(n) {
  let c = 0;
  for (const d of n.toString(2)) if (d === "1") c++;
  return c;
}

/** Number of hashes in PATH(index, D[0:size]): one per level where index and size - 1 still
 *  differ, plus one per set bit of index above them. Throws VerificationError unless
 *  0 <= index < size. */
export function inclusionProofLength(index, size) {
  const i = toBigInt(index, "leaf index");
  const n = toBigInt(size, "tree size");
  if (!(i < n)) {
    throw new VerificationError(`leaf index ${i} is out of range for a tree of size ${n}`);
  }
  const inner = bitLength(i ^ (n - 1n));
  return inner + bitCount(i >> BigInt(inner));
}

function checkHash(h, what) {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    const got = h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
    throw new VerificationError(`${what} is ${got}, want ${HASH_SIZE} bytes`);
  }
}

/** The root that `proof` implies for `leaf` (its leaf hash) at `index` in a tree of `size`:
 *  RFC 9162 section 2.1.3.2 (fn = index, sn = size - 1). `index` and `size` are BigInt,
 *  safe integers or decimal strings. Throws VerificationError for an index out of range, a
 *  hash that is not 32 bytes, or a proof of the wrong length. */
export async function rootFromInclusionProof(leaf, index, size, proof) {
  const want = inclusionProofLength(index, size);
  checkHash(leaf, "leaf hash");
  if (!Array.isArray(proof) || proof.length !== want) {
    const got = Array.isArray(proof) ? proof.length : "no list of";
    throw new VerificationError(
      `inclusion proof has ${got} hashes, want ${want} for index ${index} in a tree of size ${size}`,
    );
  }
  proof.forEach((p, k) => checkHash(p, `inclusion proof hash ${k}`));
  let fn = toBigInt(index, "leaf index");
  let sn = toBigInt(size, "tree size") - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new VerificationError("inclusion proof is longer than the path to the root");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerificationError("inclusion proof is shorter than the path to the root");
  return r;
}

/** Check that `proof` proves `leaf` at `index` in the tree of `size` whose root is `root`.
 *  Returns nothing; throws VerificationError. */
export async function verifyInclusion(leaf, index, size, proof, root) {
  checkHash(root, "root hash");
  const got = await rootFromInclusionProof(leaf, index, size, proof);
  if (!bytesEqual(got, root)) {
    throw new VerificationError(`the proof gives root ${toHex(got)}, not ${toHex(root)}`);
  }
}

// -- signed notes ----------------------------------------------------------------------------

// Go's unicode.IsSpace: the Latin-1 spaces and the White_Space property.
const SPACES = new Set(
  "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000\u2000\u2001\u2002\u2003\u2004" +
    "\u2005\u2006\u2007\u2008\u2009\u200a",
);
const BAD_TEXT = /[\x00-\x09\x0b-\x1f]/; // control characters but newline
const BAD_LINE = /[\x00-\x1f]/; // any control character, newline included
const LONE_SURROGATE = /[\ud800-\udfff]/u; // with the u flag, only unpaired halves match

function checkText(text, what) {
  const m = BAD_TEXT.exec(text);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).padStart(2, "0");
    throw new MalformedError(`${what}: control character 0x${code} at ${m.index}`);
  }
  if (LONE_SURROGATE.test(text)) throw new MalformedError(`${what}: a lone surrogate`);
}

function checkName(name, what) {
  if (!name) throw new MalformedError(`${what}: expected a non-empty key name`);
  for (const c of name) {
    if (c === "+" || SPACES.has(c) || c.codePointAt(0) < 0x20) {
      throw new MalformedError(`${what}: a key name may hold no '+', space or control character`);
    }
  }
  checkText(name, what);
}

function decodeNote(msg) {
  if (typeof msg === "string") {
    checkText(msg, "note");
    return msg;
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(msg);
  } catch {
    throw new MalformedError("note: expected UTF-8");
  }
  checkText(text, "note");
  return text;
}

/** Key id of a key: the first 4 bytes of SHA-256(name || 0x0A || type || public key). */
export async function keyId(name, type, publicKey) {
  checkText(name, "key name");
  return (await sha256(concat(utf8(name), Uint8Array.of(0x0a, type), publicKey))).slice(0, 4);
}

/** Parse one signature line (without its newline): "— <name> <base64(key id || sig)>".
 *  Returns {name, keyId, keyIdHex, signature, line}. Throws MalformedError. */
export function parseSignatureLine(line) {
  if (!line.startsWith(SIG_PREFIX)) {
    throw new MalformedError("signature line: expected it to start with '\u2014 '");
  }
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  const b64 = space < 0 ? "" : rest.slice(space + 1);
  checkName(name, "signature line");
  const raw = fromBase64(b64, `signature by ${name}`);
  if (raw.length < 5) {
    throw new MalformedError(`signature by ${name}: expected a 4-byte key id and a signature`);
  }
  const id = raw.slice(0, 4);
  return { name, keyId: id, keyIdHex: toHex(id), signature: raw.slice(4), line };
}

/** Split a signed note (bytes or a string) into its text (up to and including the newline
 *  before the LAST blank line: the signed message) and its signature lines, in order,
 *  repeats kept. Throws MalformedError. */
export function parseSignedNote(msg) {
  const whole = decodeNote(msg);
  const split = whole.lastIndexOf("\n\n");
  if (split < 0) throw new MalformedError("note: expected a blank line before the signatures");
  const text = whole.slice(0, split + 1);
  const block = whole.slice(split + 2);
  if (!block.endsWith("\n")) {
    throw new MalformedError("note: expected newline-terminated signature lines");
  }
  const signatures = [];
  for (const line of block.slice(0, -1).split("\n")) {
    signatures.push(parseSignatureLine(line));
    if (signatures.length > MAX_SIGNATURES) {
      throw new MalformedError(`note: expected at most ${MAX_SIGNATURES} signatures`);
    }
  }
  return { text, signatures };
}

function checkLine(line, what) {
  if (!line) throw new MalformedError(`checkpoint ${what}: expected a non-empty line`);
  if (BAD_LINE.test(line) || LONE_SURROGATE.test(line)) {
    throw new MalformedError(`checkpoint ${what}: expected one line of text`);
  }
}

/** Parse checkpoint text strictly (c2sp.org/tlog-checkpoint for a SHA-256 log): origin,
 *  decimal size below 2^64 (no sign, no leading zero), canonical base64 of a 32-byte root,
 *  then non-empty extension lines, every line ending in a newline. Returns {origin, size
 *  (BigInt), root (Uint8Array), extensions}. Throws MalformedError; VerificationError when
 *  `origin` is given and differs. */
export function parseCheckpoint(text, origin = undefined) {
  if (typeof text !== "string") throw new MalformedError("checkpoint: expected text");
  if (!text.endsWith("\n")) throw new MalformedError("checkpoint: expected a final newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) {
    throw new MalformedError(`checkpoint: expected at least 3 lines, got ${lines.length}`);
  }
  const [first, sizeLine, rootLine, ...extensions] = lines;
  checkLine(first, "origin");
  if (sizeLine.length > 20 || !/^(?:0|[1-9][0-9]*)$/.test(sizeLine)) {
    throw new MalformedError(
      "checkpoint size: expected a decimal without sign or leading zeros",
    );
  }
  const size = BigInt(sizeLine);
  if (size > MAX_U64) throw new MalformedError("checkpoint size: expected a size below 2^64");
  checkLine(rootLine, "root hash");
  const root = fromBase64(rootLine, "checkpoint root hash");
  if (root.length !== HASH_SIZE) {
    throw new MalformedError(`checkpoint root hash: expected ${HASH_SIZE} bytes, got ${root.length}`);
  }
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  if (origin !== undefined && origin !== first) {
    throw new VerificationError(`checkpoint origin: expected ${origin}, got ${first}`);
  }
  return { origin: first, size, root, extensions };
}

/** Parse a signed checkpoint note: {text, signatures, origin, size, root, extensions}.
 *  Nothing is verified. Throws MalformedError. */
export function parseNote(msg) {
  const { text, signatures } = parseSignedNote(msg);
  return { text, signatures, ...parseCheckpoint(text) };
}

/** Parse a verifier key "<name>+<hex key id>+<base64(type || 32-byte Ed25519 key)>", type
 *  0x01 (a note key, such as the log's) or 0x04 (a cosignature/v1 witness key), checking
 *  that the key id is the one the name and key derive. Returns {name, keyId, keyIdHex,
 *  type, publicKey, vkey}. Throws MalformedError. */
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") throw new MalformedError("vkey: expected a string");
  const plus1 = vkey.indexOf("+");
  const name = plus1 < 0 ? vkey : vkey.slice(0, plus1);
  const rest = plus1 < 0 ? "" : vkey.slice(plus1 + 1);
  const plus2 = rest.indexOf("+");
  const hex8 = plus2 < 0 ? rest : rest.slice(0, plus2);
  const key64 = plus2 < 0 ? "" : rest.slice(plus2 + 1);
  checkName(name, "vkey name");
  if (!/^[0-9a-fA-F]{8}$/.test(hex8)) throw new MalformedError("vkey: expected an 8-digit hex key id");
  const key = fromBase64(key64, "vkey key");
  if (key.length === 0) throw new MalformedError("vkey: expected a type byte and a key");
  const type = key[0];
  if (type !== ED25519 && type !== COSIGNATURE_V1) {
    throw new MalformedError(`vkey: expected key type 0x01 or 0x04, got 0x${type.toString(16)}`);
  }
  if (key.length !== 33) throw new MalformedError(`vkey: expected a 32-byte Ed25519 key`);
  const publicKey = key.slice(1);
  const id = await keyId(name, type, publicKey);
  if (toHex(id) !== hex8.toLowerCase()) {
    throw new MalformedError(`vkey: the key id is ${toHex(id)}, the string says ${hex8}`);
  }
  return {
    name, keyId: id, keyIdHex: toHex(id), type, publicKey,
    vkey: `${name}+${toHex(id)}+${toBase64(key)}`,
  };
}

async function importEd25519(publicKey) {
  try {
    return await subtle().importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    if (e instanceof CryptoUnavailable) throw e;
    if (e && (e.name === "NotSupportedError" || e.name === "TypeError")) {
      throw new CryptoUnavailable("this browser's WebCrypto has no Ed25519");
    }
    return null; // a key WebCrypto refuses (not a point): no signature verifies under it
  }
}

async function ed25519Verify(publicKey, signature, message) {
  if (signature.length !== 64) return false;
  const key = await importEd25519(publicKey);
  if (key === null) return false;
  try {
    return await subtle().verify({ name: "Ed25519" }, key, signature, message);
  } catch (e) {
    if (e && e.name === "NotSupportedError") {
      throw new CryptoUnavailable("this browser's WebCrypto has no Ed25519");
    }
    return false;
  }
}

/** Whether this browser can verify Ed25519 signatures through WebCrypto. */
export async function ed25519Available() {
  try {
    // EnochRoot's key (golang.org/x/mod's examples): any valid point will do.
    await importEd25519(fromBase64("O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="));
    return true;
  } catch (e) {
    if (e instanceof CryptoUnavailable) return false;
    throw e;
  }
}

/** The timestamp of a cosignature/v1 signature (the 72 bytes after the key id), as a BigInt;
 *  null unless it is 72 bytes with a timestamp of at most 2^63 - 1. */
export function cosignatureTimestamp(signature) {
  if (signature.length !== 72) return null;
  let ts = 0n;
  for (let i = 0; i < 8; i++) ts = (ts << 8n) | BigInt(signature[i]);
  return ts > MAX_TIMESTAMP ? null : ts;
}

/** A cosignature timestamp (POSIX seconds) as UTC text, "2024-05-01 12:00:00 UTC"; null
 *  beyond the dates JavaScript holds (the year 275760). */
export function utcTime(ts) {
  const ms = Number(ts) * 1000;
  if (!(ms >= 0 && ms <= 8.64e15)) return null;
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A witness policy from verifier key strings (type 0x04, c2sp.org/tlog-cosignature) and a
 *  quorum K (null or undefined: all of them). Returns {witnesses (parseVerifierKey, a key
 *  given twice kept once), quorum, majority (whether K is more than half of them)}. Throws
 *  MalformedError for a key that is not a witness key, VerificationError for a quorum that
 *  cannot be met. */
export async function witnessPolicy(vkeys, quorum = null) {
  const witnesses = [];
  for (const v of vkeys) {
    let key;
    try {
      key = await parseVerifierKey(String(v));
    } catch (e) {
      throw new MalformedError(`witness key ${String(v).slice(0, 40)}: ${e.message}`);
    }
    if (key.type !== COSIGNATURE_V1) {
      throw new MalformedError(`witness key ${key.name}+${key.keyIdHex}: expected key type 0x04 (a cosignature key), got 0x0${key.type}`);
    }
    if (!witnesses.some((w) => w.vkey === key.vkey)) witnesses.push(key);
  }
  const k = quorum === null || quorum === undefined ? witnesses.length : quorum;
  if (!(Number.isSafeInteger(k) && k >= 0 && k <= witnesses.length)) {
    throw new VerificationError(`quorum ${k} of ${witnesses.length} witness keys: cannot be met`);
  }
  return { witnesses, quorum: k, majority: witnesses.length === 0 || 2 * k > witnesses.length };
}

/** Count the valid cosignatures of a checkpoint note by the witnesses of `policy`
 *  (witnessPolicy): `text` is the note's text, `signatures` its signature lines
 *  (parseSignedNote). A line by another key counts for nothing. Returns {cosigned: [{witness
 *  ("name+keyid"), name, keyIdHex, timestamp (BigInt), time (UTC text)}], invalid (witnesses
 *  whose every line fails to verify), missing (witnesses with no line), quorum, met}. Throws
 *  CryptoUnavailable when the browser cannot verify Ed25519. */
export async function countCosignatures(text, signatures, policy) {
  const message = typeof text === "string" ? utf8(text) : text;
  const cosigned = [];
  const invalid = [];
  const missing = [];
  for (const w of policy.witnesses) {
    const who = `${w.name}+${w.keyIdHex}`;
    const lines = signatures.filter((s) => s.name === w.name && s.keyIdHex === w.keyIdHex);
    let good = null;
    for (const s of lines) {
      if (await verifyNoteSignature(message, s, w)) { good = s; break; }
    }
    if (good) {
      const timestamp = cosignatureTimestamp(good.signature);
      cosigned.push({ witness: who, name: w.name, keyIdHex: w.keyIdHex, timestamp, time: utcTime(timestamp) });
    } else if (lines.length) {
      invalid.push(who);
    } else {
      missing.push(who);
    }
  }
  return { cosigned, invalid, missing, quorum: policy.quorum, met: cosigned.length >= policy.quorum };
}

/** What a count (countCosignatures) lacks: "1 valid cosignature, quorum 2; missing w2+…
 *  (its cosignature does not verify), w3+…". */
export function quorumShortfall(count) {
  const n = count.cosigned.length;
  const named = [
    ...count.invalid.map((w) => `${w} (its cosignature does not verify)`),
    ...count.missing,
  ];
  return `${n} valid cosignature${n === 1 ? "" : "s"}, quorum ${count.quorum}; missing ${named.join(", ") || "none"}`;
}

/** Whether signature line `sig` (parseSignatureLine) is a valid signature by `key`
 *  (parseVerifierKey) over the note `text` (string or bytes: everything before the blank
 *  line, its final newline included). False when the line names another key (name or key
 *  id). A type 0x01 key checks Ed25519 over the text; a type 0x04 witness key checks a
 *  cosignature/v1 (8-byte timestamp, then Ed25519 over "cosignature/v1\ntime <ts>\n" and
 *  the text). Throws CryptoUnavailable when the browser cannot verify Ed25519. */
export async function verifyNoteSignature(text, sig, key) {
  if (sig.name !== key.name || !bytesEqual(sig.keyId, key.keyId)) return false;
  const message = typeof text === "string" ? utf8(text) : text;
  if (key.type === ED25519) return ed25519Verify(key.publicKey, sig.signature, message);
  if (key.type === COSIGNATURE_V1) {
    const ts = cosignatureTimestamp(sig.signature);
    if (ts === null) return false;
    const signed = concat(utf8(`cosignature/v1\ntime ${ts}\n`), message);
    return ed25519Verify(key.publicKey, sig.signature.slice(8), signed);
  }
  return false;
}

/** Open a signed note with trusted `keys` (parseVerifierKey), as golang.org/x/mod's
 *  note.Open: {text, sigs (verified, in order), unverified (by unknown keys)}. Repeated
 *  lines by unknown keys, and repeated signatures by one known key, are dropped. Throws
 *  MalformedError; NoteError "invalid_signature" when a known key's signature fails,
 *  "unverified" (with text and unverified) when no known key signed; CryptoUnavailable. */
export async function openNote(msg, keys) {
  const { text, signatures } = parseSignedNote(msg);
  const known = new Map();
  for (const k of keys) {
    const ident = `${k.name}\n${k.keyIdHex}`;
    const had = known.get(ident);
    if (had && had.vkey !== k.vkey) {
      throw new VerificationError(`keys: expected one ${k.name} key, got two`);
    }
    known.set(ident, k);
  }
  const message = utf8(text);
  const sigs = [];
  const unverified = [];
  const seen = new Set();
  for (const sig of signatures) {
    const ident = `${sig.name}\n${sig.keyIdHex}`;
    const key = known.get(ident);
    if (key === undefined) {
      if (!seen.has(`line:${sig.line}`)) {
        seen.add(`line:${sig.line}`);
        unverified.push(sig);
      }
    } else if (!seen.has(`key:${ident}`)) {
      seen.add(`key:${ident}`);
      if (!(await verifyNoteSignature(message, sig, key))) {
        throw new NoteError(
          "invalid_signature", `the signature by ${sig.name}+${sig.keyIdHex} does not verify`,
        );
      }
      sigs.push(sig);
    }
  }
  if (sigs.length === 0) {
    throw new NoteError("unverified", "no known key signed the note", { text, unverified });
  }
  return { text, sigs, unverified };
}

// -- offline bundles (docs/bundle.md) ----------------------------------------------------------

export const BUNDLE_FORMAT = "cwledger-bundle/1";
export const UNPINNED_LOG_KEY =
  "log key not pinned: taken from the bundle, which proves only consistency with itself";
export const UNPINNED_WITNESSES =
  "witness keys not pinned: taken from the bundle, which proves only consistency with itself";
const BUNDLE_FIELDS = ["checkpoint", "entries", "format", "log_vkey", "quorum", "witness_vkeys"];
const ENTRY_FIELDS = ["envelope", "inclusion_proof", "index"];
const EVENT_TYPE = "application/vnd.cwledger.event+json";
// Governance acts (the book's GOVERNANCE_TYPES): the key table replays the first four; a
// witness.policy names the ledger's witnesses and quorum, which a bundle carries itself
// (witness_vkeys, quorum) and the visitor pins; an encryption_key.set changes no signing key.
const GOVERNANCE = new Set([
  "ledger.genesis", "party.registered", "key.rotated", "key.revoked", "witness.policy",
  "encryption_key.set",
]);

/** A bundle that does not check: the message names the first failure. */
export class BundleError extends Error {
  constructor(message) { super(message); this.name = "BundleError"; this.kind = "bundle"; }
}

/** RFC 8785 (JCS) text of a JSON value without floats: keys sorted by UTF-16 code units,
 *  strings and integers as JSON.stringify writes them. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function dssePae(payloadType, payload) {
  const t = utf8(payloadType);
  return concat(utf8(`DSSEv1 ${t.length} `), t, utf8(` ${payload.length} `), payload);
}

function exactFields(obj, fields, where) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw new BundleError(`${where}: expected an object`);
  }
  const have = Object.keys(obj).sort();
  if (have.join("\n") !== fields.join("\n")) {
    throw new BundleError(`${where}: expected the fields ${fields.join(", ")}, got ${have.join(", ")}`);
  }
}

function b64(text, where) {
  try {
    return fromBase64(text, where);
  } catch (e) {
    throw new BundleError(e.message);
  }
}

async function vkeyOf(text, where, type) {
  let key;
  try {
    key = await parseVerifierKey(text);
  } catch (e) {
    throw new BundleError(`${where}: ${e.message}`);
  }
  if (key.type !== type) throw new BundleError(`${where}: expected key type 0x0${type}`);
  return key;
}

/** The key table of docs/bundle.md, replayed from governance entries as they come. */
class KeyTable {
  constructor() { this.keys = []; }

  async add(party, vkey, index) {
    const key = await vkeyOf(vkey, `entry ${index}: key of ${party}`, ED25519);
    this.keys.push({ party, key, added: index, retired: null });
  }

  retire(party, keyIdHex, index) {
    for (const k of this.keys) {
      if (k.party === party && k.retired === null && (keyIdHex === null || k.key.keyIdHex === keyIdHex)) {
        k.retired = index;
      }
    }
  }

  find(party, keyIdHex, index) {
    const k = this.keys.find((r) => r.party === party && r.key.keyIdHex === keyIdHex);
    if (!k) throw new BundleError(`entry ${index}: ${party} has no key ${keyIdHex}`);
    if (index < k.added || (k.retired !== null && index > k.retired)) {
      throw new BundleError(`entry ${index}: key ${keyIdHex} of ${party} is not valid for it`);
    }
    return k.key;
  }

  async apply(event, index) {
    const b = event.body || {};
    if (event.type === "ledger.genesis") {
      for (const p of b.parties || []) await this.add(p.name, p.key, index);
    } else if (event.type === "party.registered") {
      await this.add(b.name, b.key, index);
    } else if (event.type === "key.rotated") {
      this.retire(b.party, null, index);
      await this.add(b.party, b.key, index);
    } else if (event.type === "key.revoked") {
      this.retire(b.party, b.key_id, index);
    }
  }
}

function policyOf(doc, pins, warnings) {
  const pinnedWitnesses = pins.witnesses && pins.witnesses.length ? pins.witnesses : null;
  if (!pins.log) warnings.push(UNPINNED_LOG_KEY);
  if (pinnedWitnesses === null && (doc.witness_vkeys.length || pins.quorum != null)) {
    warnings.push(UNPINNED_WITNESSES);
  }
  return {
    log: pins.log || doc.log_vkey,
    witnesses: pinnedWitnesses || doc.witness_vkeys,
    fromFile: pinnedWitnesses === null,
    quorum: pins.quorum ?? (pinnedWitnesses ? pinnedWitnesses.length : doc.quorum),
  };
}

/** Check an offline bundle (the file's bytes) with the visitor's pins {log, witnesses,
 *  quorum} (each optional; pinned keys win over the file's), as docs/bundle.md says and
 *  `cwledger check-bundle` does. Returns {origin, size, root, cosignedBy, cosignatures
 *  ([{witness, timestamp, time (UTC)}]), quorum, witnesses, witnessesPinned, warnings,
 *  entries: [{index, type, author, time, id, governance}]}. Throws BundleError naming the
 *  first failure; CryptoUnavailable when the browser cannot verify Ed25519. */
export async function checkBundle(bytes, pins = {}) {
  let doc;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new BundleError(`bundle: not JSON (${e.message})`);
  }
  exactFields(doc, BUNDLE_FIELDS, "bundle");
  if (doc.format !== BUNDLE_FORMAT) throw new BundleError(`bundle.format: expected ${BUNDLE_FORMAT}`);
  if (!bytesEqual(utf8(`${canonicalJson(doc)}\n`), bytes)) {
    throw new BundleError("bundle: not written as the format writes it (RFC 8785 JSON and one newline)");
  }
  if (typeof doc.checkpoint !== "string" || typeof doc.log_vkey !== "string"
      || !Array.isArray(doc.witness_vkeys) || !Number.isSafeInteger(doc.quorum)
      || !Array.isArray(doc.entries)) {
    throw new BundleError("bundle: a field of the wrong type");
  }
  const warnings = [];
  const policy = policyOf(doc, pins, warnings);
  for (const v of [doc.log_vkey, ...doc.witness_vkeys]) {
    const k = await parseVerifierKey(String(v)).catch(() => null);
    if (!k || k.vkey !== v) throw new BundleError(`bundle: key ${String(v).slice(0, 60)}: expected a verifier key as C2SP writes it`);
  }
  const log = await vkeyOf(policy.log, "log key", ED25519);
  const witnesses = [];
  for (const w of policy.witnesses) witnesses.push(await vkeyOf(String(w), "witness key", COSIGNATURE_V1));
  const k = policy.quorum;
  if (!(Number.isSafeInteger(k) && k >= 0 && k <= witnesses.length)) {
    throw new BundleError(`quorum ${k} of ${witnesses.length} witness keys: cannot be met`);
  }
  if (witnesses.length && 2 * k <= witnesses.length) {
    const why = `quorum ${k} of ${witnesses.length} witnesses is not a majority: two disjoint sets of honest witnesses could each cosign one side of a split view`;
    if (policy.fromFile) throw new BundleError(`bundle: ${why}`);
    warnings.push(why);
  }
  // The note: the log's signature, the cosignatures, the quorum.
  let opened;
  try {
    opened = await openNote(utf8(doc.checkpoint), [log, ...witnesses]);
  } catch (e) {
    if (e instanceof CryptoUnavailable) throw e;
    throw new BundleError(`checkpoint: ${e.message}`);
  }
  let cp;
  try {
    cp = parseCheckpoint(opened.text, log.name);
  } catch (e) {
    throw new BundleError(`checkpoint: ${e.message}`);
  }
  if (!opened.sigs.some((s) => s.name === log.name && s.keyIdHex === log.keyIdHex)) {
    throw new BundleError(`checkpoint: no verified signature by the log key ${log.name}+${log.keyIdHex}`);
  }
  const isWitness = (s) => witnesses.some((w) => w.name === s.name && w.keyIdHex === s.keyIdHex);
  const cosignatures = opened.sigs.filter(isWitness).map((s) => {
    const timestamp = cosignatureTimestamp(s.signature);
    return { witness: `${s.name}+${s.keyIdHex}`, timestamp, time: utcTime(timestamp) };
  });
  const cosignedBy = cosignatures.map((c) => c.witness);
  for (const s of opened.unverified) {
    const who = `${s.name}+${s.keyIdHex}`;
    if (policy.fromFile) throw new BundleError(`checkpoint: a signature by ${who}, a key the bundle does not name`);
    warnings.push(`ignored a signature by ${who}, a key not pinned`);
  }
  if (cosignedBy.length < k) {
    const missing = witnesses.map((w) => `${w.name}+${w.keyIdHex}`).filter((x) => !cosignedBy.includes(x));
    throw new BundleError(`checkpoint: ${cosignedBy.length} valid cosignatures, quorum ${k}; missing ${missing.join(", ")}`);
  }
  // The entries: inclusion, the event, its author's key, its signature.
  if (doc.entries.length === 0) throw new BundleError("bundle.entries: expected at least one entry");
  const table = new KeyTable();
  const entries = [];
  let last = -1;
  for (const [n, item] of doc.entries.entries()) {
    const where = `bundle.entries[${n}]`;
    exactFields(item, ENTRY_FIELDS, where);
    const index = item.index;
    if (!Number.isSafeInteger(index) || index <= last) throw new BundleError(`${where}: index ${index} after ${last}; want ascending indices`);
    last = index;
    if (!Array.isArray(item.inclusion_proof)) throw new BundleError(`${where}.inclusion_proof: expected a list`);
    const leaf = b64(item.envelope, `${where}.envelope`);
    const proof = item.inclusion_proof.map((h, i) => b64(h, `${where}.inclusion_proof[${i}]`));
    try {
      await verifyInclusion(await leafHash(leaf), BigInt(index), cp.size, proof, cp.root);
    } catch (e) {
      throw new BundleError(`entry ${index}: not in the checkpoint's tree: ${e.message}`);
    }
    let envelope;
    let event;
    try {
      envelope = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(leaf));
      event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64(envelope.payload)));
    } catch (e) {
      throw new BundleError(`entry ${index}: not an event envelope (${e.message})`);
    }
    if (envelope.payloadType !== EVENT_TYPE || !Array.isArray(envelope.signatures) || envelope.signatures.length !== 1) {
      throw new BundleError(`entry ${index}: not an event envelope`);
    }
    if (n === 0) {
      if (index !== 0 || event.type !== "ledger.genesis") {
        throw new BundleError("the bundle does not start with the genesis (entry 0), which establishes the authors' keys");
      }
      const named = await vkeyOf(String(event.body && event.body.log_key), "entry 0: log key", ED25519);
      if (named.vkey !== log.vkey) throw new BundleError(`entry 0: the genesis names the log key ${named.vkey}, not ${log.vkey}`);
      await table.apply(event, index);
    }
    const { keyid, sig } = envelope.signatures[0];
    const key = table.find(event.author, keyid, index);
    const payload = fromBase64(envelope.payload);
    if (!(await ed25519Verify(key.publicKey, b64(sig, `entry ${index}: signature`), dssePae(EVENT_TYPE, payload)))) {
      throw new BundleError(`entry ${index}: the signature does not verify with ${event.author}'s key ${keyid}`);
    }
    const governance = GOVERNANCE.has(event.type);
    if (governance && n > 0) await table.apply(event, index);
    entries.push({ index, type: event.type, author: event.author, time: event.time, id: event.id, governance });
  }
  return {
    origin: cp.origin, size: cp.size, root: toHex(cp.root), cosignedBy, cosignatures, quorum: k,
    witnesses: witnesses.length, witnessesPinned: !policy.fromFile, warnings, entries,
  };
}
