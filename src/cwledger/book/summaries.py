"""One line on what an event says about an item, for its chain of custody.

Each function takes the event's body (as logged, JSON) and the item's id; the registry
(``cwledger.book.registry``) names the summary of each event type of the chain of custody.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "declared",
    "tagged",
    "seal_applied",
    "seal_checked",
    "seal_removed",
    "shipped",
    "received",
    "inventory",
    "sample_taken",
    "sample_result",
    "destruction",
    "verified",
]


def _line_mass(lines: list[dict[str, Any]], item: str, key: str = "measured") -> str:
    for line in lines:
        if line.get("item") == item and isinstance(line.get(key), dict):
            return f", {line[key]['kg']:,.3f} kg measured"
    return ""


def declared(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    return f"declared in version {b['version']} (part {b['part']} of {b['parts']})"


def tagged(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    return f"tag {b['tag']} fixed at {b['site']}"


def seal_applied(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    return f"seal {b['seal']} ({b['type']}) applied"


def seal_checked(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    return f"seal {b['seal']} checked: {b['condition']}"


def seal_removed(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    return f"seal {b['seal']} removed: {b['reason']}"


def shipped(b: dict[str, Any], item: str) -> str:
    mass = _line_mass(b["items"], item)
    return f"shipped {b['origin']} -> {b['destination']} (transfer {b['transfer']}){mass}"


def received(b: dict[str, Any], item: str) -> str:
    mass = _line_mass(b["items"], item)
    return f"received at {b['site']} (transfer {b['transfer']}){mass}"


def inventory(b: dict[str, Any], item: str) -> str:
    return f"found at the inventory of {b['site']}" + _line_mass(b["items"], item)


def sample_taken(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    return f"sample {b['sample']} taken at {b['site']}"


def sample_result(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    verdict = "confirmed" if b["identity_confirmed"] else "NOT confirmed"
    return f"sample {b['sample']}: identity {verdict}"


def destruction(b: dict[str, Any], item: str) -> str:
    for line in b["items"]:
        if line["item"] == item:
            kg = "all held" if line.get("kg") is None else f"{line['kg']:,.3f} kg"
            return f"destroyed ({kg}) in batch {b['batch']} at {b['venue']}"
    return f"produced by batch {b['batch']} at {b['venue']}"


def verified(b: dict[str, Any], item: str) -> str:  # noqa: ARG001
    verdict = "verified" if b.get("confirmed", True) else "NOT confirmed"
    return f"destruction batch {b['batch']} {verdict}"
