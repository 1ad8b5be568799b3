"""What one classification returns."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from jeffrey_affect._labels import Emotion

Route = Literal["linear_head", "prototypes", "regex"]

# How each ``fallback_reason`` that the router writes begins: telemetry sorts reasons by them.
EMPTY_TEXT = "empty text"
ENCODER_FAILED = "encoder failed"
ENCODER_SHAPE = "encoder returned shape"
NON_FINITE = "non-finite embedding"
HEAD_FAILED = "linear head failed"
UNSUPPORTED_LANGUAGE = "language"


class AffectResult(BaseModel):
    """One user turn's emotion, with where it came from and how sure it is.

    ``scores`` holds all eight labels and sums to 1; ``confidence`` is the top score.
    ``fallback_reason`` is None when the linear head served, else why it did not (it never
    quotes the user's text). ``low_confidence`` is ``confidence`` below the configured
    threshold. ``language`` is the turn's ISO 639-1 code as identified, or None where it cannot
    be told (too short, no letters). ``cache_hit`` says the embedding work was skipped;
    ``model_version`` and ``class_prior`` name what made the scores. Its fields cannot be
    reassigned (treat ``scores`` as read-only too: a tracker's history holds the same object), and
    it is JSON-ready with ``model_dump_json()``.

    Example:
        >>> from jeffrey_affect import AffectClassifier, AffectConfig
        >>> r = AffectClassifier(AffectConfig(log_enabled=False)).classify("")
        >>> r.emotion, r.route, r.fallback_reason
        ('neutral', 'regex', 'empty text')
    """

    model_config = ConfigDict(frozen=True)

    emotion: Emotion
    confidence: float = Field(ge=0.0, le=1.0)
    scores: dict[Emotion, float]
    route: Route
    fallback_reason: str | None
    low_confidence: bool
    latency_ms: float = Field(ge=0.0)
    cache_hit: bool
    model_version: str
    class_prior: str
    language: str | None = None


UNKNOWN_LANGUAGE = "unknown"
"""What telemetry and the report call the language of a turn whose ``language`` is None."""
