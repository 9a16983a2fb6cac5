"""Scenarios: ledgers written from a story through the real append path (synthetic: synth)."""
