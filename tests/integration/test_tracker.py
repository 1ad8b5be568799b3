"""AffectTracker on a few turns through the real classifier."""

import json
import math

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig, AffectTracker, SentenceTransformerEncoder

CALM_TO_ANGRY = [
    "Hi, where is my order #1234?",
    "It was due three days ago and nobody has told me anything.",
    "This is ridiculous, I want my money back NOW.",
]
ANGRY_TO_THANKS = [
    "You charged me twice, fix it now!",
    "Ok, the refund shows as pending I guess.",
    "It's there now, thanks a lot!",
]


@pytest.fixture(scope="module")
def real_classifier(encoder: SentenceTransformerEncoder) -> AffectClassifier:
    return AffectClassifier(AffectConfig(log_enabled=False), encoder=encoder)


def test_real_classifier_calm_annoyed_angry_escalates(real_classifier: AffectClassifier) -> None:
    tracker = AffectTracker(real_classifier)
    tracker.observe("My package arrived damaged.")
    tracker.observe("Ugh, that's the second time this month.")
    assert tracker.state.escalation is False
    tracker.observe("I'm really angry now. Fix this or I'm cancelling.")
    assert tracker.state.escalation is True


def test_real_classifier_angry_then_thanks_does_not_escalate(
    real_classifier: AffectClassifier,
) -> None:
    tracker = AffectTracker(real_classifier)
    for text in ANGRY_TO_THANKS:
        tracker.observe(text)
        assert tracker.state.escalation is False


def test_real_results_survive_the_json_round_trip(real_classifier: AffectClassifier) -> None:
    tracker = AffectTracker(real_classifier)
    results = [tracker.observe(text) for text in CALM_TO_ANGRY]
    state = tracker.state
    assert state.history == results
    assert math.fsum(state.mood.values()) == pytest.approx(1.0)
    dumped = json.loads(json.dumps(state.model_dump(mode="json")))
    assert AffectTracker.from_state(real_classifier, dumped).state == state
