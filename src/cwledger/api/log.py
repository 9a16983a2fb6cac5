"""The log over HTTP: the C2SP tlog-tiles read API (public) and proofs and entries as JSON.

``tiles_router`` (no authentication: observers, monitors and static mirrors read it)
serves, exactly as c2sp.org/tlog-tiles specifies:

* ``GET /log/checkpoint``: the latest signed checkpoint note, ``text/plain; charset=utf-8``,
  ``Cache-Control: no-cache`` (it changes with every batch);
* ``GET /log/tile/<L>/<N>[.p/<W>]``: ``W`` (256 when full) consecutive 32-byte hashes of
  tree level ``8 * L``, ``application/octet-stream``;
* ``GET /log/tile/entries/<N>[.p/<W>]``: an entry bundle, the entries ``N*256 ..<
  N*256+W`` each as a big-endian uint16 length and the entry's bytes (the canonical DSSE
  envelope: the leaf of the tree), ``application/octet-stream``, gzip-compressed when the
  client accepts it.

Everything is served as of the latest checkpoint, read in one transaction: a full tile
only once the checkpoint's tree holds all of it, ``.p/<W>`` for any ``W`` up to the width
the tile has in that tree (so a partial tile stays available after its tile fills), and
never a hash or an entry the checkpoint does not commit to. Full tiles and bundles are
immutable (``Cache-Control: public, max-age=31536000, immutable``); partial ones are
cached briefly, since a log may stop serving them once the tile is full. A path that is
not the canonical C2SP spelling is a 400 problem (``/problems/malformed-input``); a tile
the checkpoint does not reach, a 404.

``api_router`` (mounted under ``/api/v1``, bearer token, read transaction) answers with
JSON: the latest checkpoint, inclusion and consistency proofs (RFC 9162 2.1.3, 2.1.4) for
any size up to the latest checkpoint's, and the entries themselves. Hashes are lowercase
hex. An entry's ``envelope`` is its stored bytes in standard base64: exactly the leaf, so
``SHA-256(0x00 || base64decode(envelope))`` is its ``leaf_hash`` with no need to
re-canonicalize JSON.
"""

from __future__ import annotations

import base64
import gzip
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from cwledger.errors import LedgerNotFound
from cwledger.http.deps import LogReads, get_ledger, get_settings, published
from cwledger.http.problems import problem_responses
from cwledger.http.settings import Settings
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.tile_bytes import resource_bytes, width_in
from cwledger.store import LogReader, StoredCheckpoint, StoredEntry
from cwledger.tlog.tiled import TiledTree
from cwledger.tlog.tiles import parse_tile_path

__all__ = [
    "api_router",
    "tiles_router",
    "CheckpointDoc",
    "InclusionProofDoc",
    "ConsistencyProofDoc",
    "LogEntryDoc",
    "EntriesDoc",
    "checkpoint_doc",
    "consistency_doc",
    "entry_doc",
    "inclusion_doc",
    "tile_resource",
]

log = logging.getLogger("cwledger.api")

api_router = APIRouter(tags=["log"])
tiles_router = APIRouter(tags=["tlog-tiles"])

CHECKPOINT_CACHE = "no-cache"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_CACHE = "public, max-age=60"
OCTET_STREAM = "application/octet-stream"
MAX_INDEX = 2**63 - 1
"""Bound of every index and size in a query (a signed 64-bit database integer)."""

LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# -- the public tlog-tiles API ---------------------------------------------------------------


PublicReader = Annotated[LogReader, Depends(published)]


def _latest(r: LogReader) -> StoredCheckpoint:
    cp = r.latest_checkpoint()
    if cp is None:
        raise LedgerNotFound("the log has no signed checkpoint yet")
    return cp


def _accepts_gzip(request: Request) -> bool:
    for item in request.headers.get("accept-encoding", "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().replace(" ", "").lower()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        return True
    return False


_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


@tiles_router.get(
    "/log/checkpoint",
    response_class=Response,  # (a text/plain class would list the 404 problem as text/plain)
    responses={
        200: {
            "description": "The latest signed checkpoint (c2sp.org/tlog-checkpoint note)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problem_responses(404),
    },
)
async def checkpoint_note(r: PublicReader) -> PlainTextResponse:
    """The latest checkpoint as a C2SP signed note (`text/plain; charset=utf-8`), signed by
    the log's key (the genesis entry names it) and cosigned by its witnesses: the newest
    that holds the quorum of cosignatures the witness policy asks, with every cosignature
    collected. Not cached: it changes with every batch."""
    cp = _latest(r)
    return PlainTextResponse(
        cp.cosigned_note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


_TILE_PATH_PARAMETER = {
    "name": "path",
    "in": "path",
    "required": True,
    "description": "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (C2SP tlog-tiles).",
    "schema": {"type": "string"},
}


@tiles_router.get(
    "/log/tile/{path:path}",
    response_class=Response,
    responses={
        200: {
            "description": "The tile's hashes (32 bytes each) or the entry bundle",
            "content": {OCTET_STREAM: _BINARY},
        },
        **problem_responses(400, 404),
    },
    # The path is read from the request, not declared as a parameter, so that FastAPI lists
    # no 422 for it (a malformed path is a 400 problem); the document still names it.
    openapi_extra={"parameters": [_TILE_PATH_PARAMETER]},
)
async def tile(r: PublicReader, request: Request) -> Response:
    """A C2SP tile, `tile/<L>/<N>[.p/<W>]`, or an entry bundle, `tile/entries/<N>[.p/<W>]`,
    as of the latest checkpoint. `<N>` is written in 3-digit groups, all but the last
    prefixed with `x` (1234067 is `x001/x234/067`); `<W>` is 1..255."""
    body, headers = tile_resource(r, request.path_params["path"], _accepts_gzip(request))
    return Response(body, media_type=OCTET_STREAM, headers=headers)


def tile_resource(r: LogReader, path: str, gzipped: bool) -> tuple[bytes, dict[str, str]]:
    """The bytes and headers of `tile/<path>` as of the latest checkpoint (an entry bundle
    gzip-compressed when `gzipped`). Once served they never change: a checkpoint only grows,
    and a tile (full or `.p/<W>`) below its size is fixed. Raises MalformedInput (400) or
    LedgerNotFound (404)."""
    ref = parse_tile_path("tile/" + path)
    cp = _latest(r)
    have = width_in(ref, cp.size)
    if have < ref.width:
        what, unit = ("entry bundle", "entries") if ref.level is None else ("tile", "hashes")
        raise LedgerNotFound(
            f"tile/{path}: in the tree of the latest checkpoint (size {cp.size}) this {what}"
            f" has {have} {unit}, not {ref.width}"
        )
    headers = {"Cache-Control": PARTIAL_CACHE if ref.is_partial else IMMUTABLE_CACHE}
    body = resource_bytes(r, ref)
    if ref.level is None:
        headers["Vary"] = "Accept-Encoding"
        if gzipped:
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return body, headers


# -- proofs and entries as JSON --------------------------------------------------------------


class CheckpointDoc(BaseModel):
    """The latest signed checkpoint."""

    size: int = Field(description="Tree size: the number of entries it commits to.")
    root_hash: str = Field(description="RFC 9162 root hash of the tree of `size`, hex.")
    note: str = Field(
        description="The C2SP signed note (origin, size, base64 root, then the log's"
        " signature), as served at `/log/checkpoint`."
    )
    signed_at: str = Field(description="When the log signed it (RFC 3339 UTC).")


class InclusionProofDoc(BaseModel):
    """An RFC 9162 inclusion proof (section 2.1.3) of one entry in the tree of `tree_size`."""

    index: int = Field(description="The entry's index in the log.")
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || entry), hex.")
    root_hash: str = Field(description="Root of the tree of `tree_size`, hex.")
    proof: list[str] = Field(description="The audit path, leaf to root, hex.")


class ConsistencyProofDoc(BaseModel):
    """An RFC 9162 consistency proof (section 2.1.4) from the tree of `size1` to `size2`."""

    size1: int
    size2: int
    root1: str = Field(description="Root of the tree of `size1`, hex.")
    root2: str = Field(description="Root of the tree of `size2`, hex.")
    proof: list[str] = Field(description="The consistency proof, hex.")


class LogEntryDoc(BaseModel):
    """One entry of the log as stored."""

    index: int
    leaf_hash: str = Field(description="SHA-256(0x00 || envelope bytes), hex.")
    event_id: str
    type: str
    author: str
    time: str = Field(description="The event's time (RFC 3339 UTC).")
    envelope: str = Field(
        description="The stored entry, standard base64: the canonical DSSE envelope's exact"
        " bytes, which are the leaf (decode it to recompute `leaf_hash`; the bytes are an"
        " RFC 8785 JSON object)."
    )


class EntriesDoc(BaseModel):
    """Entries `start` ..< `end` of the log, in order, within the latest checkpoint."""

    start: int
    end: int = Field(description="One past the last entry returned.")
    tree_size: int = Field(description="Size of the latest checkpoint.")
    entries: list[LogEntryDoc]


def _invalid(location: str, detail: str) -> RequestValidationError:
    """A 422 validation problem at `location` (e.g. `query.size`)."""
    return RequestValidationError(
        [{"loc": tuple(location.split(".")), "msg": detail, "type": "value_error"}]
    )


_READ_ERRORS = (422,)


@api_router.get(
    "/log/checkpoint",
    response_model=CheckpointDoc,
    responses=problem_responses(*_READ_ERRORS, 404),
)
async def latest_checkpoint(r: LogReads) -> CheckpointDoc:
    """The latest signed checkpoint: size, root and the signed note."""
    return checkpoint_doc(_latest(r))


def checkpoint_doc(cp: StoredCheckpoint) -> CheckpointDoc:
    """The JSON document of a checkpoint."""
    return CheckpointDoc(
        size=cp.size, root_hash=cp.root_hash.hex(), note=cp.cosigned_note, signed_at=cp.signed_at
    )


def _tree_size(
    r: LogReader, size: int | None, location: str, latest: StoredCheckpoint | None = None
) -> tuple[int, StoredCheckpoint]:
    """(the size asked for, default the latest checkpoint's; the latest checkpoint, read
    unless given as `latest`)."""
    cp = _latest(r) if latest is None else latest
    if size is None:
        return cp.size, cp
    if size > cp.size:
        raise _invalid(location, f"size {size} is beyond the latest checkpoint's size {cp.size}")
    return size, cp


def _root(tree: TiledTree, size: int, cp: StoredCheckpoint) -> str:
    """The root of the tree of `size`: the signed checkpoint's when it is that size (a
    client checks it against the signed note anyway), else hashed from the tiles."""
    return (cp.root_hash if size == cp.size else tree.root(size)).hex()


@api_router.get(
    "/log/proofs/inclusion",
    response_model=InclusionProofDoc,
    responses=problem_responses(*_READ_ERRORS, 404),
)
async def inclusion_proof(
    r: LogReads,
    ledger: LedgerDep,
    index: Annotated[
        int | None, Query(ge=0, le=MAX_INDEX, description="The entry's index.")
    ] = None,
    event_id: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
            description="The entry's event id (instead of `index`).",
        ),
    ] = None,
    size: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_INDEX,
            description="Tree size to prove against (default: the latest checkpoint's);"
            " at most the latest checkpoint's.",
        ),
    ] = None,
) -> InclusionProofDoc:
    """Inclusion proof of one entry (by `index` or `event_id`, exactly one) in the tree of
    `size`. 404 when the entry is not in that tree."""
    if (index is None) == (event_id is None):
        raise _invalid("query.index", "give exactly one of index and event_id")
    return inclusion_doc(r, ledger, index, event_id, size)


def inclusion_doc(
    r: LogReader,
    ledger: Ledger,
    index: int | None,
    event_id: str | None,
    size: int | None,
    latest: StoredCheckpoint | None = None,
) -> InclusionProofDoc:
    """The inclusion proof of entry `index` (or of `event_id`'s) in the tree of `size`
    (default: the latest checkpoint's, read unless given as `latest`). Raises
    LedgerNotFound (404) or a 422 problem."""
    tree_size, cp = _tree_size(r, size, "query.size", latest)
    if event_id is not None:
        entry = r.entries_by_event_id([event_id]).get(event_id)
        if entry is None:
            raise LedgerNotFound(f"no entry with event id {event_id!r} in the log")
        if entry.index >= tree_size:
            raise LedgerNotFound(
                f"entry {entry.index} ({entry.event_id}) is not in the tree of size {tree_size}"
            )
        index = entry.index
    assert index is not None
    if index >= tree_size:
        raise LedgerNotFound(f"entry {index} is not in the tree of size {tree_size}")
    tree = ledger.tree(r, cp.size)
    # The leaf hash is the tree's level-0 node: read with the proof's hashes, in one fetch
    # of the tiles (often none: perfect nodes are kept), not from the entry's row.
    leaf, *proof = tree.leaf_and_inclusion_proof(index, tree_size)
    return InclusionProofDoc(
        index=index,
        tree_size=tree_size,
        leaf_hash=leaf.hex(),
        root_hash=_root(tree, tree_size, cp),
        proof=[h.hex() for h in proof],
    )


@api_router.get(
    "/log/proofs/consistency",
    response_model=ConsistencyProofDoc,
    responses=problem_responses(*_READ_ERRORS, 404),
)
async def consistency_proof(
    r: LogReads,
    ledger: LedgerDep,
    first: Annotated[
        int, Query(ge=1, le=MAX_INDEX, description="The older tree size (at least 1).")
    ],
    second: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_INDEX,
            description="The newer tree size (default: the latest checkpoint's);"
            " at most the latest checkpoint's.",
        ),
    ] = None,
) -> ConsistencyProofDoc:
    """Consistency proof that the tree of `first` entries is a prefix of the tree of
    `second`."""
    return consistency_doc(r, ledger, first, second)


def consistency_doc(
    r: LogReader,
    ledger: Ledger,
    first: int,
    second: int | None,
    latest: StoredCheckpoint | None = None,
) -> ConsistencyProofDoc:
    """The consistency proof from the tree of `first` to the tree of `second` (default: the
    latest checkpoint's, read unless given as `latest`). Raises a 422 problem."""
    size2, cp = _tree_size(r, second, "query.second", latest)
    if first > size2:
        raise _invalid("query.first", f"first ({first}) is greater than second ({size2})")
    tree = ledger.tree(r, cp.size)
    return ConsistencyProofDoc(
        size1=first,
        size2=size2,
        root1=_root(tree, first, cp),
        root2=_root(tree, size2, cp),
        proof=[h.hex() for h in tree.consistency_proof(first, size2)],
    )


@api_router.get(
    "/log/entries",
    response_model=EntriesDoc,
    responses=problem_responses(*_READ_ERRORS, 404),
)
async def entries(
    r: LogReads,
    settings: SettingsDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX, description="The first index.")] = 0,
    end: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_INDEX,
            description="One past the last index (default: as many as one call returns);"
            " at most `page_limit` (1000 by default) past `start`.",
        ),
    ] = None,
) -> EntriesDoc:
    """Entries `start` ..< `end` with their stored bytes, cut at the latest checkpoint's
    size. At most `page_limit` per call: a wider range is a 422 problem."""
    limit = settings.page_limit
    if end is None:
        end = start + limit
    elif end < start:
        raise _invalid("query.end", f"end ({end}) is before start ({start})")
    elif end - start > limit:
        raise _invalid(
            "query.end",
            f"{end - start} entries asked for; at most {limit} per call"
            f" (ask for {start}..{start + limit}, then page on)",
        )
    latest = _latest(r).size
    end = max(start, min(end, latest))
    rows = r.entries(start, end)
    return EntriesDoc(
        start=start,
        end=end,
        tree_size=latest,
        entries=[entry_doc(e) for e in rows],
    )


def entry_doc(e: StoredEntry) -> LogEntryDoc:
    """The JSON document of a stored entry."""
    return LogEntryDoc(
        index=e.index,
        leaf_hash=e.leaf_hash.hex(),
        event_id=e.event_id,
        type=e.event_type,
        author=e.author,
        time=e.event_time,
        envelope=base64.b64encode(e.envelope).decode("ascii"),
    )
