"""Sealed payloads (issue 16, section 2; format 2): what is sealed opens for each recipient
and for no one else, and any changed byte (of a box, of the commitment, of the ephemeral
key, of the ciphertext, of the seed, salt or payload inside it) is a broken seal, never a
payload."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import nacl.bindings
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.errors import MalformedInput, NotEntitled, SealBroken
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.sealing import (
    BOX_SIZE,
    CIPHERTEXT_OVERHEAD,
    MIN_BUCKET,
    SealGroup,
    _box,
    bucket,
    check_boxes,
    open_checked,
    open_sealed,
    opening,
    pad,
    seal,
    unpad,
)
from cwledger.model.enckeys import DecryptionKey, EncryptionKey

NAMES = ["dec", "insp", "obs", "operator", "venue", "vessel"]
KEYS = {n: DecryptionKey.from_seed(n, b"test-sealing") for n in NAMES}
OUTSIDER = DecryptionKey.from_seed("spy", b"test-sealing")

SAFE = 2**53 - 1
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
)
keys_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys_text, inner, max_size=5),
    max_leaves=30,
)
json_objects = st.dictionaries(keys_text, json_values, max_size=8)
recipient_sets = st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True)


def public(names: list[str]) -> dict[str, EncryptionKey]:
    return {n: KEYS[n].public for n in names}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def flipped(text: str, at: int, by: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at % len(raw)] ^= by
    return b64(bytes(raw))


def documented_seal(
    data: bytes, salt: bytes, seed: bytes, k: bytes, keys: dict[str, EncryptionKey]
) -> dict[str, Any]:
    """Format 2 as docs/sealing.md gives it, written from the page (libsodium's primitives
    only): what another language's sealer would write."""
    zero = bytes(24)
    esk = hashlib.sha256(b"cwledger/seal/v2 ephemeral\x00" + seed).digest()
    epk = nacl.bindings.crypto_scalarmult_base(esk)
    commitment = hashlib.sha256(salt + data).digest()
    padded = data + b"\x80" + bytes(bucket(len(data)) - len(data) - 1)
    ad = b"cwledger/seal/v2 payload\x00" + epk
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        seed + salt + padded, ad, zero, k
    )
    boxes = []
    for name in sorted(keys):
        r = keys[name].public_key
        shared = nacl.bindings.crypto_scalarmult(esk, r)
        wk = hashlib.sha256(b"cwledger/seal/v2 box\x00" + shared + epk + r + commitment).digest()
        box = nacl.bindings.crypto_secretbox(k, zero, wk)
        boxes.append({"to": name, "key": keys[name].key_id.hex(), "box": b64(box)})
    return {
        "v": 2,
        "commitment": b64(commitment),
        "epk": b64(epk),
        "ciphertext": b64(ciphertext),
        "boxes": boxes,
    }


def reciphered(sealed: dict[str, Any], plaintext: bytes, k: bytes) -> None:
    """Replace the ciphertext by `plaintext` encrypted as `seal` does, under `k`."""
    epk = base64.b64decode(sealed["epk"])
    sealed["ciphertext"] = b64(
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, b"cwledger/seal/v2 payload\x00" + epk, bytes(24), k
        )
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(confidential=json_objects, names=recipient_sets)
def test_every_recipient_opens_what_was_sealed(
    confidential: dict[str, Any], names: list[str]
) -> None:
    sealed = seal(confidential, public(names))
    assert [b["to"] for b in sealed["boxes"]] == sorted(names)
    for n in names:
        assert open_sealed(sealed, n, KEYS[n]) == confidential
        opened = opening(sealed, n, KEYS[n])
        assert opened.canonical == canonical_json(confidential)
        assert check_boxes(sealed, opened, public(names)) == []
    data = canonical_json(confidential)
    commitment = base64.b64decode(sealed["commitment"])
    assert commitment == hashlib.sha256(opened.salt + data).digest()
    # The ciphertext is as long as the bucket, whatever the payload's size within it; a
    # box is the content key and its tag.
    ciphertext = base64.b64decode(sealed["ciphertext"])
    assert len(ciphertext) == CIPHERTEXT_OVERHEAD + bucket(len(data))
    assert {len(base64.b64decode(b["box"])) for b in sealed["boxes"]} == {BOX_SIZE}


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    confidential=json_objects,
    names=recipient_sets,
    secrets=st.lists(st.binary(min_size=32, max_size=32), min_size=3, max_size=3),
)
def test_the_format_is_the_one_docs_sealing_md_gives(
    confidential: dict[str, Any], names: list[str], secrets: list[bytes]
) -> None:
    """Byte for byte: a sealer written from the page (above) and `seal`, given the same
    salt, seed and content key, write the same sealed part."""
    salt, seed, k = secrets
    keys = public(names)
    sealed = seal(confidential, keys, salt=salt, seed=seed, content_key=k)
    assert sealed == documented_seal(canonical_json(confidential), salt, seed, k, keys)


def test_two_seals_of_the_same_payload_share_nothing() -> None:
    """A fresh salt, seed and content key: equal payloads are not seen to be equal."""
    a, b = (seal({"grams": 5}, public(["dec"])) for _ in range(2))
    for member in ("commitment", "epk", "ciphertext"):
        assert a[member] != b[member]
    assert a["boxes"][0]["box"] != b["boxes"][0]["box"]


def test_a_group_shares_one_ephemeral_key_per_set_of_recipients() -> None:
    """The seals of one `SealGroup` to the same recipient keys share their ephemeral key
    (and nothing else); to other recipients, or to another key of one, they do not. Each
    opens and checks as any seal."""
    group = SealGroup()
    two, three = public(["dec", "insp"]), public(["dec", "insp", "operator"])
    rotated = {**two, "insp": DecryptionKey.from_seed("insp", b"rotated").public}
    a, b = (seal({"n": n}, two, group=group) for n in (1, 2))
    c = seal({"n": 3}, three, group=group)
    d = seal({"n": 4}, rotated, group=group)
    e = seal({"n": 1}, two)  # no group
    assert a["epk"] == b["epk"]
    assert len({a["epk"], c["epk"], d["epk"], e["epk"]}) == 4
    assert a["ciphertext"] != b["ciphertext"]
    assert a["boxes"][0]["box"] != b["boxes"][0]["box"]
    for sealed, keys, n in [(a, two, 1), (b, two, 2), (c, three, 3)]:
        for name in keys:
            opened, check = open_checked(sealed, name, KEYS[name], keys)
            assert opened.confidential == {"n": n} and check() == []
    # A box swapped in from another seal of the group: same ephemeral key, another
    # commitment and content key: it does not open, and the others see it differs.
    b["boxes"][1]["box"] = a["boxes"][1]["box"]
    with pytest.raises(SealBroken, match="does not open"):
        open_sealed(b, "insp", KEYS["insp"])
    [problem] = check_boxes(b, opening(b, "dec", KEYS["dec"]), two)
    assert problem.location == "sealed.boxes[1]"


@pytest.mark.parametrize("size", [0, 1, 254, 255, 256, 511, 512, 4000])
def test_padding_fills_the_bucket_and_comes_off(size: int) -> None:
    data = b"x" * size
    padded = pad(data)
    assert len(padded) == max(MIN_BUCKET, 1 << size.bit_length()) > size
    assert len(padded) & (len(padded) - 1) == 0
    assert unpad(padded) == data


@pytest.mark.parametrize(
    "padded",
    [bytes(256), b"x" * 256, b"x\x80" + bytes(510), b"x\x80\x01" + bytes(253), b"x\x80" + bytes(9)],
)
def test_padding_that_pad_never_gives_is_a_broken_seal(padded: bytes) -> None:
    with pytest.raises(SealBroken):
        unpad(padded)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    confidential=json_objects,
    names=recipient_sets,
    pick=st.integers(0, 5),
    at=st.integers(0, 10_000),
    by=st.integers(1, 255),
)
def test_any_changed_byte_of_a_box_breaks_the_seal(
    confidential: dict[str, Any], names: list[str], pick: int, at: int, by: int
) -> None:
    sealed = seal(confidential, public(names))
    i = pick % len(names)
    box = sealed["boxes"][i]
    box["box"] = flipped(box["box"], at, by)
    with pytest.raises(SealBroken):
        open_sealed(sealed, box["to"], KEYS[box["to"]])
    others = [b["to"] for b in sealed["boxes"] if b is not box]
    if others:  # whoever opens another box sees that this one differs
        opened = opening(sealed, others[0], KEYS[others[0]])
        [problem] = check_boxes(sealed, opened, public(names))
        assert problem.location == f"sealed.boxes[{i}]"


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    confidential=json_objects, names=recipient_sets, at=st.integers(0, 31), by=st.integers(1, 255)
)
def test_any_changed_byte_of_the_commitment_breaks_the_seal(
    confidential: dict[str, Any], names: list[str], at: int, by: int
) -> None:
    sealed = seal(confidential, public(names))
    sealed["commitment"] = flipped(sealed["commitment"], at, by)
    for n in names:  # every box key is bound to the commitment
        with pytest.raises(SealBroken, match="does not open"):
            open_sealed(sealed, n, KEYS[n])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    confidential=json_objects,
    names=recipient_sets,
    member=st.sampled_from(["epk", "ciphertext"]),
    at=st.integers(0, 10_000),
    by=st.integers(1, 255),
)
def test_any_changed_byte_of_the_ephemeral_key_or_the_ciphertext_breaks_the_seal(
    confidential: dict[str, Any], names: list[str], member: str, at: int, by: int
) -> None:
    sealed = seal(confidential, public(names))
    sealed[member] = flipped(sealed[member], at, by)
    for n in names:
        with pytest.raises(SealBroken, match="does not open"):
            open_sealed(sealed, n, KEYS[n])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    confidential=json_objects,
    name=st.sampled_from(NAMES),
    at=st.integers(0, 10_000),
    by=st.integers(1, 255),
)
def test_any_changed_byte_of_the_seed_salt_or_payload_inside_the_ciphertext_breaks_the_seal(
    confidential: dict[str, Any], name: str, at: int, by: int
) -> None:
    """A ciphertext re-made under the same content key (as the author could) around a
    plaintext that differs in one byte: of the seed (the opener's check names the
    ephemeral key), of the salt or of the padded payload (the commitment does not match,
    or the padding is not one `pad` gives)."""
    salt, seed, k = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96))
    keys = public([name, "operator"])
    sealed = seal(confidential, keys, salt=salt, seed=seed, content_key=k)
    plaintext = bytearray(seed + salt + pad(canonical_json(confidential)))
    plaintext[at % len(plaintext)] ^= by
    reciphered(sealed, bytes(plaintext), k)
    if at % len(plaintext) >= 32:
        with pytest.raises(SealBroken):
            open_sealed(sealed, name, KEYS[name])
    else:
        opened, check = open_checked(sealed, name, KEYS[name], keys)
        assert opened.confidential == confidential  # the payload is the same
        assert [p.location for p in check()] == ["sealed.epk"]


def test_a_party_without_a_box_is_not_entitled() -> None:
    sealed = seal({"site": "S-1"}, public(["dec", "insp"]))
    for who, key in [("obs", KEYS["obs"]), ("spy", OUTSIDER)]:
        with pytest.raises(NotEntitled, match=f"not sealed to '{who}'") as info:
            open_sealed(sealed, who, key)
        assert info.value.status == 403 and info.value.code == "not-entitled"


def test_a_party_with_a_wrong_key_gets_a_broken_seal() -> None:
    sealed = seal({"site": "S-1"}, public(["dec", "insp"]))
    with pytest.raises(SealBroken, match="sealed to its encryption key") as info:
        open_sealed(sealed, "insp", DecryptionKey.generate("insp"))  # a key it lost, or never had
    assert info.value.status == 422 and info.value.code == "seal-broken"
    # A box that names the right key id but was sealed to another key does not open.
    box = sealed["boxes"][1]
    epk, commitment = (base64.b64decode(sealed[m]) for m in ("epk", "commitment"))
    other = DecryptionKey.generate("insp").public.public_key
    box["box"] = b64(_box(bytes(32), bytes(range(32)), epk, other, commitment))
    with pytest.raises(SealBroken, match="does not open"):
        open_sealed(sealed, "insp", KEYS["insp"])


def test_a_rotated_key_opens_what_was_sealed_to_it_and_nothing_after() -> None:
    old, new = KEYS["insp"], DecryptionKey.from_seed("insp", b"rotated")
    before = seal({"n": 1}, {"insp": old.public})
    after = seal({"n": 2}, {"insp": new.public})
    assert open_sealed(before, "insp", old) == {"n": 1}
    assert open_sealed(after, "insp", new) == {"n": 2}
    with pytest.raises(SealBroken):
        open_sealed(after, "insp", old)


def test_check_boxes_names_a_box_to_a_key_not_in_force() -> None:
    sealed = seal({"n": 1}, public(["dec", "insp"]))
    opened = opening(sealed, "dec", KEYS["dec"])
    rotated = {**public(["dec"]), "insp": DecryptionKey.from_seed("insp", b"rotated").public}
    [problem] = check_boxes(sealed, opened, rotated)
    assert "not its key" in problem.message
    [missing] = check_boxes(sealed, opened, public(["dec"]))
    assert "has no encryption key" in missing.message


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.pop("boxes"),
        lambda s: s.pop("v"),
        lambda s: s.update(v=1),
        lambda s: s.update(v=True),
        lambda s: s.update(v="2"),
        lambda s: s.update(extra=1),
        lambda s: s.update(epk=b64(b"\x01" * 31)),
        lambda s: s.update(epk=b64(bytes(32))),  # of small order: X25519 gives zeros
        lambda s: s.update(ciphertext=b64(bytes(CIPHERTEXT_OVERHEAD + MIN_BUCKET - 1))),
        lambda s: s["boxes"][0].update(box=b64(bytes(BOX_SIZE - 1))),
        lambda s: s.update(boxes=[]),
        lambda s: s.update(commitment="not base64!"),
        lambda s: s.update(commitment=b64(b"\x00" * 31)),
        lambda s: s["boxes"].reverse(),
        lambda s: s["boxes"].append(copy.deepcopy(s["boxes"][0])),
        lambda s: s["boxes"][0].update(box=None),
        lambda s: s["boxes"][0].pop("key"),
    ],
)
def test_a_malformed_sealed_part_is_a_broken_seal(damage: Any) -> None:
    sealed = seal({"n": 1}, public(["dec", "insp"]))
    damage(sealed)
    with pytest.raises(SealBroken):
        open_sealed(sealed, "dec", KEYS["dec"])


def test_a_non_canonical_payload_inside_the_ciphertext_is_a_broken_seal() -> None:
    """The commitment matches, but the bytes are not RFC 8785: refused all the same."""
    salt, seed, k = b"\x02" * 32, b"\x03" * 32, b"\x04" * 32
    data = json.dumps({"b": 1, "a": 2}).encode()  # keys out of order, with spaces
    sealed = documented_seal(data, salt, seed, k, public(["dec"]))
    with pytest.raises(SealBroken, match="RFC 8785"):
        open_sealed(sealed, "dec", KEYS["dec"])


def test_seal_refuses_no_recipient_and_a_key_named_for_another_party() -> None:
    with pytest.raises(MalformedInput, match="at least one recipient"):
        seal({"n": 1}, {})
    with pytest.raises(MalformedInput, match="is not dec's"):
        seal({"n": 1}, {"dec": KEYS["insp"].public})


def test_key_strings_round_trip_and_refuse_what_they_are_not() -> None:
    key = KEYS["dec"]
    assert DecryptionKey.from_string(key.string()).secret == key.secret
    assert EncryptionKey.from_string(key.public.string()) == key.public
    text = key.public.string()
    name, kid, key64 = text.split("+", 2)
    assert name == "dec" and base64.b64decode(key64)[0] == 0x58
    assert "PRIVATE" not in text and key64 not in repr(key)
    ed25519 = "dec+" + kid + "+" + b64(b"\x01" + key.public.public_key)
    for bad in [f"dec+00000000+{key64}", ed25519, f"obs+{kid}+{key64}", f"dec+{kid}+{key64[:-4]}"]:
        for _ in range(2):  # a refusal is not remembered: refused the second time too
            with pytest.raises(MalformedInput):
                EncryptionKey.from_string(bad)
    # A string is parsed once (each replay of the governance reads the same keys again).
    assert EncryptionKey.from_string(text) is EncryptionKey.from_string(text)


def test_an_ephemeral_key_not_of_the_seed_is_named() -> None:
    """A seal whose boxes and ciphertext all open, to the same payload, but whose
    ephemeral key was drawn at random rather than derived from the seed inside: the other
    boxes cannot be rebuilt from what the opener read, so the check names the ephemeral
    key (and only it), whoever opens."""
    doc = {"site": "S-1", "items": ["I-1", "I-2"]}
    keys = public(["dec", "insp", "operator"])
    data = canonical_json(doc)
    salt, seed, k = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96))
    sealed = seal(doc, keys, salt=salt, seed=seed, content_key=k)
    opened, check = open_checked(sealed, "operator", KEYS["operator"], keys)
    assert opened.confidential == doc and check() == []
    esk = bytes(range(100, 132))  # not the seed's
    forged = documented_seal(data, salt, seed, k, keys)
    epk = nacl.bindings.crypto_scalarmult_base(esk)
    commitment = base64.b64decode(forged["commitment"])
    forged["epk"] = b64(epk)
    reciphered(forged, seed + salt + pad(data), k)
    for box in forged["boxes"]:
        r = keys[box["to"]].public_key
        shared = nacl.bindings.crypto_scalarmult(esk, r)
        box["box"] = b64(_box(k, shared, epk, r, commitment))
    for name in keys:
        opened, check = open_checked(forged, name, KEYS[name], keys)
        assert opened.confidential == doc  # it opens, to the same payload
        [problem] = check()
        assert problem.location == "sealed.epk"
        assert check_boxes(forged, opened, keys) == [problem]
