"""Where the shared test vectors live, and a loader that fails loudly when they are missing.

The vectors are not in this repository: ``shared/`` is a sibling of the clone directory
(``<clone>/../shared/vectors``), both here and in CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
TLOG_VECTORS = VECTORS / "tlog"

if not TLOG_VECTORS.is_dir():  # no skip: a run without the vectors must not pass
    raise RuntimeError(
        f"transparency-log test vectors not found at {TLOG_VECTORS}; "
        "shared/vectors/tlog must sit next to the repository checkout"
    )


def load(name: str) -> Any:
    """Parse ``shared/vectors/tlog/<name>`` (raises if absent or not JSON)."""
    return json.loads((TLOG_VECTORS / name).read_text(encoding="utf-8"))


def unhex(values: list[str]) -> list[bytes]:
    """Decode a list of hex strings."""
    return [bytes.fromhex(v) for v in values]


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    """Test ids from each vector's desc (else its source, else its key), numbered so they
    stay unique."""
    out = []
    for i, v in enumerate(vectors):
        label = v.get("desc") or v.get("source", {}).get("what") or v.get("vkey", "")[:40]
        out.append(f"{i}-{label[:80]}")
    return out
