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

from jeffrey_affect import AffectClassifier, AffectConfig, Encoder


@pytest.fixture
def make_classifier(encoder: Encoder, tmp_path: Path) -> Callable[..., AffectClassifier]:
    """Classifiers on the tier's ``encoder`` (or ``encoder_override``), logging under tmp_path."""

    def make(*, encoder_override: Any = None, **settings: Any) -> AffectClassifier:
        settings.setdefault("log_dir", tmp_path / "logs")
        return AffectClassifier(AffectConfig(**settings), encoder=encoder_override or encoder)

    return make
