"""Every answer of POST /add-checkpoint (c2sp.org/tlog-witness), from a real
`cwledger witness serve` process, through the client `add_checkpoint`."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from cwledger.tlog import note
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature
from cwledger.tlog.note import Signer
from cwledger.witness.client import WitnessUnavailable, add_checkpoint, cosign_checkpoint
from cwledger.witness.protocol import (
    InconsistentProof,
    MalformedRequest,
    NotSignedByLog,
    OldSizeMismatch,
    RootConflict,
    UnknownLog,
    format_request,
)
from cwledger.witness.store import WitnessStore
from tests.witness.conftest import SyntheticLog, Witness, digest, free_port


def post(url: str, body: bytes) -> tuple[int, str, bytes]:
    """POST `body` to /add-checkpoint: status, content type, body."""
    req = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def latest_size(witness: Witness, log: SyntheticLog) -> int:
    """The size the witness last cosigned for `log`, as its database holds it."""
    store = WitnessStore(witness.served.path)
    try:
        latest = store.latest(log.origin)
    finally:
        store.close()
    return 0 if latest is None else latest.size


def cosign(witness: Witness, log: SyntheticLog, old: int, size: int) -> list[str]:
    return add_checkpoint(witness.url, old, log.proof(old, size), log.checkpoint(size))


def test_200_cosignatures_that_verify_with_the_witness_key(
    witness: Witness, log: SyntheticLog
) -> None:
    log.grow(5)
    status, media, body = post(witness.url, format_request(0, [], log.checkpoint(5)))
    assert status == 200 and media.startswith("text/plain")
    text = body.decode()
    assert text.startswith("\u2014 ") and text.endswith("\n") and text.count("\n") == 1
    verifier = CosignatureVerifier.from_vkey(witness.vkey)
    body5 = log.checkpoint(5).decode().split("\n\n")[0] + "\n"
    timestamp = verify_cosignature(verifier, body5, text[:-1])
    assert timestamp is not None and timestamp > 1_700_000_000
    # The lines join the checkpoint as a note: the log's and the witness's keys verify it.
    opened = note.open(log.checkpoint(5) + body, [log.signer.verifier(), verifier])
    assert {s.name for s in opened.sigs} == {log.origin, verifier.name}
    # Then each later checkpoint with a proof from the last one cosigned.
    for old, size in ((5, 6), (6, 13), (13, 13), (13, 64), (64, 100)):
        log.grow(size - len(log.leaves))
        (line,) = cosign(witness, log, old, size)
        body_n = log.checkpoint(size).decode().split("\n\n")[0] + "\n"
        assert verify_cosignature(verifier, body_n, line) is not None
        assert latest_size(witness, log) == size


def test_200_for_old_0_from_a_witness_that_never_cosigned_and_empty_trees(
    witness: Witness, log: SyntheticLog
) -> None:
    assert latest_size(witness, log) == 0
    (line,) = cosign(witness, log, 0, 0)  # the empty tree
    log.grow(3)
    (line,) = cosign(witness, log, 0, 3)  # from the empty tree: no proof
    assert latest_size(witness, log) == 3


def test_404_for_an_origin_it_does_not_witness(witness: Witness) -> None:
    other = SyntheticLog("example.org/another-log", Signer.generate("example.org/another-log"))
    other.grow(2)
    with pytest.raises(UnknownLog, match="another-log"):
        add_checkpoint(witness.url, 0, [], other.checkpoint(2))
    assert post(witness.url, format_request(0, [], other.checkpoint(2)))[0] == 404


def test_403_when_no_trusted_key_signed_it(witness: Witness, log: SyntheticLog) -> None:
    log.grow(4)
    impostor = Signer.generate(log.origin)  # the log's name, another key
    with pytest.raises(NotSignedByLog):
        add_checkpoint(witness.url, 0, [], log.checkpoint(4, impostor))
    # A signature by the trusted key that does not verify (another tree's, spliced in).
    good = log.checkpoint(4).decode()
    other = SyntheticLog(log.origin, log.signer)
    other.grow(4, tag="x")
    forged = good.split("\n\n")[0] + "\n\n" + other.checkpoint(4).decode().split("\n\n")[1]
    status, _, body = post(witness.url, format_request(0, [], forged.encode()))
    assert status == 403 and b"signature" in body
    assert latest_size(witness, log) == 0  # nothing recorded


def test_403_ignores_signatures_by_unknown_keys_next_to_the_log_s(
    witness: Witness, log: SyntheticLog
) -> None:
    log.grow(4)
    both = note.sign(
        log.checkpoint(4).decode().split("\n\n")[0] + "\n",
        [Signer.generate("someone.else"), log.signer],
    )
    assert len(add_checkpoint(witness.url, 0, [], both)) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1",
        b"old 01\n\n",
        b"old -1\n\n",
        b"old 18446744073709551616\n\n",
        b"Old 0\n\n",
        b"old  0\n\n",
        b"old 0\nnot base64!\n\n",
        b"old 0\n" + b"AAAA\n" + b"\n",  # base64, but not a 32-byte hash
        b"old 3\n" + b"".join(b"A" * 43 + b"=\n" for _ in range(64)) + b"\n",  # 64 lines
        b"old 0\n",  # no empty line
        b"old 0\n\n",  # no checkpoint
        b"old 0\n\nnot a note",
    ],
)
def test_400_for_a_malformed_body(witness: Witness, log: SyntheticLog, body: bytes) -> None:
    status, _, answer = post(witness.url, body)
    assert status == 400, answer
    assert latest_size(witness, log) == 0


def test_400_for_a_malformed_checkpoint_signed_by_the_log(
    witness: Witness, log: SyntheticLog
) -> None:
    signed = note.sign(f"{log.origin}\n5\nnot-a-root\n", [log.signer])
    with pytest.raises(MalformedRequest):
        add_checkpoint(witness.url, 0, [], signed)


def test_400_when_old_exceeds_the_checkpoint_size(witness: Witness, log: SyntheticLog) -> None:
    log.grow(5)
    cosign(witness, log, 0, 5)
    with pytest.raises(MalformedRequest, match="exceeds"):
        add_checkpoint(witness.url, 6, [], log.checkpoint(5))
    assert latest_size(witness, log) == 5


def test_409_with_the_latest_size_when_old_is_not_it(witness: Witness, log: SyntheticLog) -> None:
    log.grow(7)
    cosign(witness, log, 0, 7)
    log.grow(3)
    for old in (0, 3, 8):
        status, media, body = post(
            witness.url, format_request(old, log.proof(old, 10), log.checkpoint(10))
        )
        assert (status, media, body) == (409, "text/x.tlog.size", b"7\n")
    with pytest.raises(OldSizeMismatch) as e:
        add_checkpoint(witness.url, 3, log.proof(3, 10), log.checkpoint(10))
    assert e.value.latest_size == 7
    (line,) = cosign(witness, log, 7, 10)  # the client retries from the size it was told
    assert latest_size(witness, log) == 10


def test_409_for_the_same_size_with_another_root(witness: Witness, log: SyntheticLog) -> None:
    log.grow(6)
    cosign(witness, log, 0, 6)
    fork = SyntheticLog(log.origin, log.signer)
    fork.grow(6, tag="fork")
    with pytest.raises(RootConflict):
        add_checkpoint(witness.url, 6, [], fork.checkpoint(6))
    status, media, _ = post(witness.url, format_request(6, [], fork.checkpoint(6)))
    assert status == 409 and media != "text/x.tlog.size"
    assert latest_size(witness, log) == 6


def test_422_for_a_proof_that_does_not_verify(witness: Witness, log: SyntheticLog) -> None:
    log.grow(6)
    cosign(witness, log, 0, 6)
    fork = SyntheticLog(log.origin, log.signer, log.leaves[:4])
    fork.grow(5, tag="fork")  # shares 4 leaves, not 6
    with pytest.raises(InconsistentProof):
        add_checkpoint(witness.url, 6, fork.proof(6, 9), fork.checkpoint(9))
    log.grow(3)
    wrong = log.proof(6, 9)
    wrong[0] = digest("not the node")
    with pytest.raises(InconsistentProof):
        add_checkpoint(witness.url, 6, wrong, log.checkpoint(9))
    with pytest.raises(InconsistentProof):  # one hash too many
        add_checkpoint(witness.url, 6, [*log.proof(6, 9), digest("x")], log.checkpoint(9))
    with pytest.raises(InconsistentProof):  # a proof to the same size must be empty
        add_checkpoint(witness.url, 6, [digest("x")], log.checkpoint(6))
    assert latest_size(witness, log) == 6
    assert len(cosign(witness, log, 6, 9)) == 1


def test_422_for_a_proof_from_old_size_0(witness: Witness, log: SyntheticLog) -> None:
    log.grow(4)
    status, _, _ = post(witness.url, format_request(0, [digest("x")], log.checkpoint(4)))
    assert status == 422
    assert latest_size(witness, log) == 0


def test_only_post_and_only_add_checkpoint(witness: Witness) -> None:
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(witness.url + "/add-checkpoint", timeout=30)
    assert e.value.code == 405
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(witness.url + "/", timeout=30)
    assert e.value.code == 404


def test_413_for_a_body_over_the_limit(witness: Witness) -> None:
    status, _, _ = post(witness.url, b"old 0\n" + b"x" * 70_000)
    assert status == 413


def test_the_client_says_when_the_witness_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(WitnessUnavailable, match="add-checkpoint"):
        add_checkpoint(url, 0, [], b"x\n")


def test_cosign_checkpoint_retries_from_the_size_the_witness_gives(
    witness: Witness, log: SyntheticLog
) -> None:
    log.grow(9)
    cosign(witness, log, 0, 4)
    asked: list[int] = []

    def proof_from(old: int) -> list[bytes]:
        asked.append(old)
        return log.proof(old, 9)

    lines, old = cosign_checkpoint(witness.url, log.checkpoint(9), proof_from)
    assert (len(lines), old, asked) == (1, 4, [0, 4])
    lines, old = cosign_checkpoint(witness.url, log.checkpoint(9), proof_from, 9)
    assert (len(lines), old) == (1, 9)  # knew it: one request
    with pytest.raises(OldSizeMismatch) as e:  # the witness holds more than this note
        cosign_checkpoint(witness.url, log.checkpoint(4), lambda old: log.proof(old, 4))
    assert e.value.latest_size == 9
