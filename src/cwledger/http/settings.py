"""The server's settings: one `Settings` object, the one source of everything the server
reads (the ledger, the address it listens on, the limits).

How they flow: `cwledger serve` builds the object once, from its options and the
environment (variables ``CWLEDGER_<FIELD>``, e.g. ``CWLEDGER_PUBLIC_PAGES=true``), listens
on its `host` and `port`, and hands it to the server's worker processes with
`hand_to_workers`: the object as JSON in the one variable ``CWLEDGER_SERVER_SETTINGS``,
which each worker's app factory (`cwledger.api.app.server_app`) reads back with
`for_server` (uvicorn starts its workers from an import string, so the object cannot be
passed as an argument). Tests and the demo pass a `Settings` to `create_app` directly.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SERVER_SETTINGS"]

SERVER_SETTINGS = "CWLEDGER_SERVER_SETTINGS"
"""The environment variable through which `cwledger serve` hands its settings to workers."""


class Settings(BaseSettings):
    """Where the ledger is, where to listen, and the limits on what a client may send.

    `ledger` is the ledger directory (its keystore signs checkpoints); `database_url`, when
    set, names the database (``sqlite:///...`` or ``postgresql+psycopg://...``) instead of
    the directory's own ``ledger.db``.
    """

    model_config = SettingsConfigDict(env_prefix="CWLEDGER_", extra="ignore")

    ledger: Path = Path(".")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_request_bytes: int = 8 * 1024 * 1024
    max_batch: int = 1000
    rate_per_second: float = 100.0
    rate_burst: int = 400
    page_limit: int = 1000
    public_pages: bool = False
    """Serve the dashboard's pages without a session (a public demonstration ledger); the
    API still needs a token for everything but the published log."""
    session_hours: float = 8.0
    """How long a dashboard session lasts after login at most (it ends sooner at logout, or
    when the token it was opened with is revoked or expires)."""
    public_origin: str | None = None
    """The origin browsers reach the pages at, when a proxy serves them (e.g.
    ``https://ledger.example.org``): the forms must come from it; ``https://`` also says the
    server is behind HTTPS (session cookies are then `Secure`). Unset: the request's own
    scheme and ``Host``."""
    token_cache_seconds: float = 1.0
    """How long an authenticated token is remembered: a revoked or expired token, or a party
    the log no longer lists, is refused at most this long after the change."""
    max_clock_skew_seconds: float = Field(default=300.0, ge=0, le=86_400)
    """How far an event's time may be after the log's own clock (the server's): a party's
    clock may run this much ahead; an event dated later is refused (422)."""
    late_entry_days: float = Field(default=7.0, gt=0, le=3650)
    """How far an event's time may be before the moment the log took it before the entry
    counts as recorded late: listed by `cwledger late-entries`, flagged in the monthly
    report, and a milestone it meets says "met (recorded late)"."""

    @property
    def max_skew(self) -> int:
        """`max_clock_skew_seconds` in microseconds (the ledger's `max_skew`)."""
        return round(self.max_clock_skew_seconds * 1_000_000)

    @property
    def late_after(self) -> int:
        """`late_entry_days` in microseconds (the ledger's `late_after`)."""
        return round(self.late_entry_days * 86_400 * 1_000_000)

    def hand_to_workers(self) -> None:
        """Make these the settings of the server processes started from now on (each reads
        them with `for_server`)."""
        os.environ[SERVER_SETTINGS] = self.model_dump_json()

    @classmethod
    def for_server(cls) -> Settings:
        """The settings `cwledger serve` handed to this process; without any, the defaults
        and the ``CWLEDGER_*`` environment variables."""
        handed = os.environ.get(SERVER_SETTINGS)
        return cls() if handed is None else cls.model_validate_json(handed)
