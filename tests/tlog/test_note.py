"""c2sp.org/signed-note: every vector of notes.json, Go's key-mangling rule, property tests."""

from __future__ import annotations

from base64 import b64decode
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import InvalidSignature, MalformedInput, UnknownSigner, VerificationError
from cwledger.tlog import note
from cwledger.tlog.cosignature import CosignatureVerifier, verifier_from_vkey
from cwledger.tlog.note import Signature, Signer, UnverifiedNoteError, Verifier

from ._vectors import ids, load

NOTES = load("notes.json")
KEYS = NOTES["keys"]["vectors"]
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ERRORS: dict[str, type[VerificationError]] = {
    "malformed": MalformedInput,
    "invalid_signature": InvalidSignature,
    "unverified": UnknownSigner,
}
PETER_NOTE: bytes = NOTES["sign"]["vectors"][0]["want_msg"].encode()
PETER_TEXT: str = NOTES["sign"]["vectors"][0]["text"]


def sig_triples(sigs: list[Signature]) -> list[tuple[str, str, str]]:
    return [(s.name, s.key_id.hex(), s.base64) for s in sigs]


def want_triples(want: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(w["name"], w["key_id_hex"], w["base64"]) for w in want]


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("v", KEYS, ids=ids(KEYS))
def test_key_vector(v: dict[str, Any]) -> None:
    vkey = v["vkey"]
    name, kid_hex, key64 = vkey.split("+", 2)
    key_type, pub = b64decode(key64)[0], b64decode(key64)[1:]
    assert note.key_id(name, key_type, pub).hex() == kid_hex
    if "skey" in v:
        signer = Signer.from_skey(v["skey"])
        assert (signer.vkey(), signer.skey(), signer.name) == (vkey, v["skey"], name)
        assert signer.verifier().vkey() == vkey
    if "seed_hex" in v:
        assert Signer.from_seed(name, bytes.fromhex(v["seed_hex"])).vkey() == vkey
    verifier = verifier_from_vkey(vkey)
    assert (verifier.vkey(), verifier.key_type, verifier.public_key) == (vkey, key_type, pub)
    if key_type == 0x04:  # a witness key is never accepted as a plain note key
        assert isinstance(verifier, CosignatureVerifier)
        with pytest.raises(MalformedInput, match="CosignatureVerifier"):
            Verifier.from_vkey(vkey)
    else:
        assert type(verifier) is Verifier
        with pytest.raises(MalformedInput, match="key type"):
            CosignatureVerifier.from_vkey(vkey)


@pytest.mark.parametrize("v", NOTES["bad_vkeys"]["vectors"], ids=ids(NOTES["bad_vkeys"]["vectors"]))
def test_bad_vkey_rejected(v: dict[str, Any]) -> None:
    for parse in (Verifier.from_vkey, CosignatureVerifier.from_vkey, verifier_from_vkey):
        with pytest.raises(MalformedInput):
            parse(v["vkey"])


def test_peter_neumann_skey_derives_vkey() -> None:
    signer = Signer.from_skey(PETER_SKEY)
    assert signer.vkey() == PETER_VKEY
    assert Verifier.from_vkey(PETER_VKEY).public_key == signer.public_key
    assert signer.key_id == bytes.fromhex("c74f20a3") == Verifier.from_vkey(PETER_VKEY).key_id


def mangled(key: str) -> set[str]:
    """golang.org/x/mod's rule: every proper substring and every one-byte-incremented copy."""
    subs = {key[i:j] for i in range(len(key) + 1) for j in range(i, len(key) + 1)}
    bumped = {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return (subs | bumped) - {key}


def test_mangled_vkeys_rejected() -> None:
    for bad in sorted(mangled(PETER_VKEY)):
        for parse in (Verifier.from_vkey, verifier_from_vkey):
            with pytest.raises(MalformedInput):
                parse(bad)


def test_mangled_skeys_rejected() -> None:
    for bad in sorted(mangled(PETER_SKEY)):
        with pytest.raises(MalformedInput) as err:
            Signer.from_skey(bad)
        assert "AYEKFALV" not in str(err.value)  # never echo key material


def test_key_strings_go_parity_and_strictness() -> None:
    upper = PETER_VKEY.replace("c74f20a3", "C74F20A3")  # Go's ParseUint takes either case
    assert Verifier.from_vkey(upper).vkey() == PETER_VKEY
    for bad in (PETER_VKEY + "\n", PETER_VKEY + "=", " " + PETER_VKEY, PETER_VKEY[:-2] + "U="):
        with pytest.raises(MalformedInput):
            Verifier.from_vkey(bad)
    assert "AYEKFALV" not in repr(Signer.from_skey(PETER_SKEY))


@pytest.mark.parametrize(
    "name", ["", "a+b", "a b", "a\tb", "a\u2003b", "a\x85b", "a\x1cb", "\ud800"]
)
def test_bad_names_rejected(name: str) -> None:
    with pytest.raises(MalformedInput):
        Signer(name, bytes(32))
    with pytest.raises(MalformedInput):
        Verifier(name, Signer("x", bytes(32)).public_key)


def _first_bad_character(name: str) -> str | None:
    """What a key name may not hold, the first of it, as Go's isValidName reads a name
    (plus ASCII controls): character by character."""
    spaces = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000")
    spaces |= {chr(c) for c in range(0x2000, 0x200B)}
    return next((c for c in name if c == "+" or c in spaces or ord(c) < 0x20), None)


@given(st.text(st.characters(max_codepoint=0x3100, exclude_categories=("Cs",)), max_size=12))
@settings(max_examples=500)
def test_a_key_names_bad_character_is_found_as_character_by_character(name: str) -> None:
    """`_check_name` finds a name's first forbidden character by one regular expression:
    the same character that a reading character by character finds, named in its error."""
    bad = _first_bad_character(name)
    if name and bad is None:
        note._check_name(name, "name")  # no error
        return
    with pytest.raises(MalformedInput) as e:
        note._check_name(name, "name")
    assert str(e.value).endswith(repr(bad) if name else "''")


def test_a_key_string_is_parsed_once_per_class_and_a_refused_one_each_time() -> None:
    """`from_vkey` remembers what it parsed (the governance's replays read the same keys
    again and again): the same verifier for the same string, but never across classes,
    and a refusal is never remembered."""
    assert Verifier.from_vkey(PETER_VKEY) is Verifier.from_vkey(PETER_VKEY)
    for _ in range(2):  # a type-0x01 key is no witness key, the second time too
        with pytest.raises(MalformedInput, match="key type 0x04"):
            CosignatureVerifier.from_vkey(PETER_VKEY)
        with pytest.raises(MalformedInput):
            Verifier.from_vkey(PETER_VKEY + "=")


def test_generate_and_unicode_names() -> None:
    signer = Signer.generate("café.example/λ")
    assert Verifier.from_vkey(signer.vkey()).public_key == signer.public_key
    assert Signer.from_skey(signer.skey()).seed == signer.seed
    msg = note.sign("hi\n", [signer])
    assert note.open(msg, [signer.verifier()]).text == "hi\n"


# --- sign ---------------------------------------------------------------------------------


@pytest.mark.parametrize("v", NOTES["sign"]["vectors"], ids=ids(NOTES["sign"]["vectors"]))
def test_sign_vector(v: dict[str, Any]) -> None:
    if v.get("want_error"):
        with pytest.raises(ERRORS[v["want_error"]]):
            note.sign(v["text"], [Signer.from_skey(v["skey"])])
        return
    if "existing_msg" in v:  # Go's ExampleSign_add_signatures: open with Peter, add Enoch
        enoch = Signer.from_seed(v["signer_name"], bytes.fromhex(v["signer_seed_hex"]))
        got = note.add_signatures(
            v["existing_msg"].encode(), [enoch], [Verifier.from_vkey(PETER_VKEY)]
        )
        verifiers = [Verifier.from_vkey(PETER_VKEY), enoch.verifier()]
    else:
        signer = Signer.from_skey(v["skey"])
        got = note.sign(v["text"], [signer])
        verifiers = [signer.verifier()]
    assert got == v["want_msg"].encode()
    assert len(note.open(got, verifiers).sigs) == len(verifiers)


def test_sign_refuses_what_open_would_refuse() -> None:
    peter = Signer.from_skey(PETER_SKEY)
    for text in ("no newline", "tab\there\n", "cr\r\n", "nul\x00\n", "lone \ud800\n"):
        with pytest.raises(MalformedInput):
            note.sign(text, [peter])
    with pytest.raises(MalformedInput):
        note.sign("ok\n", [])


def test_add_signatures_requires_a_verified_note_and_replaces_own_line() -> None:
    peter = Signer.from_skey(PETER_SKEY)
    with pytest.raises(UnknownSigner):
        note.add_signatures(PETER_NOTE, [Signer("EnochRoot", bytes(32))], [])
    assert note.add_signatures(PETER_NOTE, [peter], [peter.verifier()]) == PETER_NOTE


# --- open ---------------------------------------------------------------------------------


@pytest.mark.parametrize("v", NOTES["open"]["vectors"], ids=ids(NOTES["open"]["vectors"]))
def test_open_vector(v: dict[str, Any]) -> None:
    msg = v["msg"].encode() if "msg" in v else bytes.fromhex(v["msg_hex"])
    verifiers = [Verifier.from_vkey(k) for k in v["verifiers"]]
    if v["want_error"]:
        if v.get("implementation_limit"):
            assert v["want_error"] == "malformed"  # we follow Go's limit of 100 lines
        with pytest.raises(ERRORS[v["want_error"]]) as err:
            note.open(msg, verifiers)
        if v["want_error"] == "unverified":
            assert isinstance(err.value, UnverifiedNoteError)
            got = sig_triples(err.value.note.unverified_sigs)
            assert got == want_triples(v["want_unverified"])
        return
    opened = note.open(msg, verifiers)
    assert opened.text == v.get("want_text", PETER_TEXT)  # vectors without it sign Peter's text
    if "want_sigs" in v:
        assert sig_triples(opened.sigs) == want_triples(v["want_sigs"])
        assert sig_triples(opened.unverified_sigs) == want_triples(v["want_unverified"])
    else:
        assert [s.name for s in opened.sigs] == [k.name for k in verifiers]


@pytest.mark.parametrize(
    "v", NOTES["parse_only"]["vectors"], ids=ids(NOTES["parse_only"]["vectors"])
)
def test_parse_only_splits_at_last_blank_line(v: dict[str, Any]) -> None:
    with pytest.raises(UnverifiedNoteError) as err:
        note.open(v["msg"].encode(), [])
    assert err.value.note.text == v["want_text"]
    assert [s.line for s in err.value.note.unverified_sigs] == v["want_sig_lines"]


def unknown_lines(n: int) -> str:
    return "".join(f"— k{i} {Signature(f'k{i}', bytes(4), bytes(64)).base64}\n" for i in range(n))


def test_signature_limit_boundary() -> None:
    peter = Verifier.from_vkey(PETER_VKEY)
    assert len(note.open(PETER_NOTE + unknown_lines(99).encode(), [peter]).unverified_sigs) == 99
    with pytest.raises(MalformedInput):
        note.open(PETER_NOTE + unknown_lines(100).encode(), [peter])


def test_open_go_parity_details() -> None:
    peter = Verifier.from_vkey(PETER_VKEY)
    good = Signature.from_line(PETER_NOTE.decode().splitlines()[-1])
    forged = Signature(good.name, good.key_id, bytes(64)).line
    # Go checks only the first signature per known key; later ones are dropped unchecked.
    assert len(note.open(PETER_NOTE + forged.encode() + b"\n", [peter]).sigs) == 1
    with pytest.raises(InvalidSignature):
        note.open(PETER_NOTE.replace(good.line.encode(), forged.encode()), [peter])
    # Non-canonical base64 (non-zero padding bits) is refused although Go accepts it.
    assert good.line.endswith("AM=")
    with pytest.raises(MalformedInput, match="canonical"):
        note.open(PETER_NOTE.replace(b"AM=\n", b"AN=\n"), [peter])
    # Two different keys claiming one name and key ID: refuse to choose.
    twin = Verifier("PeterNeumann", Signer("x", bytes(32)).public_key)
    twin._key_id = peter.key_id  # forge a collision of name and key ID
    with pytest.raises(VerificationError, match="two"):
        note.open(PETER_NOTE, [peter, twin])
    assert len(note.open(PETER_NOTE, [peter, Verifier.from_vkey(PETER_VKEY)]).sigs) == 1
    with pytest.raises(TypeError):
        note.open(PETER_NOTE.decode(), [peter])  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

NAME = st.text(st.characters(exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]), min_size=1)
NAME = NAME.filter(lambda s: "+" not in s)
TEXT_CHAR = st.characters(exclude_categories=["Cs"]).filter(lambda c: c == "\n" or c >= " ")
TEXT = st.lists(st.one_of(TEXT_CHAR, st.sampled_from(["\n", "\n\n", "— ", " ", "+"]))).map(
    lambda parts: "".join(parts) + "\n"
)


@settings(max_examples=60, deadline=None)
@given(TEXT, st.lists(st.tuples(NAME, st.binary(min_size=32, max_size=32)), min_size=1, max_size=3))
def test_sign_open_round_trip(text: str, keys: list[tuple[str, bytes]]) -> None:
    signers = list(
        {(name, Signer(name, seed).key_id): Signer(name, seed) for name, seed in keys}.values()
    )
    msg = note.sign(text, signers)
    opened = note.open(msg, [s.verifier() for s in signers])
    assert opened.text == text
    assert [(s.name, s.key_id) for s in opened.sigs] == [(s.name, s.key_id) for s in signers]
    assert opened.unverified_sigs == []


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for pos, op, byte in edits:
        i = pos % (len(out) + 1)
        if op == 0:
            out.insert(i, byte)
        elif i < len(out):
            out[i : i + 1] = b"" if op == 1 else bytes([byte])
    return bytes(out)


EDITS = st.lists(
    st.tuples(st.integers(0, 10**4), st.integers(0, 2), st.integers(0, 255)), max_size=4
)
VERIFIERS = [Verifier.from_vkey(PETER_VKEY), Verifier.from_vkey(KEYS[1]["vkey"])]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.binary(max_size=300), st.text().map(lambda t: t.encode("utf-8", "surrogatepass")))
)
def test_open_arbitrary_bytes_raises_only_verification_errors(data: bytes) -> None:
    try:
        note.open(data, VERIFIERS)
    except VerificationError:
        pass


@settings(max_examples=300, deadline=None)
@given(EDITS)
def test_open_mutated_note_raises_only_verification_errors(
    edits: list[tuple[int, int, int]],
) -> None:
    msg = NOTES["open"]["vectors"][0]["msg"].encode()
    try:
        opened = note.open(mutate(msg, edits), VERIFIERS)
    except VerificationError:
        return
    assert opened.sigs  # whatever still opens carries a verified signature


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), EDITS.map(lambda e: mutate(PETER_SKEY.encode(), e).decode("latin-1"))))
def test_key_parsers_raise_only_verification_errors(text: str) -> None:
    for parse in (Verifier.from_vkey, verifier_from_vkey, Signer.from_skey, Signature.from_line):
        try:
            parse(text)
        except VerificationError:
            pass
