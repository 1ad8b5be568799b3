import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import threading
from pathlib import Path

import numpy as np
import pytest

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder
from jeffrey_affect._artifacts import ArtifactSource, bundled_artifacts_dir
from jeffrey_affect._config import DEFAULT_ENCODER


class CountingEncoder:
    """The real encoder, recording each call's texts and thread so tests can see the batching."""

    def __init__(self, inner: SentenceTransformerEncoder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []
        self.threads: list[int] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def adapter_sha256(self) -> str | None:
        return self.inner.adapter_sha256

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.append(threading.get_ident())
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def counting_encoder() -> CountingEncoder:
    adapter = ArtifactSource.read(bundled_artifacts_dir(), DEFAULT_ENCODER).verified_adapter()
    return CountingEncoder(SentenceTransformerEncoder(adapter=adapter))


@pytest.fixture(scope="session")
def classifier(
    counting_encoder: CountingEncoder, tmp_path_factory: pytest.TempPathFactory
) -> AffectClassifier:
    """One classifier for the session; no cache, so every classification reaches the encoder."""
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
