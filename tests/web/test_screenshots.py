"""`make screenshots` writes every page at both widths (what the README shows)."""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.web.conftest import Site, require_chromium

ROOT = Path(__file__).resolve().parents[2]


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "screenshots", ROOT / "scripts" / "screenshots.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shoot(out: Path, base: str, *options: str) -> list[Path]:
    """Run the script against a running server; the files it says it wrote."""
    require_chromium()  # the script runs its own browser, in a process of its own
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), str(out), "--base", base]
        + list(options),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [Path(line) for line in done.stdout.split()]


def test_every_page_is_shot_at_both_widths(site: Site, tmp_path: Path) -> None:
    shots = _script()
    written = _shoot(tmp_path, site.base)
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


def test_the_overview_is_shot_in_other_languages(site: Site, tmp_path: Path) -> None:
    """`--lang ar,zh --only overview`: the overview in each, named by its language."""
    written = sorted(
        p.name for p in _shoot(tmp_path, site.base, "--lang", "ar,zh", "--only", "overview")
    )
    assert written == [f"overview-{lang}-{w}.png" for lang in ("ar", "zh") for w in (1280, 390)]


def test_the_committed_screenshots_include_arabic_russian_and_chinese() -> None:
    for lang in ("ar", "ru", "zh"):
        for width in (1280, 390):
            assert (ROOT / "docs" / "screenshots" / f"overview-{lang}-{width}.png").is_file()
