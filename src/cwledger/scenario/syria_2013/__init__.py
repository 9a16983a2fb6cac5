"""The scenario `syria-2013`: the 2013-2016 elimination, replayed through the real append path.

Built from the public aggregate facts of ``shared/SCENARIO-2013.md``, kept apart from
what is made of them:

- ``facts`` and ``milestones``: the facts as tables, each row naming the section and row
  of the facts file it comes from;
- ``world``: the log, the parties, the sites (fictional names and coordinates in the
  country), the chemicals and the declared items;
- ``story``: the events in the order they are told (``build``) and the ledger they are
  written to (``load``); its chapters ``in_country``, ``removal`` and ``abroad``, written
  with ``builder``.

What it plants on purpose, for the rules to catch on their own: a seal found broken at
one storage facility (a finding, then a reseal), and one container weighed short at the
port of loading, beyond the combined uncertainty (a shipper/receiver difference). The
record itself gives the rules one more: the munitions of the two sites found unsafe are
put at inspected ones by the formal declaration alone (a finding, closed once they were
destroyed under verification there).

What the record describes of custody and accountancy, it holds (section 3): every seal
checked at each hand-over (the loading at the port, each onward leg), every receipt
weighed, weighed physical inventories at month ends, measurement methods and alarm
thresholds signed before the data (``accountancy``).
"""

from cwledger.scenario.syria_2013.facts import NOTES
from cwledger.scenario.syria_2013.facts.in_country import REMOVAL_REPORTED
from cwledger.scenario.syria_2013.in_country import BROKEN_SEAL_ITEM
from cwledger.scenario.syria_2013.removal import SHORT_ITEM
from cwledger.scenario.syria_2013.story import build, load
from cwledger.scenario.syria_2013.world import DECLARANT, KEY_SEED, NAME, ORIGIN, PARTIES

__all__ = [
    "BROKEN_SEAL_ITEM",
    "DECLARANT",
    "KEY_SEED",
    "NAME",
    "NOTES",
    "ORIGIN",
    "PARTIES",
    "REMOVAL_REPORTED",
    "SHORT_ITEM",
    "build",
    "load",
]
