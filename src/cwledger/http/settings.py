"""The server's settings, from the environment (prefix ``CWLEDGER_``) or the command line."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


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
    token_cache_seconds: float = 1.0
    """How long an authenticated token is remembered: a revoked or expired token, or a party
    the log no longer lists, is refused at most this long after the change."""
