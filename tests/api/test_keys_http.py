"""Issue 13, item 2 over the API: with its own token the operator (a registrar) cannot
rotate a declarant's key to one it holds; it may revoke the key; a quorum of the founding
parties installs a new one, the declarant writes again, and the audit replays it all."""

from __future__ import annotations

import json
from typing import Any

from cwledger.ledger.audit import audit
from cwledger.tlog.note import Signer
from tests.api.conftest import Api
from tests.conftest import event, row_counts

PROBLEM = "application/problem+json"
T = "2014-02-01T00:00:00Z"


def _post(api: Api, party: str, raw: dict[str, Any]) -> Any:
    """`raw` signed with `party`'s key and sent with its token."""
    [env] = api.ledger.sign([raw], party)
    return api.client.post("/api/v1/events", json=json.loads(env), headers=api.auth(party))


def _rotation(key: Signer, approvals: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"party": "dec", "key": key.vkey()}
    if approvals is not None:
        body["approvals"] = approvals
    return {"type": "key.rotated", "id": f"rot-{key.key_id.hex()}", "time": T, "body": body}


def test_operator_token_cannot_rotate_a_declarants_key_but_may_revoke_it(api: Api) -> None:
    stolen = Signer.generate("dec")  # a key the operator holds
    before = row_counts(api.ledger)
    resp = _post(api, "operator", _rotation(stolen))
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    problems = " ".join(p["detail"] for p in resp.json()["problems"])
    assert "operator may not install a key for dec" in problems
    assert "needs the approvals of 2 of the founding parties operator, insp, obs" in problems
    assert row_counts(api.ledger) == before
    # Revoking is the operator's: allowed, and dec can no longer write.
    kid = api.ledger.keystore.signer("dec").key_id.hex()
    revoke = {
        "type": "key.revoked",
        "id": "rev-dec",
        "time": T,
        "body": {"party": "dec", "key_id": kid, "reason": "reported lost"},
    }
    assert _post(api, "operator", revoke).status_code == 201
    resp = _post(api, "dec", event(1))
    assert resp.status_code == 422 and "revoked by entry" in resp.text
    # A quorum (operator and obs, 2 of the 3 founding parties other than dec) installs a
    # key dec holds; the operator's token sends it.
    new = Signer.generate("dec")
    body = {"party": "dec", "key": new.vkey()}
    approvals = [api.ledger.approve("key.rotated", body, p) for p in ("operator", "obs")]
    resp = _post(api, "operator", _rotation(new, approvals))
    assert resp.status_code == 201, resp.text
    api.ledger.keystore.add("dec", "declarant", new)  # dec's own keystore, on its machine
    resp = _post(api, "dec", event(2))
    assert resp.status_code == 201, resp.text
    report = audit(api.ledger.store)
    assert report.size == row_counts(api.ledger)["log_entry"]
