"""EPCIS 2.0 / CBV 2.0 for the chain of custody: event hash, schema validation, mapping.

* :mod:`~cwledger.epcis.hash` - the CBV 2.0 event hash ID (``ni:///sha-256;...?ver=CBV2.0``).
* :mod:`~cwledger.epcis.schema` - validation against GS1's EPCIS 2.0 JSON Schema.
* :mod:`~cwledger.epcis.mapping` - our events to an EPCISDocument and back (import it by
  name: it reads the event-type registry, which reads the exporters and importers here).

JSON-LD only (no XML binding), no network: the GS1 schema and vocabulary ship with the package.
"""

from __future__ import annotations

from cwledger.epcis.hash import document_hashes, event_hash, event_prehash
from cwledger.epcis.schema import validate_document

__all__ = [
    "document_hashes",
    "event_hash",
    "event_prehash",
    "validate_document",
]
