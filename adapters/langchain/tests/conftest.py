import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig
from tests.helpers import CountingEncoder


@pytest.fixture(scope="module")
def classifier(
    counting_encoder: CountingEncoder, tmp_path_factory: pytest.TempPathFactory
) -> AffectClassifier:
    """One classifier per module, on its tier's ``counting_encoder`` (a wider scope would carry
    one tier's classifier into the other's modules); no cache, so every classification reaches
    the encoder."""
    log_dir: Path = tmp_path_factory.mktemp("logs")
    return AffectClassifier(AffectConfig(log_dir=log_dir, cache_size=0), encoder=counting_encoder)


@pytest.fixture
def encoder_calls(counting_encoder: CountingEncoder) -> list[list[str]]:
    """The texts of each encoder call made during this test."""
    counting_encoder.calls.clear()
    return counting_encoder.calls


@pytest.fixture
def encoder_threads(counting_encoder: CountingEncoder) -> list[int]:
    """The thread of each encoder call made during this test."""
    counting_encoder.threads.clear()
    return counting_encoder.threads
