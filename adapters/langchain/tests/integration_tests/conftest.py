"""The integration tier: the real bundled encoder."""

import pytest

from tests.helpers import CountingEncoder, bundled_encoder


@pytest.fixture(scope="session")
def counting_encoder() -> CountingEncoder:
    return CountingEncoder(bundled_encoder())
