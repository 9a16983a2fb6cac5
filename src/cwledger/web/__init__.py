"""The web dashboard: server-rendered pages (Jinja2, htmx where it helps) over the same
core functions as the CLI and the API (`views.mount` adds them to the API's app). Every
asset is vendored under `static/`; `charts` draws SVG charts for the pages and reports."""
