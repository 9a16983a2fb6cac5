"""The day-one escrow (issue 16 section 4): a declaration committed as one Merkle-sum tree
per CWC category before any detail is disclosed, and the proofs made against it later.

* :mod:`~cwledger.escrow.tree` - item records, salts, keyed leaf order, the trees (pure).
* :mod:`~cwledger.escrow.proofs` - reveals, destroyed and removed totals, diffs, and their
  checks (pure).
* :mod:`~cwledger.escrow.secrets` - the declarant's escrow file (0600, atomic writes).

The events are in :mod:`cwledger.model.escrow`, their rules in
:mod:`cwledger.book.rules.escrow`, the format in ``docs/escrow.md``.
"""

from __future__ import annotations

from cwledger.escrow.proofs import (
    DIFF_FORMAT,
    REVEAL_FORMAT,
    CategoryDiff,
    Commitments,
    ItemCheck,
    check_diff,
    check_opening,
    check_reveal,
    diff_proof,
    load_json,
    proved_bodies,
    reveal,
)
from cwledger.escrow.secrets import EscrowSecrets, escrow_path
from cwledger.escrow.tree import EscrowTree, Leaf, build_trees, escrow_items, position_key

__all__ = [
    "DIFF_FORMAT",
    "REVEAL_FORMAT",
    "CategoryDiff",
    "Commitments",
    "EscrowSecrets",
    "EscrowTree",
    "ItemCheck",
    "Leaf",
    "build_trees",
    "check_diff",
    "check_opening",
    "check_reveal",
    "diff_proof",
    "escrow_items",
    "escrow_path",
    "load_json",
    "position_key",
    "proved_bodies",
    "reveal",
]
