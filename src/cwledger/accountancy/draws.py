"""Verifiable random selection on the ledger (METHODS 1.3): every input is a signed entry.

The inspectorate logs a commitment to a secret and names a future size of this log; the
population is what the book held at the site when the commitment was logged; the seed is
SHA-256(secret || the root of the log when the declaration then in force was complete ||
the root at the named size || plan id); the items are ranked by HMAC-SHA256(seed, id).
Once the secret is revealed, anyone recomputes the draw from the log alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cwledger.accountancy.selection import check_selection, select, selection_seed
from cwledger.book.progress import load_facts
from cwledger.book.records import SelectionRecord
from cwledger.errors import VerificationError

if TYPE_CHECKING:
    from cwledger.store import LogReader
    from cwledger.tlog.tiled import TiledTree

__all__ = ["DrawInputs", "draw_inputs", "draw", "check_draw"]


@dataclass(frozen=True)
class DrawInputs:
    """What a draw is computed from, each traceable to entries of the log."""

    plan: str
    n: int
    population: list[str]
    declaration_root: bytes
    declaration_size: int
    randomness: bytes
    randomness_size: int
    commitment: str


def draw_inputs(reader: LogReader, tree: TiledTree, plan: str) -> DrawInputs:
    """The inputs of a committed selection. Raises VerificationError if the log lacks them."""
    rec = reader.book.get(SelectionRecord, plan)
    if rec is None:
        raise VerificationError(f"no selection {plan} was committed")
    if tree.size < rec.randomness_size:
        raise VerificationError(
            f"selection {plan} draws on the root of size {rec.randomness_size}; the log has"
            f" {tree.size} entries"
        )
    decl = load_facts(reader.book).declaration_at(rec.committed_at)
    if decl is None:
        raise VerificationError(f"no declaration was complete when selection {plan} was committed")
    size = max(decl.entries) + 1
    population = sorted(p.item for p in reader.book.items_at(rec.site, rec.committed_at))
    return DrawInputs(
        plan,
        rec.n,
        population,
        tree.root(size),
        size,
        tree.root(rec.randomness_size),
        rec.randomness_size,
        rec.commitment,
    )


def draw(inputs: DrawInputs, secret: bytes) -> list[str]:
    """The items selected with this secret."""
    seed = selection_seed(secret, inputs.declaration_root, inputs.randomness, inputs.plan)
    return select(seed, inputs.population, min(inputs.n, len(inputs.population)))


def check_draw(reader: LogReader, tree: TiledTree, plan: str) -> DrawInputs:
    """Recompute a revealed selection from the log. Raises VerificationError on mismatch."""
    inputs = draw_inputs(reader, tree, plan)
    rec = reader.book.get(SelectionRecord, plan)
    assert rec is not None
    if rec.secret is None:
        raise VerificationError(f"selection {plan} is not revealed yet")
    check_selection(
        bytes.fromhex(rec.secret),
        rec.commitment,
        inputs.declaration_root,
        inputs.randomness,
        plan,
        inputs.population,
        min(rec.n, len(inputs.population)),
        rec.selected,
    )
    return inputs
