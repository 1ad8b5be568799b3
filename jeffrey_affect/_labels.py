"""The eight affect labels and how GoEmotions' 28 map onto them."""

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
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
    "disgust": ("disgust",),
    "neutral": ("neutral",),
}
