"""The one exception tree of cwledger.

Every class carries, as class attributes, all that any shell needs to report it:

- ``code``: a stable name of the error (the CLI prints ``error (<code>): ...``);
- ``status``: its HTTP status;
- ``problem`` and ``title``: its RFC 9457 problem type (``/problems/<problem>``) and that
  type's title. Several classes may share a problem type (every kind of "not found" is
  ``not-found``); a type has one status and one title.

A subclass inherits all four and overrides what differs. Domain code raises these; each
shell maps them once, from the class: the API (``cwledger.http.problems``) to a problem
document, the dashboard to its error page, the CLI to one line and exit status 1. An error
class defined elsewhere (``model.errors``, ``book.answers``, ...) declares the same four.
"""

from __future__ import annotations

from collections.abc import Sequence

from cwledger.words import plural

__all__ = [
    "PdfUnavailable",
    "CwledgerError",
    "VerificationError",
    "MalformedInput",
    "RootMismatchError",
    "InvalidSignature",
    "UnknownSigner",
    "SealBroken",
    "CorruptDatabase",
    "CorruptEntry",
    "CorruptTile",
    "CorruptRow",
    "EventRejected",
    "Problem",
    "LedgerNotFound",
    "KeyNotFound",
    "ConflictError",
    "Unauthorized",
    "Forbidden",
    "EventForbidden",
    "NotEntitled",
    "InvalidQuery",
    "TooLarge",
    "RateLimited",
    "NotFound",
    "MethodNotAllowed",
    "Unavailable",
    "DatabaseUnavailable",
    "DiskFull",
    "echo",
    "echo_key",
    "clip",
]


class CwledgerError(Exception):
    """Base of every error cwledger raises on purpose."""

    code = "cwledger-error"
    status = 500
    problem = "internal"
    title = "Internal server error"

    def diagnostics(self) -> str:
        """Human text: what went wrong (and, where known, what to do next)."""
        return str(self)


class VerificationError(CwledgerError):
    """Something that was supposed to verify did not: proofs, signatures, notes, the log."""

    code = "verification-failed"
    status = 422
    problem = "verification-failed"
    title = "Verification failed"


class MalformedInput(VerificationError):
    """Untrusted input could not be parsed (a note, a checkpoint, an envelope, a key string)."""

    code = "malformed-input"
    status = 400
    problem = "malformed-input"
    title = "Malformed input"


class RootMismatchError(VerificationError):
    """A proof or a recomputed tree led to a root other than the one claimed."""

    code = "root-mismatch"

    def __init__(self, expected: bytes, calculated: bytes, what: str = "root") -> None:
        self.expected = expected
        self.calculated = calculated
        super().__init__(
            f"{what} mismatch: expected {expected.hex()}, calculated {calculated.hex()}"
        )


class InvalidSignature(VerificationError):
    """A signature by a known key does not verify."""

    code = "invalid-signature"


class UnknownSigner(VerificationError):
    """No signature by any of the trusted keys was found."""

    code = "unknown-signer"


class CorruptDatabase(VerificationError):
    """A stored row holds what cwledger never writes: a value of another type in one of its
    columns (SQLite keeps any type in any column: the database was changed outside
    cwledger).

    A server reading it answers 500: the fault is the server's own database, not the
    request's (a `VerificationError` is otherwise what the caller sent or asked about)."""

    code = "corrupt-database"
    status = 500
    problem = "corrupt-database"
    title = "The ledger's database was changed outside cwledger"

    _AFTER = (
        "; the database was changed outside cwledger: `cwledger verify` names the first "
        "such entry, and a mirror or a backup holds the log as it was"
    )


class CorruptEntry(CorruptDatabase):
    """A stored row of the log is no entry (`CorruptDatabase`). `index` names the row."""

    code = "corrupt-entry"

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason  # the audit names the entry with this alone
        super().__init__(f"entry {echo_key(index)}: {reason}{self._AFTER}")


class CorruptTile(CorruptDatabase):
    """A stored tile of the tree is no row of hashes (`CorruptDatabase`): tile `index` of
    `level`."""

    code = "corrupt-tile"

    def __init__(self, level: int, index: int, reason: str) -> None:
        self.level = level
        self.index = index
        self.reason = reason  # the audit names the tile's first entry with this alone
        super().__init__(f"tile {echo_key(level)}/{echo_key(index)}: {reason}{self._AFTER}")


class CorruptRow(CorruptDatabase):
    """Another stored row (a checkpoint, a cosignature, a witness's state, a token) holds
    what cwledger never writes (`CorruptDatabase`). `row` names it. (Not every such row is
    the log's, which `cwledger verify` checks: a token is the server's own.)"""

    code = "corrupt-row"

    def __init__(self, row: str, reason: str) -> None:
        self.row = row
        self.reason = reason
        super().__init__(f"{row}: {reason}; the database was changed outside cwledger")


class SealBroken(VerificationError):
    """A sealed payload addressed to this party does not open with its key, or what it
    holds does not match the payload's commitment (``cwledger.ledger.sealing``)."""

    code = "seal-broken"


class Problem:
    """One reason an input was refused, with where it was found."""

    __slots__ = ("location", "message")

    def __init__(self, location: str, message: str) -> None:
        self.location = clip(location, ECHO_LIMIT * 2)
        self.message = clip(message)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def __repr__(self) -> str:
        return f"Problem({self.location!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (self.location, self.message) == (
            other.location,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.location, self.message))


class EventRejected(CwledgerError):
    """An event (or a batch) was refused; nothing was written. Lists every reason at once."""

    code = "event-rejected"
    status = 422
    problem = "event-rejected"
    title = "Event refused; nothing was written"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "event rejected")

    def diagnostics(self) -> str:
        lines = [f"refused, nothing written ({plural(len(self.problems), 'problem')}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ConflictError(CwledgerError):
    """The input contradicts something already in the log (e.g. an event id reused)."""

    code = "conflict"
    status = 409
    problem = "conflict"
    title = "Conflicts with the log"


class NotFound(CwledgerError):
    """Asked for something that is not there (a path the server does not serve, a tile
    beyond the log); the base of every more particular "not found"."""

    code = "not-found"
    status = 404
    problem = "not-found"
    title = "Not found"


class LedgerNotFound(NotFound):
    """The ledger directory holds no ledger."""

    code = "ledger-not-found"


class KeyNotFound(NotFound):
    """No key for that party in the keystore."""

    code = "key-not-found"


class Unauthorized(CwledgerError):
    """No valid bearer token: missing, malformed, unknown, expired or revoked."""

    code = "unauthorized"
    status = 401
    problem = "unauthorized"
    title = "Authentication required"


class Forbidden(CwledgerError):
    """The caller's party may not do this (its role, or an event authored by another party)."""

    code = "forbidden"
    status = 403
    problem = "forbidden"
    title = "Not allowed for this party"


class NotEntitled(Forbidden):
    """A sealed payload holds nothing addressed to this party: it may not read it."""

    code = "not-entitled"


class TooLarge(CwledgerError):
    """A request body or a batch larger than the server takes."""

    code = "too-large"
    status = 413
    problem = "too-large"
    title = "Request too large"


class RateLimited(CwledgerError):
    """Too many requests with one token; `retry_after` seconds until the next is taken."""

    code = "rate-limited"
    status = 429
    problem = "rate-limited"
    title = "Too many requests"

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class EventForbidden(EventRejected):
    """A batch the submitting party may not write: an event authored by another party, or of
    a type its role does not author. Nothing was written; every problem is listed."""

    code = "forbidden"
    status = 403
    problem = "forbidden"
    title = "Not allowed for this party"


class InvalidQuery(CwledgerError):
    """A request's parameters do not validate (a malformed time, an unknown grouping)."""

    code = "validation"
    status = 422
    problem = "validation"
    title = "The request does not validate"

    def __init__(self, location: str, message: str) -> None:
        self.problems = [Problem(location, message)]
        super().__init__(f"{location}: {message}")


class MethodNotAllowed(CwledgerError):
    """An HTTP method the path does not take."""

    code = "method-not-allowed"
    status = 405
    problem = "method-not-allowed"
    title = "Method not allowed"


class Unavailable(CwledgerError):
    """Not ready to answer: the store is not at the schema this code expects, or not there."""

    code = "unavailable"
    status = 503
    problem = "unavailable"
    title = "Not ready"


class DatabaseUnavailable(Unavailable):
    """The database is not reachable, or refuses the connection."""

    code = "database-unavailable"


class DiskFull(CwledgerError):
    """The disk (or the database server's) is full: nothing was written; free space, then
    retry."""

    code = "disk-full"
    status = 507
    problem = "disk-full"
    title = "Insufficient storage"


class PdfUnavailable(CwledgerError):
    """PDF output asked for, but WeasyPrint or its system libraries cannot be loaded."""

    code = "pdf-unavailable"
    status = 501
    problem = "pdf-unavailable"
    title = "PDF output is not available here"


ECHO_LIMIT = 80
"""The most characters of an input that an error message repeats (`echo`)."""
MESSAGE_LIMIT = 1000
"""The most characters of one message, or one problem of a refusal (`clip`)."""


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how long it was: what every problem
    message and every error's detail is cut to, whatever input it repeats."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters in all)"


def echo_key(value: object) -> str:
    """A stored key (an index, a size, a name) as an error message names it: an integer as it
    is, anything else as `echo` repeats it (a row changed outside cwledger may hold any
    text, which a terminal must not be handed raw)."""
    return str(value) if type(value) is int else echo(value)


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """An input as an error message repeats it: its repr, cut to `limit` characters with
    its length said (a 100,000-character id is not sent back whole)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"
