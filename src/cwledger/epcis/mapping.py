"""Our chain-of-custody events to EPCIS 2.0 JSON-LD and back (MAPPING.md section 4).

* :func:`to_epcis` - an EPCISDocument for a sequence of ``(log index, event)`` pairs;
  every EPCIS event carries its CBV event hash as ``eventID``.
* :func:`from_epcis` - the events of an EPCISDocument or EPCISQueryDocument, with every
  EPCIS event the ledger cannot take refused with its reason.
"""

from __future__ import annotations

from cwledger.epcis._export import EXPORTED, to_epcis
from cwledger.epcis._import import ImportResult, from_epcis
from cwledger.epcis._names import DEFAULT_BASE

__all__ = ["DEFAULT_BASE", "EXPORTED", "ImportResult", "from_epcis", "to_epcis"]
