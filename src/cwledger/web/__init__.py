"""The web dashboard: server-rendered pages (Jinja2, htmx where it helps) over the same
core functions as the CLI and the API. Every asset is vendored under `static/`."""

from cwledger.web.views import mount

__all__ = ["mount"]
