#!/usr/bin/env python
"""Sealed payloads: sealing to 4 recipients and opening, per event, against Ed25519 signing.

Each figure is a ratio ``signing time / our time`` (1.0: as fast as signing the same
payload's RFC 8785 bytes with Ed25519 through PyNaCl, higher is better), the signing time
measured in the same run:

* ``seal``: ``sealing.seal`` of the confidential part to 4 recipients (format 2: RFC 8785
  bytes, fresh salt, seed and content key, padding, the commitment, the ephemeral key, the
  ciphertext, 4 boxes);
* ``open``: ``sealing.opening`` by one recipient (parse, open its box and the ciphertext,
  unpad, check the commitment, parse and check the RFC 8785 bytes);
* ``check``: ``sealing.check_boxes`` after an opening (rebuild the ephemeral key and the 4
  boxes from the seed: what admission runs to know that every recipient reads the same
  payload); opening and check each as for a seal not seen before (`forget`);
* ``primitive``: seal + open + check, the share sealing adds to one event.

And the projection the issue's target is about: ``append_ratio`` = the append path per
event (the author signs, the ledger admits and writes, batches of 100 `estimate.recorded`
events on SQLite) over that path plus the primitive, measured in the same run. It is an
estimate until sealing is in the append path (the next step): it assumes the rest of the
path does not change.

Two sizes of confidential part: ``small`` (an inspection's details, about 300 bytes of
JSON) and ``large`` (a declaration part of 40 items, about 6 KB). The LAST line is one
JSON object. Run ``python benchmarks/bench_seal.py`` (about 30 s).

``--append``: the whole append path with sealing, measured. The same ``--events`` item
taggings (2,000; all three fields protected, so the whole body is sealed, to 4 readers:
operator, insp the author, dec, venue), signed beforehand, are appended in batches of 100
to a confidential ledger and to one that is not (the limit), all after the same
declaration of as many items: ``conf``, signed by ``Ledger.sign`` (a fresh ephemeral key
per seal), and ``group``, signed with one ``SealGroup`` per ``--group`` events (100: the
seals of one signing call to the same readers share their ephemeral key; what
``Ledger.sign`` does once it passes a group, NOTES-FOR-MAIN.md). Sealing is the author's
work on its own machine, like signing: ``seal_us`` (sealing per event, ``Ledger.sign`` of
the confidential ledger less that of the other) is measured apart, outside the path, and
what the author's process remembers of its X25519s is dropped before the appends. The
ledgers take turns, a ``--segment`` of batches each (the order rotating) so that all see
the same load; ``ratio`` = plain time / sealed time (target: at least 0.6), beside the
median of the segments' ratios and the ratio of process CPU times (the work, whatever
the load); ``group_`` the same for the grouped ledger. ``--profile FILE`` writes cProfile
data of each side to FILE.plain, FILE.conf and FILE.group.
Run ``python benchmarks/bench_seal.py --append`` (about 30 s).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

from cwledger.book.records import ItemRecord
from cwledger.ledger import sealing
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.sealing import check_boxes, opening, seal
from cwledger.model.enckeys import DecryptionKey

perf = time.perf_counter
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


def forget() -> None:
    """Drop the X25519 results the opening and the checks remember (`sealing._x25519`)."""
    sealing._x25519.cache_clear()
    sealing._ephemeral.cache_clear()


def measure(confidential: dict[str, Any], n: int, repeat: int) -> dict[str, Any]:
    keys = {p: DecryptionKey.from_seed(p, b"bench") for p in RECIPIENTS}
    public = {p: k.public for p, k in keys.items()}
    signer = nacl.signing.SigningKey(b"\x01" * 32)
    data = canonical_json(confidential)

    sign_s = per_call(lambda: signer.sign(data), n, repeat)
    seal_s = per_call(lambda: seal(confidential, public), n, repeat)
    sealed = seal(confidential, public)
    # Each call as on a seal not seen before: without the X25519s the log remembers.
    open_s = per_call(lambda: (forget(), opening(sealed, "operator", keys["operator"])), n, repeat)
    opened = opening(sealed, "operator", keys["operator"])
    assert opened.confidential == json.loads(data)
    check_s = per_call(lambda: (forget(), check_boxes(sealed, opened, public)), n, repeat)
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


# -- the append path with sealing (--append) -------------------------------------------------

FOUNDING = [
    ("insp", "inspectorate"),
    ("dec", "declarant"),
    ("venue", "destruction_facility"),
    ("obs", "observer"),
]
"""With the operator: the 4 readers of an inspectorate's item tagging (all its fields are
protected): operator, insp (the author), dec, venue; the observer reads none."""


def _declared(path: Path, confidential: bool, items: int) -> Ledger:
    """A ledger (`confidential` or not) whose declarant declared `items` items at S-1."""
    led = Ledger.init(
        path,
        "bench/seal",
        founding=FOUNDING,
        key_seed=b"b",
        time="2013-09-14T00:00:00Z",
        confidential=confidential,
    )
    mass = {"kg": 1000.0, "u_random_kg": 2.0, "u_systematic_kg": 0.0, "method": "weighing"}
    chemical = {"label": "DF", "cwc_category": 1, "removal_priority": "1"}
    site = {"id": "S-1", "name": "Site S-1", "kind": "storage", "party": "dec"}
    site["coordinates"] = {"lat": 34.5, "lon": 36.7}
    # Parts of 20 items: `declaration_parts` fills a part to 39,000 bytes, which sealed
    # (padded to 64 KiB, boxed to each reader, base64 twice) outgrows an entry.
    per = 20
    count = -(-items // per)
    parts = []
    for k in range(count):
        body: dict[str, Any] = {"version": 1, "part": k + 1, "parts": count}
        if k == 0:
            body |= {"legal_basis": "EC-M-33/DEC.1", "due": "2013-10-27"}
            body |= {"chemicals": [chemical], "sites": [site]}
        body["items"] = [
            {"id": f"I-{i:06d}", "kind": "container", "chemical": "DF", "declared": mass}
            | {"site": "S-1"}
            for i in range(k * per, min(items, (k + 1) * per))
        ]
        raw = {"type": "declaration.submitted", "id": f"decl-{k + 1}"}
        parts.append(raw | {"time": "2013-10-01T00:00:00Z", "body": body})
    led.append(led.sign(parts, "dec"))
    return led


def _tagging(events: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "item.tagged",
            "id": f"tag-{i:06d}",
            "time": f"2014-01-{2 + i // 100_000:02d}T10:00:00Z",
            "body": {"item": f"I-{i:06d}", "tag": f"T-{i:06d}", "site": "S-1"},
        }
        for i in range(events)
    ]


SIDES = ("plain", "conf", "group")
"""The ledgers of --append: not confidential (the limit); confidential, each event signed
by its own `Ledger.sign` call (a fresh ephemeral key per seal); confidential, signed by
`Ledger.sign` calls of `--group` events (one `SealGroup` a call: the seals of that call to
the same readers share their ephemeral key)."""


def append_sealed(
    events: int, batch: int, segment: int, group: int, profile: str | None
) -> dict[str, Any]:
    """The append path of `events` item taggings (batches of `batch`, signed beforehand) to
    a confidential ledger (4 recipients) sealed per event, to one sealed per signing call of
    `group` events, and to one that is not (the limit), taking turns a `segment` of
    batches each (the order rotating) so that all see the same load."""
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        leds = {name: _declared(Path(tmp) / name, name != "plain", events) for name in SIDES}
        try:
            raws = _tagging(events)
            # The author's work, on its own machine: sealing (confidential only) and signing.
            start = perf()
            signed = {"plain": leds["plain"].sign(raws, "insp")}
            sign_s = perf() - start
            start = perf()
            signed["conf"] = [env for raw in raws for env in leds["conf"].sign([raw], "insp")]
            seal_sign_s = perf() - start
            start = perf()
            signed["group"] = [
                env
                for at in range(0, events, group)
                for env in leds["group"].sign(raws[at : at + group], "insp")
            ]
            group_sign_s = perf() - start
            forget()  # the author's process is not the log's: what it remembers is not the log's
            body = json.loads(base64.b64decode(json.loads(signed["conf"][0])["payload"]))["body"]
            recipients = [b["to"] for b in body["sealed"]["boxes"]]
            assert recipients == ["dec", "insp", "operator", "venue"], recipients
            sizes = {n: statistics.mean(len(e) for e in signed[n]) for n in SIDES}
            load.append(os.getloadavg()[0])
            batches = [(b, b + batch) for b in range(0, events, batch)]
            times = dict.fromkeys(SIDES, 0.0)
            cpu = dict.fromkeys(SIDES, 0.0)
            ratios: dict[str, list[float]] = {"conf": [], "group": []}
            profs = {n: cProfile.Profile() for n in SIDES} if profile else {}
            for s, at in enumerate(range(0, len(batches), segment)):
                seg = batches[at : at + segment]
                took = {}
                k = s % len(SIDES)
                for name in SIDES[k:] + SIDES[:k]:
                    led = leds[name]
                    if name in profs:
                        profs[name].enable()
                    start, start_cpu = perf(), time.process_time()
                    for lo, hi in seg:
                        led.append(signed[name][lo:hi])
                    took[name] = perf() - start
                    cpu[name] += time.process_time() - start_cpu
                    if name in profs:
                        profs[name].disable()
                    times[name] += took[name]
                for name in ratios:
                    ratios[name].append(took["plain"] / took[name])
            load.append(os.getloadavg()[0])
            for name in ("conf", "group"):
                with leds[name].store.read() as r:
                    tagged = r.book.get(ItemRecord, f"I-{events - 1:06d}")
                assert tagged is not None and tagged.tag == f"T-{events - 1:06d}"
            for name, prof in profs.items():
                prof.dump_stats(f"{profile}.{name}")
        finally:
            for led in leds.values():
                led.close()
    fig: dict[str, Any] = {
        "events": events,
        "batch": batch,
        "group": group,
        "recipients": len(recipients),
        "sign_us": round(sign_s / events * 1e6, 1),
        "seal_us": round((seal_sign_s - sign_s) / events * 1e6, 1),
        "group_seal_us": round((group_sign_s - sign_s) / events * 1e6, 1),
        "entry_bytes": {n: round(sizes[n]) for n in SIDES},
        "plain_eps": round(events / times["plain"]),
    }
    for name in ("conf", "group"):
        prefix = "" if name == "conf" else "group_"
        fig[f"{prefix}sealed_eps"] = round(events / times[name])
        fig[f"{prefix}ratio"] = round(times["plain"] / times[name], 4)
        fig[f"{prefix}segment_ratio_median"] = round(statistics.median(ratios[name]), 4)
        fig[f"{prefix}cpu_ratio"] = round(cpu["plain"] / cpu[name], 4)
    fig["loadavg"] = load
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="calls per measurement")
    parser.add_argument("--events", type=int, default=2_000, help="events appended")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--append", action="store_true", help="the append path with sealing against without"
    )
    parser.add_argument("--batch", type=int, default=100, help="events per append (--append)")
    parser.add_argument("--segment", type=int, default=1, help="batches per turn (--append)")
    parser.add_argument(
        "--group", type=int, default=100, help="events per signing call sharing a SealGroup"
    )
    parser.add_argument(
        "--profile", help="cProfile the appends into FILE.plain, FILE.conf and FILE.group"
    )
    args = parser.parse_args()
    if args.append:
        fig = append_sealed(args.events, args.batch, args.segment, args.group, args.profile)
        print(
            f"append {fig['events']} events in batches of {fig['batch']}, "
            f"{fig['recipients']} recipients: plain {fig['plain_eps']} ev/s; "
            f"sealed {fig['sealed_eps']} ev/s, ratio {fig['ratio']} "
            f"(median of segments {fig['segment_ratio_median']}, CPU time {fig['cpu_ratio']}); "
            f"sealed in groups of {fig['group']}: {fig['group_sealed_eps']} ev/s, "
            f"ratio {fig['group_ratio']} (median of segments {fig['group_segment_ratio_median']},"
            f" CPU time {fig['group_cpu_ratio']}); author side: sign {fig['sign_us']} µs, "
            f"seal {fig['seal_us']} µs per event ({fig['group_seal_us']} µs in groups)"
        )
        print(json.dumps(fig))
        return
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
