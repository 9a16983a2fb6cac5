"""Sealed payloads (issue 16, section 2): what is sealed opens for each recipient and for
no one else, and any changed byte (of a box, of the commitment, of the salt or the
payload inside a box) is a broken seal, never a payload."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import nacl.public
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.errors import MalformedInput, NotEntitled, SealBroken
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.sealing import (
    MIN_BUCKET,
    SALT_SIZE,
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
    # Every box is as long as the bucket, whatever the payload's size within it.
    sizes = {len(base64.b64decode(b["box"])) for b in sealed["boxes"]}
    assert sizes == {48 + SALT_SIZE + bucket(len(data))}


def test_a_box_is_a_libsodium_sealed_box_with_the_salt_and_the_padded_payload() -> None:
    confidential = {"site": "S-1", "grams": 1234}
    sealed = seal(confidential, public(["dec", "insp"]), salt=b"\x07" * 32)
    box = base64.b64decode(sealed["boxes"][1]["box"])
    plaintext = nacl.public.SealedBox(KEYS["insp"].private_key).decrypt(box)
    assert plaintext == b"\x07" * 32 + pad(canonical_json(confidential))
    assert len(plaintext) == 32 + MIN_BUCKET
    assert sealed["boxes"][1]["key"] == KEYS["insp"].key_id.hex()


def test_two_seals_of_the_same_payload_share_nothing() -> None:
    """A fresh salt: equal payloads are not seen to be equal."""
    a, b = (seal({"grams": 5}, public(["dec"])) for _ in range(2))
    assert a["commitment"] != b["commitment"]
    assert a["boxes"][0]["box"] != b["boxes"][0]["box"]


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
    for n in names:
        with pytest.raises(SealBroken, match="commitment"):
            open_sealed(sealed, n, KEYS[n])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    confidential=json_objects,
    name=st.sampled_from(NAMES),
    at=st.integers(0, 10_000),
    by=st.integers(1, 255),
)
def test_any_changed_byte_of_the_salt_or_payload_inside_a_box_breaks_the_seal(
    confidential: dict[str, Any], name: str, at: int, by: int
) -> None:
    """A box re-made (anyone can seal to a public key) around a plaintext that differs in
    one byte, of the salt or of the padded payload: the commitment does not match it."""
    salt = bytes(range(32))
    sealed = seal(confidential, public([name]), salt=salt)
    plaintext = bytearray(salt + pad(canonical_json(confidential)))
    plaintext[at % len(plaintext)] ^= by
    forged = _box(bytes(plaintext), salt, KEYS[name].public)
    sealed["boxes"][0]["box"] = b64(forged)
    with pytest.raises(SealBroken):
        open_sealed(sealed, name, KEYS[name])


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
    box["box"] = b64(_box(b"\x00" * 300, b"\x01" * 32, DecryptionKey.generate("insp").public))
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
        lambda s: s.update(extra=1),
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


def test_a_non_canonical_payload_inside_a_box_is_a_broken_seal() -> None:
    """The commitment matches, but the bytes are not RFC 8785: refused all the same."""
    salt = b"\x02" * 32
    data = json.dumps({"b": 1, "a": 2}).encode()  # keys out of order, with spaces
    commitment = hashlib.sha256(salt + data).digest()
    box = _box(salt + pad(data), salt, KEYS["dec"].public)
    sealed = {
        "commitment": b64(commitment),
        "boxes": [{"to": "dec", "key": KEYS["dec"].key_id.hex(), "box": b64(box)}],
    }
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
        with pytest.raises(MalformedInput):
            EncryptionKey.from_string(bad)


def test_the_openers_own_box_is_rebuilt_too() -> None:
    """`open_checked` rebuilds the opener's box with the box key its opening computed: a
    box that opens to the same payload but whose ephemeral key is not the one derived
    from the salt (a plain libsodium sealed box, random ephemeral key) is not the box
    `seal` makes, and is named; the others are not."""
    salt = bytes(range(32))
    doc = {"site": "S-1", "items": ["I-1", "I-2"]}
    keys = public(["dec", "insp", "operator"])
    sealed = seal(doc, keys, salt=salt)
    opened, check = open_checked(sealed, "operator", KEYS["operator"], keys)
    assert opened.confidential == doc and check() == []
    plaintext = salt + pad(canonical_json(doc))
    sealed["boxes"][2]["box"] = b64(
        nacl.public.SealedBox(nacl.public.PublicKey(keys["operator"].public_key)).encrypt(plaintext)
    )
    opened, check = open_checked(sealed, "operator", KEYS["operator"], keys)
    assert opened.confidential == doc  # it opens, to the same payload
    [problem] = check()
    assert problem.location == "sealed.boxes[2]"
    assert problem.message == "the box of operator does not hold the same payload"
    assert check_boxes(sealed, opened, keys) == [problem]
