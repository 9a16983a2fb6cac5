"""Unpredictable, verifiable selection of the items to inspect (METHODS 1.3).

1. The state's declaration root R is in the log.
2. The inspectorate logs ``c = SHA-256("cwledger/sel/v1" || s)`` for a secret ``s`` and names
   a future beacon round.
3. ``seed = SHA-256(s || R || beacon || plan_id)``.
4. ``k_i = HMAC-SHA256(seed, item_id)``; the ``n`` smallest keys are a uniform sample
   without replacement (bottom-k). Weighted by tonnes: Efraimidis-Spirakis keys
   ``u_i^(1/w_i)``, ``u_i`` in (0, 1) from ``k_i``, the ``n`` largest.
5. The secret is revealed at (or after) the inspection; anyone recomputes the draw.

Item ids are hashed as their UTF-8 bytes, exactly as given: the ids must be the canonical
ones the declaration commits to.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from cwledger.errors import VerificationError

__all__ = [
    "DOMAIN",
    "commitment",
    "selection_seed",
    "combine_randomness",
    "item_key",
    "rank",
    "select",
    "select_weighted",
    "check_selection",
]

DOMAIN = b"cwledger/sel/v1"
MIN_SECRET_BYTES = 16  # a shorter secret could be brute-forced from its commitment


def _secret(secret: bytes) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"secret must have at least {MIN_SECRET_BYTES} random bytes (32 recommended), "
            f"not {len(secret)}"
        )
    return secret


def commitment(secret: bytes) -> str:
    """The commitment to log before the beacon round: hex SHA-256(DOMAIN || secret)."""
    return hashlib.sha256(DOMAIN + _secret(secret)).hexdigest()


_commitment = commitment  # check_selection's parameter of the same name shadows it


def selection_seed(
    secret: bytes, declaration_root: bytes, randomness: bytes, plan_id: str
) -> bytes:
    """SHA-256(secret || declaration_root || randomness || plan_id as UTF-8)."""
    if not declaration_root:
        raise ValueError("declaration_root must not be empty")
    if not randomness:
        raise ValueError("randomness (the beacon output) must not be empty")
    if not plan_id:
        raise ValueError("plan_id must not be empty")
    material = _secret(secret) + declaration_root + randomness + plan_id.encode("utf-8")
    return hashlib.sha256(material).digest()


def combine_randomness(*outputs: bytes) -> bytes:
    """Several beacon outputs hashed into one (SHA-256 of length-prefixed outputs).

    One honest beacon among them is enough: none can steer the combination without
    knowing the others' outputs in advance.
    """
    if not outputs:
        raise ValueError("combine_randomness needs at least one beacon output")
    h = hashlib.sha256(b"cwledger/beacons/v1")
    for out in outputs:
        if not out:
            raise ValueError("a beacon output must not be empty")
        h.update(len(out).to_bytes(8, "big") + out)
    return h.digest()


def item_key(seed: bytes, item_id: str) -> bytes:
    """HMAC-SHA256(seed, item_id): the item's sort key for this draw."""
    return hmac.new(seed, item_id.encode("utf-8"), hashlib.sha256).digest()


def _unique(item_ids: Iterable[str]) -> list[str]:
    ids = list(item_ids)
    if len(set(ids)) != len(ids):
        dup = sorted(i for i, c in Counter(ids).items() if c > 1)
        raise ValueError(f"item_ids must be unique; repeated: {_few(dup)}")
    return ids


def rank(seed: bytes, item_ids: Iterable[str]) -> list[str]:
    """All items, smallest HMAC key first: any prefix is a uniform sample without replacement."""
    if not seed:
        raise ValueError("seed must not be empty")
    return sorted(_unique(item_ids), key=lambda i: (item_key(seed, i), i))


def _size(n: int, population: int) -> int:
    if not 0 <= n <= population:
        raise ValueError(f"n must be between 0 and the {population} items, not {n}")
    return n


def select(seed: bytes, item_ids: Iterable[str], n: int) -> list[str]:
    """The ``n`` items with the smallest keys, in rank order (bottom-k)."""
    ranked = rank(seed, item_ids)
    return ranked[: _size(n, len(ranked))]


def _uniform(key: bytes) -> float:
    """A number strictly inside (0, 1) from the top 53 bits of a key."""
    return ((int.from_bytes(key[:8], "big") >> 11) + 0.5) / 2.0**53


def select_weighted(seed: bytes, items: Mapping[str, float], n: int) -> list[str]:
    """``n`` items drawn with probability proportional to weight, without replacement.

    Efraimidis-Spirakis: key ``u^(1/w)`` (compared as ``ln(u)/w``, which cannot underflow),
    the ``n`` largest first. Weights (e.g. tonnes) must be positive and finite.
    """
    if not seed:
        raise ValueError("seed must not be empty")
    for item_id, w in items.items():
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"weight of item {item_id!r} must be positive and finite, not {w!r}")
    _size(n, len(items))

    def es_key(item_id: str) -> tuple[float, bytes, str]:
        k = item_key(seed, item_id)
        return (-math.log(_uniform(k)) / items[item_id], k, item_id)

    return sorted(items, key=es_key)[:n]


def check_selection(
    secret: bytes,
    commitment: str,
    root: bytes,
    randomness: bytes,
    plan_id: str,
    item_ids: Sequence[str] | Mapping[str, float],
    n: int,
    claimed: Iterable[str],
) -> None:
    """Recompute a draw from its logged inputs; raise VerificationError if it does not match.

    ``item_ids`` is the population: a sequence for a uniform draw, or a mapping of item id
    to weight for a weighted one. The claimed selection is compared as a set (the order of
    the inspection does not matter); an item claimed twice does not match.
    """
    expected_c = _commitment(secret)
    if not hmac.compare_digest(expected_c, commitment.strip().lower()):
        raise VerificationError(
            f"commitment does not match: the revealed secret commits to {expected_c}, "
            f"the logged commitment is {commitment}"
        )
    seed = selection_seed(secret, root, randomness, plan_id)
    if isinstance(item_ids, Mapping):
        drawn = select_weighted(seed, item_ids, n)
    else:
        drawn = select(seed, item_ids, n)
    got = list(claimed)
    if len(got) == len(drawn) and set(got) == set(drawn):
        return
    extra = sorted(set(got) - set(drawn))
    missing = sorted(set(drawn) - set(got))
    parts = [f"claimed {len(got)} items, the draw gives {len(drawn)}"]
    if extra:
        parts.append(f"claimed but not drawn: {_few(extra)}")
    if missing:
        parts.append(f"drawn but not claimed: {_few(missing)}")
    if not extra and not missing:
        parts.append("an item is claimed more than once")
    raise VerificationError(f"selection does not match ({plan_id}): " + "; ".join(parts))


def _few(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
