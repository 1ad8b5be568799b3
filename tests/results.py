"""Hand-made AffectResults for tests that script a conversation or a log line."""

from typing import Any

from jeffrey_affect import EMOTIONS, AffectResult, Emotion


def made_result(emotion: Emotion, confidence: float = 0.9, **fields: Any) -> AffectResult:
    """``confidence`` on ``emotion``, the rest spread evenly; ``fields`` override anything."""
    rest = (1.0 - confidence) / (len(EMOTIONS) - 1)
    values: dict[str, Any] = {
        "emotion": emotion,
        "confidence": confidence,
        "scores": {e: confidence if e == emotion else rest for e in EMOTIONS},
        "route": "linear_head",
        "fallback_reason": None,
        "low_confidence": confidence < 0.4,
        "latency_ms": 1.0,
        "cache_hit": False,
        "model_version": "test",
        "class_prior": "uniform",
    }
    return AffectResult(**(values | fields))
