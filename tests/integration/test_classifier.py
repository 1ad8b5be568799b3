"""The router on the real encoder and the committed artifacts: plain turns get their labels, and a
batch scores as its turns do one by one."""

from collections.abc import Callable

import pytest

from jeffrey_affect import EMOTIONS, AffectClassifier
from tests.helpers import assert_valid

Make = Callable[..., AffectClassifier]


def test_clear_turns_get_the_obvious_label_from_the_head(make_classifier: Make) -> None:
    clf = make_classifier(class_prior="train")
    turns = {
        "thank you so much, this is wonderful!": "joy",
        "I'm terrified about the surgery tomorrow": "fear",
        "my grandmother passed away last night": "sadness",
        "ew, that is absolutely disgusting": "disgust",
        "please set a reminder for 3pm": "neutral",
    }
    for text, label in turns.items():
        r = clf.classify(text)
        assert_valid(r)
        assert (r.emotion, r.route, r.fallback_reason) == (label, "linear_head", None), text
        assert r.model_version == clf.artifacts.manifest.config_hash[:12]  # type: ignore[union-attr]


def test_batch_and_single_agree(make_classifier: Make) -> None:
    texts = ["I can't believe you lost my parcel AGAIN", "lovely, thanks", "is it open on sunday?"]
    batch = make_classifier(cache_size=0).classify_batch(texts)
    single = [make_classifier(cache_size=0).classify(t) for t in texts]
    for b, s in zip(batch, single, strict=True):
        assert b.emotion == s.emotion
        for e in EMOTIONS:
            assert b.scores[e] == pytest.approx(s.scores[e], abs=1e-4)
