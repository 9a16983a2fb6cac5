"""`python -m cwledger` runs the CLI."""

from cwledger.cli import main

main()
