"""Affect (emotion) classification for chat agents."""

from jeffrey_affect._classifier import AffectClassifier
from jeffrey_affect._config import AffectConfig
from jeffrey_affect._encoder import Encoder, SentenceTransformerEncoder
from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._redact import redact
from jeffrey_affect._result import AffectResult
from jeffrey_affect._text import preprocess_light
from jeffrey_affect._tone import ToneDirective, TonePolicy
from jeffrey_affect._tracker import AffectTracker, ConversationAffect, is_escalating

__all__ = [
    "EMOTIONS",
    "AffectClassifier",
    "AffectConfig",
    "AffectResult",
    "AffectTracker",
    "ConversationAffect",
    "Emotion",
    "Encoder",
    "SentenceTransformerEncoder",
    "ToneDirective",
    "TonePolicy",
    "is_escalating",
    "preprocess_light",
    "redact",
]
