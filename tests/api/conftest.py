"""The API in-process (TestClient) over real ledgers, with a token for every party."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cwledger.api import create_app
from cwledger.http.settings import Settings
from cwledger.ledger.access import issue_token
from cwledger.ledger.ledger import Ledger
from tests.conftest import FOUNDING, ORIGIN

PARTIES = ["operator", *(name for name, _ in FOUNDING)]


@dataclass
class Api:
    """A client of the app, the ledger behind it, and a bearer token per party."""

    client: TestClient
    ledger: Ledger
    tokens: dict[str, str]
    app: FastAPI

    def auth(self, party: str) -> dict[str, str]:
        """The Authorization header of `party`'s token."""
        return {"Authorization": f"Bearer {self.tokens[party]}"}


def make_api(ledger: Ledger, parties: list[str], **settings: object) -> Api:
    """An app over `ledger` with a token for each party (and any settings changed)."""
    authority = ledger.authority()
    tokens = {p: issue_token(ledger.store, authority, p)[0] for p in parties}
    app = create_app(Settings(ledger=ledger.path, **settings), ledger=ledger)  # type: ignore[arg-type]
    return Api(TestClient(app, raise_server_exceptions=False), ledger, tokens, app)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A new ledger (operator, inspectorate, declarant, observer) behind the API."""
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    yield make_api(led, PARTIES)
    led.close()


@pytest.fixture(scope="module")
def scenario_api(syria_2013_copy: Callable[..., Path]) -> Iterator[Api]:
    """The syria-2013 scenario behind the API (read-only tests)."""
    led = Ledger.open(syria_2013_copy(confidential=False))
    parties = sorted(led.authority().parties)
    yield make_api(led, parties)
    led.close()
