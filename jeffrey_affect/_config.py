"""Settings, each overridable by a ``JEFFREY_AFFECT_<FIELD>`` environment variable."""

import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jeffrey_affect._labels import EMOTIONS

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"

OnnxBackend = Literal["onnx-int8", "onnx"]
"""ONNX Runtime, int8-quantized or fp32: runs without torch."""
Backend = Literal[OnnxBackend, "torch"]
"""The encoder runtimes; "torch" runs sentence-transformers itself."""
ClassPrior = Literal["uniform", "train"] | dict[str, float]


class AffectConfig(BaseSettings):
    """How the classifier encodes, routes and logs.

    ``class_prior`` corrects the head's Reddit-trained prior: "uniform" suits chat traffic, "train"
    keeps GoEmotions' own prior, and a mapping of label to weight matches a user's own traffic.
    ``redactor`` replaces the built-in ``redact`` on what the log (and a LangChain tracer) keeps
    of a turn, for users with rules of their own. The README's configuration table describes
    every field. Frozen: build another config to change one.

    Raises:
        pydantic.ValidationError: a value out of range, an unknown backend, or ``class_prior``
            weights that are not finite and positive for exactly the eight labels.

    Example:
        >>> from jeffrey_affect import AffectConfig
        >>> AffectConfig(cache_size=0, log_enabled=False).cache_size
        0
        >>> import os
        >>> os.environ["JEFFREY_AFFECT_LOG_TEXT_CHARS"] = "0"
        >>> AffectConfig().log_text_chars
        0
        >>> del os.environ["JEFFREY_AFFECT_LOG_TEXT_CHARS"]
    """

    model_config = SettingsConfigDict(env_prefix="JEFFREY_AFFECT_", frozen=True)

    encoder_model: str = DEFAULT_ENCODER
    encoder_prefix: str | None = None
    encoder_backend: Backend = "onnx-int8"
    cache_size: int = Field(default=4096, ge=0)
    artifacts_dir: Path | None = None
    class_prior: ClassPrior = "uniform"
    low_confidence_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    log_enabled: bool = True
    log_dir: Path = Path("logs/predictions")
    log_text_chars: int = Field(default=50, ge=0)
    log_retention_days: int | None = Field(default=None, ge=1)
    log_compress_after_days: int | None = Field(default=None, ge=1)
    redactor: Callable[[str], str] | None = None

    @field_validator("class_prior")
    @classmethod
    def _weights_cover_every_label(cls, prior: ClassPrior) -> ClassPrior:
        if isinstance(prior, dict):
            unknown = set(prior) - set(EMOTIONS)
            missing = set(EMOTIONS) - set(prior)
            if unknown or missing or any(not 0 < w < math.inf for w in prior.values()):
                raise ValueError(
                    f"class_prior weights need a finite positive weight for each of {EMOTIONS}; "
                    f"unknown {sorted(unknown)}, missing {sorted(missing)}"
                )
        return prior
