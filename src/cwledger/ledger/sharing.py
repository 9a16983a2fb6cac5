"""A recipient added later: earlier sealed payloads shared with one more party (issue 16;
docs/sealing.md, "Sharing later").

A ``payload.shared`` governance entry names a party, its encryption key in force at the
entry and, for each earlier entry it shares, a shared copy: that entry's salt and
confidential part sealed to the party alone, under a seed and a content key derived one
way from the entry's seed (``sealing.reseal``: deterministic, and never the entry's seed,
which would open the entry's whole seal group). So:

- the new recipient opens the copy against the entry's own commitment (`shared_part`
  gives the sealed part it opens: the entry's commitment and the copy), and reads
  exactly what the entry's other readers read, or finds that it does not;
- the log takes the entry only when, for each entry named, the sender is the operator or
  that entry's author, the entry has a sealed part, the party is cleared above public
  (``confidential.never_named``: sharing lifts it, as naming does, to that entry's
  class), and the copy rebuilt from what the operator's own box of that entry holds is
  the copy sent, byte for byte (`check_share`).

The entries' own bytes never change: a share is a new entry, and who reads what stays
part of what the log proves. Pure functions; the entries and keys are passed in.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cwledger.errors import KeyNotFound, MalformedInput, NotEntitled, Problem, SealBroken
from cwledger.ledger.admission import DecodedEntry, decode_entry
from cwledger.ledger.authority import Authority
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.confidential import OPERATOR, KeyLookup, never_named, operator_box_key
from cwledger.ledger.sealing import opening, reseal, resealed_part
from cwledger.model.enckeys import DecryptionKey, EncryptionKey
from cwledger.model.events import PAYLOAD_SHARED, PayloadSharedBody
from cwledger.store import LogReader, StoredEntry

__all__ = [
    "share_box",
    "share_events",
    "shared_part",
    "check_share",
    "entry_at",
    "shared_boxes",
    "MAX_SHARE_BYTES",
]

MAX_SHARE_BYTES = 40_000
"""The most base64 bytes of boxes one ``payload.shared`` entry carries (`Ledger.share`
sends more as several entries), well within an entry's 64 KiB."""

EntryAt = Callable[[int], DecodedEntry | None]
"""The decoded entry at a log index before the one judged, or None if there is none."""


def share_box(
    sealed: object, opener: str, key: DecryptionKey, to: EncryptionKey, entry: int
) -> str:
    """The shared copy (base64) of entry `entry`'s sealed part for `to`, made by the party
    `opener` whose box `key` opens (`sealing.reseal`: the same salt and plaintext, so it
    checks against the entry's commitment). Raises NotEntitled (no box for `opener`) or
    SealBroken."""
    opened = opening(sealed, opener, key)
    return base64.b64encode(reseal(opened, to, entry)).decode()


def share_events(
    reader: LogReader,
    authority: Authority,
    entries: Iterable[int],
    party: str,
    sender: str,
    key: KeyLookup,
) -> list[dict[str, Any]]:
    """The ``payload.shared`` events (type, id, body; no time) by which `sender` shares
    the sealed payloads of `entries` with `party`: `sender` opens its own box of each with
    `key` (its decryption keys by key id) and seals the same payload to `party`'s key in
    force, at most MAX_SHARE_BYTES of boxes an event. The id is the body's digest: the
    same share sent again is the same event. Raises MalformedInput (an entry without a
    sealed part, a party without an encryption key), NotEntitled (`sender` has no box in
    an entry), KeyNotFound (its key that opens one is not at hand), SealBroken."""
    rec = authority.encryption_key(party)
    if rec is None:
        raise MalformedInput(f"{party!r} has no encryption key: nothing can be shared with it")
    groups: list[list[dict[str, Any]]] = []
    size = MAX_SHARE_BYTES
    for n in sorted(set(entries)):
        stored = reader.entries(n, n + 1)
        d = decode_entry(stored[0].envelope, check_canonical=False) if stored else None
        if d is None or d.sealed is None:
            raise MalformedInput(f"entry {n} has no sealed part to share")
        mine = [b for b in d.sealed.get("boxes", []) if b.get("to") == sender]
        if not mine:
            raise NotEntitled(f"entry {n} is not sealed to {sender}: it cannot share it")
        dk = key(str(mine[0].get("key")))
        if dk is None:
            raise KeyNotFound(f"{sender} has no encryption key {mine[0].get('key')} here")
        box = share_box(d.sealed, sender, dk, rec.key, n)
        if size + len(box) > MAX_SHARE_BYTES or len(groups[-1]) >= 1000:
            groups.append([])
            size = 0
        groups[-1].append({"entry": n, "box": box})
        size += len(box)
    out = []
    for group in groups:
        body = {"party": party, "key": rec.key_id, "boxes": group}
        digest = hashlib.sha256(canonical_json(body)).hexdigest()[:24]
        out.append(
            {"type": PAYLOAD_SHARED, "id": f"{PAYLOAD_SHARED}:{party}:{digest}", "body": body}
        )
    return out


def entry_at(
    reader: LogReader, size: int, new: Sequence[StoredEntry], n: int
) -> DecodedEntry | None:
    """The entry at index `n`: in the log (of `size` entries) that `reader` reads, or
    among the entries `new` admitted after it in the batch being judged."""
    if n >= size:
        return (
            decode_entry(new[n - size].envelope, check_canonical=False)
            if n - size < len(new)
            else None
        )
    stored = reader.entries(n, n + 1)
    return decode_entry(stored[0].envelope, check_canonical=False) if stored else None


def shared_part(sealed: Mapping[str, Any], party: str, key_id: str, box: str) -> dict[str, Any]:
    """The sealed part a shared copy is opened as: the entry's own commitment, and the
    copy's ephemeral key, box and ciphertext (`sealing.resealed_part`; opening it checks
    the copy against the commitment). SealBroken for a copy that is not base64 or too
    short."""
    try:
        copy = base64.b64decode(box, validate=True)
    except (ValueError, TypeError):
        raise SealBroken("a shared copy is not base64") from None
    return resealed_part(sealed["commitment"], party, key_id, copy)


def check_share(
    d: DecodedEntry, authority: Authority, index: int, entry_at: EntryAt, operator_key: KeyLookup
) -> list[Problem]:
    """Every reason the entry `d` at `index`, when it is a ``payload.shared``, may not go
    in (module doc); empty if it may (or it is another event). `authority` is the one in
    force at `index`."""
    body, sender = d.body, d.event.author
    if not isinstance(body, PayloadSharedBody):
        return []
    rec = authority.encryption_key(body.party, index)
    party = authority.parties.get(body.party)
    if rec is None or party is None or rec.key_id != body.key:
        return []  # the authority refuses it (Authority.check) and says why
    to = rec.key
    why = never_named(authority, body.party)
    if why is not None:
        return [Problem("payload.body.party", why)]
    problems: list[Problem] = []
    for i, shared in enumerate(body.boxes):
        where = f"payload.body.boxes[{i}]"
        n = shared.entry
        e = entry_at(n) if n < index else None
        if e is None or e.sealed is None:
            problems.append(Problem(where, f"entry {n} is not an earlier entry with a sealed part"))
            continue
        if sender not in (OPERATOR, e.event.author):
            problems.append(
                Problem(
                    where,
                    f"only the {OPERATOR} or the author of entry {n} ({e.event.author}) may"
                    " share it",
                )
            )
            continue
        kid = operator_box_key(e.sealed)
        dk = None if kid is None else operator_key(kid)
        if dk is None:
            problems.append(
                Problem(where, f"the {OPERATOR}'s key that opens entry {n} is not at hand")
            )
            continue
        try:
            opened = opening(e.sealed, OPERATOR, dk)
            if base64.b64encode(reseal(opened, to, n)).decode() != shared.box:
                problems.append(Problem(where, f"the box does not hold the payload of entry {n}"))
        except (SealBroken, NotEntitled) as why:
            problems.append(Problem(where, f"entry {n}: {why}"))
    return problems


def shared_boxes(entries: Iterable[bytes], party: str) -> dict[int, list[dict[str, Any]]]:
    """Every box shared with `party` by the ``payload.shared`` envelopes `entries` (in
    log order), by the entry it opens: each as a box of a sealed part (to, key, box), the
    oldest first (a later share, e.g. to a new key after a lost one, comes after)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for data in entries:
        d = decode_entry(data, check_canonical=False)
        if d.event.type != PAYLOAD_SHARED or not isinstance(d.body, PayloadSharedBody):
            continue
        if d.body.party != party:
            continue
        for b in d.body.boxes:
            out.setdefault(b.entry, []).append({"to": party, "key": d.body.key, "box": b.box})
    return out
