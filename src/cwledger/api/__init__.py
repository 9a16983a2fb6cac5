"""The HTTP API over one ledger (FastAPI): see `cwledger.api.app.create_app`; its settings
are `cwledger.http.settings.Settings`."""

from cwledger.api.app import create_app

__all__ = ["create_app"]
