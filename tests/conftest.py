import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# One ONNX export per checkout, kept between runs, never in the user's own cache.
os.environ.setdefault(
    "JEFFREY_AFFECT_ONNX_CACHE", str(Path(__file__).resolve().parents[1] / ".cache" / "onnx")
)

from collections.abc import Callable
from typing import Any

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder
from jeffrey_affect._artifacts import ArtifactSource, bundled_artifacts_dir
from jeffrey_affect._config import DEFAULT_ENCODER
from jeffrey_affect._encoder import Adapter

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOEMOTIONS = SHARED / "goemotions"
XED = SHARED / "xed"


def bundled_adapter() -> Adapter | None:
    """The committed artifacts' encoder adapter, as the classifier finds it."""
    return ArtifactSource.read(bundled_artifacts_dir(), DEFAULT_ENCODER).verified_adapter()


def bundled_encoder(**options: Any) -> SentenceTransformerEncoder:
    """The torch encoder for the committed artifacts: MiniLM with their adapter."""
    return SentenceTransformerEncoder(adapter=bundled_adapter(), **options)


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled encoder, loaded once: it takes seconds."""
    return bundled_encoder()


@pytest.fixture
def make_classifier(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> Callable[..., AffectClassifier]:
    def make(*, encoder_override: Any = None, **settings: Any) -> AffectClassifier:
        settings.setdefault("log_dir", tmp_path / "logs")
        return AffectClassifier(AffectConfig(**settings), encoder=encoder_override or encoder)

    return make


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
