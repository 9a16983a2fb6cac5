#!/usr/bin/env python
"""Bring the gettext catalogues of one message domain up to date with the code:

    python scripts/catalogues.py --domain reports            # update the five catalogues
    python scripts/catalogues.py --domain reports --check    # change nothing; fail if stale
    python scripts/catalogues.py [--check] [DOMAIN ...]      # the same; default: every
                                                             # domain with a mapping

Extracts the domain's messages as ``src/cwledger/i18n/babel-<domain>.cfg`` says (Babel's
extractors for Python and Jinja), then updates ``catalogues/<lang>/LC_MESSAGES/<domain>.po``
for every language but English (the source): new messages are added untranslated, those
no longer used are dropped. Translate the new ones (the tests fail until every message is
translated in every language); nothing needs compiling, the `.po` files are read as they
are. Prints, per language, how many messages it has and how many still want a translation.
"""

from __future__ import annotations

import argparse
import sys

from cwledger.i18n import DOMAINS, LANGUAGES
from cwledger.i18n.extraction import mapping, update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help=" or ".join(DOMAINS))
    parser.add_argument("--domain", action="append", choices=DOMAINS, help="(repeatable)")
    parser.add_argument(
        "--lang",
        action="append",
        choices=[lang.code for lang in LANGUAGES if lang.code != "en"],
        help="only this language (repeatable; default: all five)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a catalogue is stale"
    )
    args = parser.parse_args(argv)
    for domain in args.domains:
        if domain not in DOMAINS:
            parser.error(f"unknown domain {domain!r}: one of {', '.join(DOMAINS)}")
    domains = [*(args.domain or []), *args.domains] or [d for d in DOMAINS if mapping(d).exists()]
    outcomes = [o for d in domains for o in update(d, args.lang, write=not args.check)]
    stale = False
    for o in outcomes:
        state = ("stale" if args.check else "updated") if o.changed else "up to date"
        stale |= o.changed
        print(
            f"{o.path}: {state}; {o.messages} messages, {o.untranslated} untranslated,"
            f" {o.fuzzy} fuzzy"
        )
    return 1 if args.check and (stale or any(o.untranslated or o.fuzzy for o in outcomes)) else 0


if __name__ == "__main__":
    sys.exit(main())
