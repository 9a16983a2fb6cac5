"""The dashboard in a real browser: `cwledger serve` over the syria-2013 scenario on
127.0.0.1, and Debian's Chromium driven by Playwright for Python.

Outside CI a missing Chromium skips these tests with the reason; under `CI=true` they
fail instead (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from cwledger.api.process import spawn
from cwledger.ledger.access import issue_token
from cwledger.ledger.keystore import CHECKPOINT_SIGNER
from cwledger.ledger.ledger import Ledger

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    """The server under test: its base URL, the ledger directory, an observer's token and
    the log's verifier key (what a user would pin)."""

    base: str
    ledger_dir: Path
    token: str
    log_key: str


@pytest.fixture(scope="session")
def site(syria_2013_copy: Callable[..., Path]) -> Iterator[Site]:
    """`cwledger serve` over the scenario, pages public (a demonstration ledger)."""
    path = syria_2013_copy(confidential=False)
    led = Ledger.open(path)
    token, _ = issue_token(led.store, led.authority(), "observer-us")
    log_key = led.keystore.signer(CHECKPOINT_SIGNER).verifier().vkey()
    led.close()
    server = spawn(path, env={"CWLEDGER_PUBLIC_PAGES": "true"})
    yield Site(server.base, path, token, log_key)
    server.stop()


def require_chromium() -> None:
    """Skip (fail under CI=true) where Debian's Chromium is not installed."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        reason = f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), no sandbox, background networking off."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watched:
    """A page with what it logged to the console and every request it made."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No console error, and no request left 127.0.0.1."""
        assert not self.errors, self.errors
        hosts = {
            urlparse(u).hostname for u in self.requests if not u.startswith(("data:", "blob:"))
        }
        assert hosts <= {"127.0.0.1"}, hosts


@pytest.fixture(params=[1280, 390], ids=["1280px", "390px"])
def width(request: pytest.FixtureRequest) -> int:
    """Each page at a desktop and a phone width."""
    return int(request.param)


def open_page(browser: Any, width: int = 1280) -> Watched:
    """A new page (its own context) that records console errors and requests."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(str(e)))
    page.on("request", lambda r: watched.requests.append(r.url))
    return watched


@pytest.fixture
def view(browser: Any) -> Iterator[Watched]:
    """A fresh page at 1280 px."""
    w = open_page(browser)
    yield w
    w.page.context.close()
