"""A transparency-log witness: c2sp.org/tlog-witness with c2sp.org/tlog-cosignature keys.

* :mod:`~cwledger.witness.protocol` - the add-checkpoint body and the decision (pure).
* :mod:`~cwledger.witness.store` - the witness's key and its durable state (SQLite).
* :mod:`~cwledger.witness.app` - the HTTP service (``POST /add-checkpoint``).
* :mod:`~cwledger.witness.client` - :func:`add_checkpoint`, asking a witness to cosign.
"""
