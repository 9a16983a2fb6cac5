"""The public map of a confidential ledger (issue 16): for an anonymous visitor or an
observer, what can be shown without the declared sites.

Read from public data only, as an observer's own copy of the log would give it:

* the country as a whole: one mark, with the latest published aggregate (committed,
  removed, destroyed, remaining; each proven against the day-one escrow by the entries it
  names);
* out of the country and not yet proven destroyed: the leaves of the escrow proven
  removed by the aggregate's proof entries and not proven destroyed by them, summed (the
  proofs are public: each revealed leaf's index and grams, no item);
* the sites whose record is in an entry's public part: the vessels and the venues abroad
  the inspectorate declares (public, as they were in 2014). A site the declarant declares
  is sealed and never read here;
* the movements and destruction batches as logged: each entry's envelope (type, author,
  time) is public, its body is not. How many were logged, by whom and when; never what,
  from where or how much.

The pure functions take decoded public parts; the page's module reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwledger.model.escrow import PROVED_TYPES, SubsetProved
from cwledger.model.sites import Site

__all__ = [
    "MOVEMENT_TYPES",
    "PublicPlace",
    "Logged",
    "public_places",
    "logged_by_author",
    "out_not_destroyed",
]

MOVEMENT_TYPES = ("transfer.shipped", "transfer.received", "destruction.batch")
"""The event types whose envelopes the public map counts."""


@dataclass(frozen=True)
class PublicPlace:
    """A site whose record an entry holds in its public part, as last declared."""

    site: Site
    entry: int
    declared_by: str

    @property
    def at_sea(self) -> bool:
        """A vessel."""
        return self.site.kind.value == "vessel"


@dataclass(frozen=True)
class Logged:
    """Entries of one type by one author: how many, the first and last event days."""

    event_type: str
    author: str
    count: int
    first: str
    last: str


def public_places(declared: Iterable[tuple[int, str, Site | None]]) -> list[PublicPlace]:
    """The sites of `site.declared` entries ``(index, author, public site or None)``, in log
    order, whose site is public (None: the site is in the sealed part, and is skipped);
    each site as last declared, by id."""
    last: dict[str, PublicPlace] = {}
    for index, author, site in declared:
        if site is not None:
            last[site.id] = PublicPlace(site, index, author)
    return sorted(last.values(), key=lambda p: (not p.at_sea, p.site.name, p.site.id))


def logged_by_author(envelopes: Iterable[tuple[str, str, str]]) -> list[Logged]:
    """Entries ``(type, author, event time)`` counted by type and author, with their first
    and last days; by type as in MOVEMENT_TYPES, then author."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for etype, author, time in envelopes:
        seen[(etype, author)].append(time[:10])
    order = {t: n for n, t in enumerate(MOVEMENT_TYPES)}
    return [
        Logged(etype, author, len(days), min(days), max(days))
        for (etype, author), days in sorted(
            seen.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][1])
        )
    ]


def out_not_destroyed(
    version: int, proofs: Mapping[int, SubsetProved], named: Mapping[int, dict[str, list[int]]]
) -> dict[int, dict[str, Any]]:
    """Per category of an aggregate: the leaves proven removed and not proven destroyed by
    the proof entries it names (``named``: category -> {"removed": [...], "destroyed":
    [...]}, entries of ``proofs``), with their grams and count. A leaf counts once however
    many proofs reveal it; only proofs against the aggregate's `version` count."""
    out: dict[int, dict[str, Any]] = {}
    for category, kinds in named.items():
        leaves: dict[str, dict[int, int]] = {what: {} for what in PROVED_TYPES}
        for what in PROVED_TYPES:
            for entry in kinds.get(what, []):
                body = proofs.get(entry)
                if body is None or body.version != version or body.category != category:
                    continue
                for index, _hash, grams in body.proof.leaves:
                    leaves[what][index] = grams
        away = {i: g for i, g in leaves["removed"].items() if i not in leaves["destroyed"]}
        out[category] = {"grams": sum(away.values()), "items": len(away)}
    return out
