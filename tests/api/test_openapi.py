"""The committed OpenAPI document is the app's, and the app keeps to it: schemathesis
generates requests from the committed file and checks every answer in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cwledger.api.openapi import document, render
from cwledger.ledger.ledger import Ledger
from tests.api.conftest import Api, make_api
from tests.book.builders import Book, item
from tests.conftest import FOUNDING, ORIGIN

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_committed_document_is_the_apps() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(document()), (
        "docs/openapi.json is stale: run `make openapi`"
    )


def test_the_document_is_openapi_3_1_with_problem_responses() -> None:
    doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1")
    assert "/log/checkpoint" in doc["paths"] and "/api/v1/events/batch" in doc["paths"]
    post = doc["paths"]["/api/v1/events/batch"]["post"]
    for status in ("401", "403", "413", "422", "429"):
        assert "application/problem+json" in post["responses"][status]["content"]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    led = Ledger.init(
        tmp_path_factory.mktemp("fuzz") / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
    )
    Book(led).declare([item("I-1"), item("I-2", "S-2", kg=500)])
    yield make_api(led, ["insp"], rate_per_second=1e6, rate_burst=10**6)
    led.close()


OPERATIONS = [
    (path, method.upper())
    for path, item in json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"].items()
    for method in item
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_the_app_keeps_to_its_committed_document(fuzzed: Api, path: str, method: str) -> None:
    schema = schemathesis.openapi.from_path(COMMITTED)
    schema.app = fuzzed.app
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=30, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=fuzzed.auth("insp"),
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )

    check()
