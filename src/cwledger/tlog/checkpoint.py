"""Checkpoints: c2sp.org/tlog-checkpoint for RFC 6962 SHA-256 logs.

The note text is ``origin\\nsize\\nbase64(root)\\n`` followed by optional
extension lines. Parsing is strict where lenient parsers (transparency-dev/formats)
are not: the root hash must decode to exactly 32 bytes, extension lines must be
non-empty, the size must be canonical decimal below 2^64 and base64 canonical.
Output is byte-identical to golang.org/x/mod/sumdb/tlog's FormatTree.
"""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass

from cwledger.errors import MalformedInput, UnknownSigner, VerificationError
from cwledger.tlog import note as _note
from cwledger.tlog.note import Note, Verifier

__all__ = ["HASH_SIZE", "Checkpoint"]

HASH_SIZE = 32  # SHA-256
_SIZE = re.compile(r"0|[1-9][0-9]*")
_BAD_LINE = re.compile("[\x00-\x1f\ud800-\udfff]")  # any control (incl. newline), surrogates


def _check_line(line: str, what: str) -> None:
    if not line:
        raise MalformedInput(f"checkpoint {what}: expected a non-empty line, got ''")
    m = _BAD_LINE.search(line)
    if m:
        raise MalformedInput(
            f"checkpoint {what}: expected one line of text, got {m.group()!r} at {m.start()}"
        )


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, SHA-256 root hash and extension lines.

    Construction validates every field, so any instance formats to text that
    :meth:`from_text` accepts (and parses back to an equal instance).
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Validate every field. Raises: MalformedInput. Spec: tlog-checkpoint, "Note text"."""
        _check_line(self.origin, "origin")
        size: object = self.size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**64:
            raise MalformedInput(f"checkpoint size: expected an int in 0..2^64-1, got {size!r}")
        root: object = self.root_hash
        if not isinstance(root, bytes) or len(root) != HASH_SIZE:
            got = f"{len(root)} bytes" if isinstance(root, bytes) else type(root).__name__
            raise MalformedInput(f"checkpoint root hash: expected {HASH_SIZE} bytes, got {got}")
        extensions: object = self.extensions
        if not isinstance(extensions, tuple):
            raise MalformedInput(f"checkpoint extensions: expected a tuple, got {extensions!r}")
        for i, line in enumerate(extensions):
            _check_line(line, f"extension line {i + 1}")

    @classmethod
    def from_text(cls, text: str, *, origin: str | None = None) -> Checkpoint:
        """Parse checkpoint note text strictly; check the origin when one is given.

        Raises: MalformedInput for anything but exactly ``origin\\nsize\\nroot\\n``
        plus non-empty extension lines (no final newline, fewer than three lines,
        blank lines, a signed, zero-padded or over-2^64 size, non-canonical base64,
        a root that is not 32 bytes, control characters); VerificationError if the
        origin differs from ``origin``.
        Spec: c2sp.org/tlog-checkpoint, "Note text".
        """
        if not isinstance(text, str):
            raise TypeError(f"checkpoint text: expected str, got {type(text).__name__}")
        if not text.endswith("\n"):
            raise MalformedInput("checkpoint: expected text ending in a newline, got none")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedInput(f"checkpoint: expected at least 3 lines, got {len(lines)}")
        first, size, root, *rest = lines
        if len(size) > 20 or not _SIZE.fullmatch(size):  # 2^64-1 has 20 digits
            raise MalformedInput(
                f"checkpoint size: expected a decimal below 2^64 without sign or leading "
                f"zeros, got {size[:30]!r}"
            )
        _check_line(root, "root hash")
        checkpoint = cls(first, int(size), _note._unb64(root, "checkpoint root hash"), tuple(rest))
        if origin is not None and checkpoint.origin != origin:
            raise VerificationError(
                f"checkpoint origin: expected {origin!r}, got {checkpoint.origin!r}"
            )
        return checkpoint

    def to_text(self) -> str:
        """Return the note text ``origin\\nsize\\nbase64(root)\\n`` plus extension lines.

        Spec: c2sp.org/tlog-checkpoint, "Note text".
        """
        root = b64encode(self.root_hash).decode("ascii")
        head = f"{self.origin}\n{self.size}\n{root}\n"
        return head + "".join(line + "\n" for line in self.extensions)

    @classmethod
    def from_note(
        cls,
        note: bytes,
        verifiers: Sequence[Verifier],
        origin: str | None = None,
        *,
        log_key_name: str | None = None,
    ) -> tuple[Checkpoint, Note]:
        """Open a signed checkpoint, parse it, and check that the log itself signed it.

        ``origin``, if given, must equal the checkpoint's origin line. The note
        must carry a verified signature by a key named ``log_key_name``, which
        defaults to the origin (C2SP: the log's key name SHOULD match the origin).
        Logs that predate that rule need it spelt out, e.g. sum.golang.org signs
        origin "go.sum database tree" with the key "sum.golang.org". This stops a
        checkpoint signed only by a trusted witness from passing as the log's.
        Raises: as :func:`cwledger.tlog.note.open` and :meth:`from_text`;
        UnknownSigner if no verified signature is by ``log_key_name``.
        Spec: c2sp.org/tlog-checkpoint, "Signatures"; c2sp.org/signed-note.
        """
        opened = _note.open(note, verifiers)
        checkpoint = cls.from_text(opened.text, origin=origin)
        want = checkpoint.origin if log_key_name is None else log_key_name
        if not any(sig.name == want for sig in opened.sigs):
            got = sorted({sig.name for sig in opened.sigs})
            raise UnknownSigner(
                f"checkpoint: expected a verified signature by the log key {want!r}, "
                f"got signatures by {got}"
            )
        return checkpoint, opened
