"""What the HTTP API (`cwledger.api`) and the dashboard (`cwledger.web`) share: the server's
`settings`, the FastAPI dependencies (`deps`: the caller from its token, read snapshots and
their answer cache), the answers both serve (`documents`), and the error mapping
(`problems`). Neither `api` nor `web` is imported here."""
