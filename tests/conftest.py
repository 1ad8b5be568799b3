import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder

GOEMOTIONS = Path(__file__).resolve().parents[1].parent / "shared" / "goemotions"


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled encoder, loaded once: it takes seconds."""
    return SentenceTransformerEncoder()


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
