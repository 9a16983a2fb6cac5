"""The append path: envelopes, signatures, authority, admission, the ledger and its audit."""
