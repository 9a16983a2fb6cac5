"""The HTTP API over one ledger (FastAPI): see `cwledger.api.app.create_app`."""

from cwledger.api.app import create_app
from cwledger.http.settings import Settings

__all__ = ["create_app", "Settings"]
