"""Where the shared EPCIS artefacts and hash vectors live; fails loudly when they are missing.

``shared/`` is a sibling of the clone directory (``<clone>/../shared``), here and in CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EPCIS = SHARED / "epcis"
HASH_VECTORS = SHARED / "vectors" / "epcis-hash"

if not EPCIS.is_dir() or not HASH_VECTORS.is_dir():  # no skip: a run without them must fail
    raise RuntimeError(f"EPCIS artefacts or hash vectors not found under {SHARED}")

EXAMPLES = sorted(EPCIS.glob("examples/**/*.jsonld"))


def load(path: Path) -> Any:
    """Parse a JSON or JSON-LD file."""
    return json.loads(path.read_text(encoding="utf-8"))


def example_id(path: Path) -> str:
    """A test id for an official example: its path below examples/."""
    return str(path.relative_to(EPCIS / "examples"))
