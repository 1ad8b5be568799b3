"""The unit tier: ``FakeEncoder`` stands in for MiniLM, and building a real encoder fails."""

import pytest

from tests.helpers import FakeEncoder, refuse_model_loads


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_model_loads(monkeypatch)


@pytest.fixture(scope="session")
def encoder() -> FakeEncoder:
    return FakeEncoder()
