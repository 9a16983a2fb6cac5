"""Schema validation: the vendored GS1 schema, the official examples, typical mistakes."""

from __future__ import annotations

import copy
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from cwledger.epcis import validate_document
from cwledger.epcis.schema import SCHEMA_FILE

from ._shared import EPCIS, EXAMPLES, example_id, load


def test_vendored_schema_is_byte_identical_to_the_shared_copy() -> None:
    vendored = files("cwledger.epcis").joinpath(SCHEMA_FILE).read_bytes()
    assert vendored == (EPCIS / "EPCIS-JSON-Schema.json").read_bytes()


def test_all_official_examples_are_collected() -> None:
    assert len(EXAMPLES) == 19


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_official_example_is_valid(path: Path) -> None:
    assert validate_document(load(path)) == []


def _example() -> dict[str, Any]:
    return copy.deepcopy(load(EPCIS / "examples" / "Example_9.6.1-ObjectEvent.jsonld"))


def test_a_time_that_is_no_date_time_fails_with_its_path() -> None:
    doc = _example()
    doc["epcisBody"]["eventList"][0]["eventTime"] = "yesterday"
    errors = validate_document(doc)
    assert errors == ["$.epcisBody.eventList[0].eventTime: 'yesterday' is not a 'date-time'"]


def test_an_unknown_business_step_fails() -> None:
    doc = _example()
    doc["epcisBody"]["eventList"][1]["bizStep"] = "sealing"  # CBV 2.0 has no such step
    errors = validate_document(doc)
    assert len(errors) == 1 and errors[0].startswith("$.epcisBody.eventList[1].bizStep: 'sealing'")


def test_every_problem_is_reported() -> None:
    doc = _example()
    first, second = doc["epcisBody"]["eventList"]
    first["eventTime"] = "yesterday"
    second["bizStep"] = "sealing"
    del second["action"]
    second["quantityList"] = [
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": "12", "uom": "kg"}
    ]
    paths = [e.split(":")[0] for e in validate_document(doc)]
    assert "$.epcisBody.eventList[0].eventTime" in paths
    assert "$.epcisBody.eventList[1].bizStep" in paths
    assert "$.epcisBody.eventList[1]" in paths  # action is required
    assert "$.epcisBody.eventList[1].quantityList[0].quantity" in paths
    assert "$.epcisBody.eventList[1].quantityList[0].uom" in paths


def test_not_a_document() -> None:
    assert validate_document({"type": "EPCISDocument"}) != []
    assert validate_document([]) != []
