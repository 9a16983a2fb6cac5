"""Counts in prose: the number and its noun agreeing ("1 item", "31 items", "2 batches")."""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 finding", "2 findings", "1 batch", "3 batches": the count and the noun agreeing."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"
