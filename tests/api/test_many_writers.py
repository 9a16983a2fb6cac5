"""Many writers at once through the HTTP API on PostgreSQL: 8 processes submit 500 events
each to one server (two worker processes); the database's sequencer alone orders them."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import httpx

from cwledger.api.process import spawn
from cwledger.ledger.access import issue_token
from cwledger.ledger.audit import audit
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.keystore import Keystore
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import check_book
from cwledger.model.events import Event
from cwledger.tlog.verify import verify_consistency
from tests.conftest import FOUNDING, ORIGIN, estimate

WRITERS, EACH = 8, 500


def _writer(base: str, keys: str, party: str, token: str, n: int, out: str) -> None:
    """Sign and submit `EACH` events one request at a time; write the receipts to `out`."""
    signer = Keystore(Path(keys)).signer(party)
    receipts = []
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as c:
        for k in range(EACH):
            ev = Event(
                type="estimate.recorded",
                id=f"w{n}-{k:04d}",
                time="2014-03-01T00:00:00Z",
                author=party,
                body=estimate(k, party),
            )
            env = json.loads(sign_event(ev, signer).to_bytes())
            resp = c.post("/api/v1/events", json=env)
            if resp.status_code != 201:
                raise RuntimeError(f"writer {n} event {k}: {resp.status_code} {resp.text}")
            receipts.append(resp.json())
    Path(out).write_text(json.dumps(receipts))


def test_eight_writer_processes_through_http_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    led = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        database_url=pg_url,
    )
    authority = led.authority()
    parties = ["insp", "dec"]
    tokens = [issue_token(led.store, authority, parties[n % 2])[0] for n in range(WRITERS)]
    with led.store.read() as r:
        start = r.size()
    # Two worker processes, and no rate limit in the way of 4,000 requests.
    no_limit = {"CWLEDGER_RATE_PER_SECOND": "100000", "CWLEDGER_RATE_BURST": "100000"}
    server = spawn(tmp_path / "ledger", db=pg_url, workers=2, env=no_limit)
    try:
        ctx = multiprocessing.get_context("spawn")
        procs = [
            ctx.Process(
                target=_writer,
                args=(
                    server.base,
                    str(tmp_path / "ledger" / "keys"),
                    parties[n % 2],
                    tokens[n],
                    n,
                    str(tmp_path / f"r{n}.json"),
                ),
            )
            for n in range(WRITERS)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(600)
        assert [p.exitcode for p in procs] == [0] * WRITERS
    finally:
        server.stop()

    receipts = [
        r for n in range(WRITERS) for r in json.loads((tmp_path / f"r{n}.json").read_text())
    ]
    assert len(receipts) == WRITERS * EACH
    assert not any(r["duplicate"] for r in receipts)
    assert sorted(r["index"] for r in receipts) == list(range(start, start + WRITERS * EACH))
    with led.store.read() as r:
        assert r.size() == start + WRITERS * EACH
        assert r.row_counts()["log_entry"] == r.size()  # no gaps
        stored = r.entries_by_event_id(x["event_id"] for x in receipts)
        checkpoints = r.checkpoints()
    assert {x["event_id"]: x["index"] for x in receipts} == {k: e.index for k, e in stored.items()}
    audit(led.store)
    check_book(led.store)
    # Every checkpoint is consistent with every earlier one: each with the next (consistency
    # composes), and the first with every later one.
    assert [c.size for c in checkpoints] == sorted({c.size for c in checkpoints})
    assert checkpoints[-1].size == start + WRITERS * EACH
    pairs = list(zip(checkpoints, checkpoints[1:], strict=False))
    pairs += [(checkpoints[0], c) for c in checkpoints[1::97]]
    for a, b in pairs:
        proof = led.prove_consistency(a.size, b.size)
        verify_consistency(
            a.size, b.size, [bytes.fromhex(h) for h in proof["proof"]], a.root_hash, b.root_hash
        )
    led.close()
