"""The API's OpenAPI 3.1 document, as committed in ``docs/openapi.json``.

``python -m cwledger.api.openapi [PATH]`` writes it (``make openapi``); a test holds the
committed file equal to what the app describes, and schemathesis tests the app against it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from cwledger.api.app import create_app
from cwledger.http.settings import Settings
from cwledger.ledger.ledger import Ledger

__all__ = ["document", "render"]


def document() -> dict[str, Any]:
    """The OpenAPI document of the app (built over a throwaway ledger: it does not depend
    on what a ledger holds)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger"
        ledger = Ledger.init(path, "openapi.invalid/cwledger", time="2013-09-14T00:00:00Z")
        try:
            return create_app(Settings(ledger=path), ledger=ledger).openapi()
        finally:
            ledger.close()


def render(doc: dict[str, Any]) -> str:
    """The document as committed: indented JSON with a final newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the document to the path given (default docs/openapi.json)."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json")
    target.write_text(render(document()), encoding="utf-8")


if __name__ == "__main__":
    main()
