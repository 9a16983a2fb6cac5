"""cwledger: a tamper-evident, multi-party ledger for a chemical weapons stockpile elimination."""

__version__ = "0.1.0"
