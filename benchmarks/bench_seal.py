#!/usr/bin/env python
"""Sealed payloads: sealing to 4 recipients and opening, per event, against Ed25519 signing.

Each figure is a ratio ``signing time / our time`` (1.0: as fast as signing the same
payload's RFC 8785 bytes with Ed25519 through PyNaCl, higher is better), the signing time
measured in the same run:

* ``seal``: ``sealing.seal`` of the confidential part to 4 recipients (RFC 8785 bytes, a
  fresh salt, padding, the commitment, 4 sealed boxes);
* ``open``: ``sealing.opening`` by one recipient (parse, open its box, unpad, check the
  commitment, parse and check the RFC 8785 bytes);
* ``check``: ``sealing.check_boxes`` after an opening (rebuild the 4 boxes from the salt:
  what admission could run to know that every recipient reads the same payload);
* ``primitive``: seal + open + check, the share sealing adds to one event.

And the projection the issue's target is about: ``append_ratio`` = the append path per
event (the author signs, the ledger admits and writes, batches of 100 `estimate.recorded`
events on SQLite) over that path plus the primitive, measured in the same run. It is an
estimate until sealing is in the append path (the next step): it assumes the rest of the
path does not change.

Two sizes of confidential part: ``small`` (an inspection's details, about 300 bytes of
JSON) and ``large`` (a declaration part of 40 items, about 6 KB). The LAST line is one
JSON object. Run ``python benchmarks/bench_seal.py`` (about 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.sealing import check_boxes, opening, seal
from cwledger.model.enckeys import DecryptionKey

RECIPIENTS = ["dec", "insp", "operator", "venue"]


def small() -> dict[str, Any]:
    return {
        "inspection": "I-2014-0117",
        "site": "S-07",
        "site_name": "Storage site 7",
        "location": {"lat": 34.7312, "lon": 36.7094},
        "inspectors": ["A. Inspector", "B. Inspector"],
        "seals": ["SEAL-000411", "SEAL-000412", "SEAL-000413"],
        "notes": "containers counted and sealed; two sampled",
    }


def large(items: int = 40) -> dict[str, Any]:
    return {
        "site": "S-07",
        "location": {"lat": 34.7312, "lon": 36.7094},
        "items": [
            {
                "id": f"C-{i:07d}",
                "kind": "container",
                "chemical": "Chem-A",
                "category": 1,
                "grams": 100_000 + 997 * i,
                "u_grams": 2_500,
                "tag": f"T-{i:07d}",
                "seal": f"SEAL-{i:06d}",
            }
            for i in range(items)
        ],
    }


def per_call(fn: Callable[[], Any], n: int, repeat: int) -> float:
    """The best of `repeat` runs of `n` calls, in seconds per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append(time.perf_counter() - start)
    return min(times) / n


def append_per_event(events: int, repeat: int) -> float:
    """Seconds per event of the append path: signing by the author and `Ledger.append`
    (admission, the book, the store, the tiles), in batches of 100."""
    best = float("inf")
    for r in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            led = Ledger.init(
                Path(tmp) / "l", "bench/seal", founding=[("insp", "inspectorate")], key_seed=b"b"
            )
            try:
                raws = [
                    {
                        "type": "estimate.recorded",
                        "id": f"ev-{r}-{i:06d}",
                        "time": "2014-01-02T10:00:00Z",
                        "body": {
                            "estimate": {
                                "party": "insp",
                                "value": float(i),
                                "u": 1.0,
                                "unit": "t",
                                "method": "open sources",
                                "scope": "total",
                            }
                        },
                    }
                    for i in range(events)
                ]
                start = time.perf_counter()
                for b in range(0, events, 100):
                    led.append(led.sign(raws[b : b + 100], "insp"))
                best = min(best, (time.perf_counter() - start) / events)
            finally:
                led.close()
    return best


def measure(confidential: dict[str, Any], n: int, repeat: int) -> dict[str, Any]:
    keys = {p: DecryptionKey.from_seed(p, b"bench") for p in RECIPIENTS}
    public = {p: k.public for p, k in keys.items()}
    signer = nacl.signing.SigningKey(b"\x01" * 32)
    data = canonical_json(confidential)

    sign_s = per_call(lambda: signer.sign(data), n, repeat)
    seal_s = per_call(lambda: seal(confidential, public), n, repeat)
    sealed = seal(confidential, public)
    open_s = per_call(lambda: opening(sealed, "operator", keys["operator"]), n, repeat)
    opened = opening(sealed, "operator", keys["operator"])
    assert opened.confidential == json.loads(data)
    check_s = per_call(lambda: check_boxes(sealed, opened, public), n, repeat)
    assert check_boxes(sealed, opened, public) == []
    primitive = seal_s + open_s + check_s
    return {
        "bytes": len(data),
        "sealed_bytes": len(canonical_json(sealed)),
        "sign_us": round(sign_s * 1e6, 2),
        "seal_us": round(seal_s * 1e6, 2),
        "open_us": round(open_s * 1e6, 2),
        "check_us": round(check_s * 1e6, 2),
        "seal_ratio": round(sign_s / seal_s, 4),
        "open_ratio": round(sign_s / open_s, 4),
        "check_ratio": round(sign_s / check_s, 4),
        "primitive_us": round(primitive * 1e6, 2),
        "primitive_ratio": round(sign_s / primitive, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="calls per measurement")
    parser.add_argument("--events", type=int, default=2_000, help="events appended")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    result: dict[str, Any] = {"recipients": len(RECIPIENTS)}
    for name, doc in (("small", small()), ("large", large())):
        figures = measure(doc, args.n, args.repeat)
        result[name] = figures
        print(
            f"{name:5} {figures['bytes']:5} B: sign {figures['sign_us']} µs, "
            f"seal {figures['seal_us']} µs ({figures['seal_ratio']}), "
            f"open {figures['open_us']} µs ({figures['open_ratio']}), "
            f"check {figures['check_us']} µs ({figures['check_ratio']})"
        )
        load.append(os.getloadavg()[0])
    append_s = append_per_event(args.events, args.repeat)
    result["append_us"] = round(append_s * 1e6, 1)
    for name in ("small", "large"):
        added = result[name]["primitive_us"] / 1e6
        result[name]["append_ratio"] = round(append_s / (append_s + added), 4)
    print(
        f"append {result['append_us']} µs per event; with sealing (projected): "
        f"small {result['small']['append_ratio']}, large {result['large']['append_ratio']}"
    )
    load.append(os.getloadavg()[0])
    result["loadavg"] = load
    print(json.dumps(result))


if __name__ == "__main__":
    main()
