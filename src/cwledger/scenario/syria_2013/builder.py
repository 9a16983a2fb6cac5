"""How the story is written: events numbered in the order they are told, and the few
shapes it tells many times (a day's hour, a transfer there and back, a destruction batch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cwledger.model import Declaration
from cwledger.scenario.syria_2013.world import TS, VENUE_PARTY


@dataclass
class StoryEvent:
    """An event of the scenario before it is signed: its author, type, id, time and body."""

    author: str
    type: str
    id: str
    time: str
    body: dict[str, Any]


@dataclass
class Builder:
    """The events told so far; each gets an id from its type and its number."""

    events: list[StoryEvent] = field(default_factory=list)
    n: int = 0
    escrowed: Declaration | None = None  # the declaration the day-one escrow commits

    def add(self, author: str, type_: str, time: str, body: dict[str, Any]) -> str:
        """Tell one more event; its id."""
        self.n += 1
        eid = f"{type_.split('.')[0]}-{self.n:05d}"
        self.events.append(StoryEvent(author, type_, eid, time, body))
        return eid


def at(day: str, hour: int = 10) -> str:
    """The time `hour` o'clock UTC of `day`."""
    return f"{day}T{hour:02d}:00:00Z"


def days(day: str, n: int) -> str:
    """The day `n` days after `day` (before it if `n` is negative)."""
    d = datetime.fromisoformat(day) + timedelta(days=n)
    return d.strftime("%Y-%m-%d")


def between(first: str, last: str) -> int:
    """The days from `first` to `last`."""
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).days


def move(
    b: Builder,
    tr: str,
    origin: str,
    dest: str,
    ids: list[str],
    day: str,
    arrive: str,
    author: str,
    *,
    seals: dict[str, str] | None = None,
    weighed: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Items shipped on `day` from `origin` and received at `dest` on `arrive`, by 150;
    the seals of `seals` (item: seal) checked by the secretariat at the hand-over, the
    items of `weighed` (item: mass) weighed on receipt."""
    for k in range(0, len(ids), 150):
        part = ids[k : k + 150]
        t = f"{tr}-{k // 150 + 1}"
        for i in part if seals is not None else []:
            assert seals is not None
            b.add(
                TS,
                "seal.checked",
                at(day, 6),
                {"seal": seals[i], "condition": "intact", "method": "visual"},
            )
        b.add(
            author,
            "transfer.shipped",
            at(day, 7),
            {
                "transfer": t,
                "origin": origin,
                "destination": dest,
                "due": at(days(arrive, 3)),
                "items": [{"item": i} for i in part],
            },
        )
        got = [{"item": i} | ({"measured": weighed[i]} if weighed else {}) for i in part]
        b.add(
            author, "transfer.received", at(arrive, 19), {"transfer": t, "site": dest, "items": got}
        )


def batch(
    b: Builder,
    name: str,
    venue: str,
    day: str,
    method: str,
    lines: list[dict[str, Any]],
    products: list[dict[str, Any]] | None = None,
    author: str | None = None,
) -> None:
    """A destruction batch on `day`, recorded by `author` (by default the venue's own party,
    abroad) and verified by the secretariat the same evening: never by its recorder."""
    author = author or VENUE_PARTY[venue]
    if author == TS:
        raise ValueError(f"batch {name}: the secretariat verifies batches, it does not record them")
    body: dict[str, Any] = {
        "batch": name,
        "method": method,
        "venue": venue,
        "start": at(day, 6),
        "end": at(day, 18),
        "items": lines,
    }
    if products:
        body["products"] = products
    b.add(author, "destruction.batch", at(day, 18), body)
    b.add(TS, "destruction.verified", at(day, 20), {"batch": name})
