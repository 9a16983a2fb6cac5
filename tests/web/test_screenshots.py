"""`make screenshots` writes every page at both widths (what the README shows)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from typing import Any

from tests.web.conftest import Site

ROOT = Path(__file__).resolve().parents[2]


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "screenshots", ROOT / "scripts" / "screenshots.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_page_is_shot_at_both_widths(site: Site, browser: Any, tmp_path: Path) -> None:
    shots = _script()
    written = shots.shoot(tmp_path, site.base)
    want = {f"{name}-{w}.png" for name, _ in shots.PAGES for w in shots.WIDTHS}
    assert {p.name for p in written} == want
    for p in written:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width = struct.unpack(">I", data[16:20])[0]
        assert width == int(p.stem.rsplit("-", 1)[1])


def test_the_readme_shows_the_overview() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/screenshots/overview-1280.png" in readme
    assert (ROOT / "docs" / "screenshots" / "overview-1280.png").is_file()
