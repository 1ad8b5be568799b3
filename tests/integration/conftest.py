"""The integration tier: the real bundled encoder, GoEmotions and XED beside the checkout."""

from pathlib import Path

import pytest

from jeffrey_affect import SentenceTransformerEncoder
from tests.helpers import GOEMOTIONS, XED, bundled_encoder


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled encoder, loaded once: it takes seconds."""
    return bundled_encoder()


@pytest.fixture(scope="session")
def goemotions() -> Path:
    if not (GOEMOTIONS / "train.tsv").is_file():
        pytest.skip(
            f"GoEmotions not found at {GOEMOTIONS} (it lives beside the checkout in ../shared)"
        )
    return GOEMOTIONS


@pytest.fixture(scope="session")
def xed() -> Path:
    if not (XED / "en-annotated.tsv").is_file():
        pytest.skip(f"XED not found at {XED} (it lives beside the checkout in ../shared)")
    return XED
