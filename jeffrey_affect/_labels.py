"""The eight affect labels, and how each training corpus's labels map onto them."""

from typing import Literal, get_args

Emotion = Literal[
    "joy", "fear", "frustration", "sadness", "anger", "surprise", "disgust", "neutral"
]
EMOTIONS: tuple[Emotion, ...] = get_args(Emotion)

GOEMOTIONS_MAPPING: dict[Emotion, tuple[str, ...]] = {
    "joy": (
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ),
    "fear": ("fear", "nervousness"),
    "frustration": ("annoyance", "disapproval", "disappointment"),
    "sadness": ("sadness", "grief", "remorse", "embarrassment"),
    "anger": ("anger",),
    "surprise": ("surprise", "realization", "confusion"),
    "disgust": ("disgust",),
    "neutral": ("neutral", "curiosity"),
}
"""Chat-aware: *curiosity* is neutral, since in a chat a plain question is not an emotion. So this
is no longer the Ekman grouping that GoEmotions' paper reports."""

XED_MAPPING: dict[Emotion, int] = {
    "anger": 1,
    "disgust": 3,
    "fear": 4,
    "joy": 5,
    "sadness": 6,
    "surprise": 7,
    "neutral": 9,
}
"""XED's label ids for ours; anticipation (2) and trust (8) have no counterpart and are left out,
and frustration has no XED label."""
