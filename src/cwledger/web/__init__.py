"""The web dashboard: server-rendered pages (Jinja2, htmx where it helps) over the same
core functions as the CLI and the API. `views` is what every page shares, one module per
page (`login`, `pages`, `sites`, `items`, `accounts`, `compliance`, `log`), and `mount`
adds them all to the API's app. Every asset is vendored under `static/`; the charts are
`cwledger.charts`. The dashboard imports the shared HTTP pieces (`cwledger.http`), never
`cwledger.api`."""
