"""RFC 9162 section 2.1 hashing: leaf hashes, interior node hashes and the empty root.

A transparency log built on SHA-256 separates its two kinds of hash by a one-byte prefix
(RFC 9162 section 2.1.1) so that a leaf can never be passed off as an interior node:

* ``leaf_hash(d)    = SHA-256(0x00 || d)``
* ``node_hash(l, r) = SHA-256(0x01 || l || r)``
* ``MTH({})         = SHA-256("")`` (``EMPTY_ROOT``)

These functions sit on the hot path of every tree operation, so they call
``hashlib.sha256`` directly and check nothing: ``node_hash`` accepts children of any
length (the RFC 6962 test vectors use short ones). Callers that take hashes from untrusted
input check their length themselves (see :mod:`cwledger.tlog.verify`).
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "leaf_hash", "node_hash"]

_sha256 = hashlib.sha256

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""MTH of the empty list: SHA-256 of the empty string (RFC 9162 section 2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 section 2.1.1 leaf hash ``SHA-256(0x00 || data)``.

    ``data`` is the raw leaf input, of any length (the empty string included).
    Raises nothing for bytes input.
    """
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 section 2.1.1 interior hash ``SHA-256(0x01 || left || right)``.

    The children are not length-checked (the RFC 6962 hasher vectors use 4-byte ones).
    Raises nothing for bytes input.
    """
    return _sha256(b"\x01" + left + right).digest()
