#!/usr/bin/env python
"""`make screenshots`: every dashboard page at 1280 and 390 px, over the syria-2013 scenario,
written to docs/screenshots/<page>-<width>.png (the README shows the overview).

The scenario is loaded in the clear (``--plain``), so that an anonymous visitor sees every
page. With ``--confidential``: the public pages of the scenario as it is loaded by
default, confidential as the record was, as an anonymous visitor reads them (issue 16),
written to <page>-public-<width>.png.

With ``--lang ar,ru,zh``: each page in each of those languages (the browser asks for it in
``Accept-Language``), written to <page>-<lang>-<width>.png; ``--only overview,map`` keeps
those pages alone. English (the default) keeps the names without a language.

Starts `cwledger serve` on a free port of 127.0.0.1 with the pages public
(`cwledger.api.process.spawn`), drives Debian's Chromium with Playwright
(``/usr/bin/chromium``), and stops the server.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (1280, 390)


# Every page, with ids of the deterministic syria-2013 scenario.
PAGES = [
    ("overview", "/"),
    ("map", "/map?at=2014-04-24"),
    ("site", "/sites/S-01"),
    ("item", "/items/DF-001"),
    ("balances", "/balances?site=PORT-LOADING"),
    ("findings", "/findings"),
    ("log", "/log?entry=1000"),
    ("error", "/?at=2014-13-01"),
    ("login", "/login?error=token"),
]


# The public pages of a confidential ledger, for an anonymous visitor.
PUBLIC_PAGES = [
    ("overview-public", "/"),
    ("map-public", "/map"),
]


def shoot(
    out: Path,
    base: str,
    pages: list[tuple[str, str]] = PAGES,
    languages: tuple[str, ...] = ("en",),
) -> list[Path]:
    """Write every page's screenshot at each width in each language into `out`; return
    the files."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for lang in languages:
            for width in WIDTHS:
                context = browser.new_context(
                    viewport={"width": width, "height": 900},
                    extra_http_headers={"Accept-Language": lang},
                )
                page = context.new_page()
                for name, path in pages:
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("networkidle")
                    tag = "" if lang == "en" else f"-{lang}"
                    target = out / f"{name}{tag}-{width}.png"
                    # The overview whole (the README shows it), the others as first seen.
                    whole = name.startswith(("overview", "map-"))
                    page.screenshot(path=str(target), full_page=whole)
                    written.append(target)
                context.close()
        browser.close()
    return written


def _option(args: list[str], name: str) -> str | None:
    """Take ``name VALUE`` out of `args`; the value, or None."""
    if name not in args:
        return None
    at = args.index(name)
    value = args[at + 1]
    del args[at : at + 2]
    return value


def main() -> None:
    """Load the scenario in a temporary directory, serve it, shoot every page; or, with
    ``--base URL``, shoot a server already running over the scenario."""
    from cwledger.api.process import spawn
    from cwledger.scenario import syria_2013

    args = sys.argv[1:]
    base = _option(args, "--base")
    languages = tuple((_option(args, "--lang") or "en").split(","))
    only = _option(args, "--only")
    confidential = "--confidential" in args
    if confidential:
        args.remove("--confidential")
    pages = PUBLIC_PAGES if confidential else PAGES
    if only is not None:
        pages = [(name, path) for name, path in pages if name in only.split(",")]
    out = Path(args[0] if args else "docs/screenshots")
    if base is not None:
        for f in shoot(out, base, pages, languages):
            print(f)
        return
    with tempfile.TemporaryDirectory() as tmp:
        syria_2013.load(Path(tmp) / "ledger", confidential=confidential).close()
        server = spawn(Path(tmp) / "ledger", env={"CWLEDGER_PUBLIC_PAGES": "true"})
        try:
            for f in shoot(out, server.base, pages, languages):
                print(f)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
