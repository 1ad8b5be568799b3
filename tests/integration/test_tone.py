"""TonePolicy on what the real classifier makes of plain turns."""

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder, TonePolicy
from tests.helpers import DATA

POLICY = TonePolicy()


def test_real_classifier_results_pick_the_matching_tone(
    encoder: SentenceTransformerEncoder,
) -> None:
    classifier = AffectClassifier(AffectConfig(log_enabled=False), encoder=encoder)
    assert (
        POLICY.for_result(classifier.classify("Thank you so much, this is wonderful!"))
        == POLICY.joy
    )
    assert POLICY.for_result(classifier.classify("I'm so angry at you people!")) == POLICY.anger


@pytest.mark.xfail(
    strict=True, reason="issue 27, open: 3 of 28 sarcastic complaints still read as sure joy"
)
def test_no_sarcastic_complaint_is_celebrated(encoder: SentenceTransformerEncoder) -> None:
    """Issue 27: on the hard turns set, a sarcastic complaint never gets the upbeat directive,
    whatever the classifier reads it as."""
    hard_turns = (DATA / "meaning" / "hard_turns.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in hard_turns.splitlines()]
    complaints = [text for label, kind, text in rows if kind == "sarcasm" and label != "joy"]
    assert len(complaints) >= 25
    classifier = AffectClassifier(AffectConfig(log_enabled=False), encoder=encoder)
    celebrated = [
        text
        for text, result in zip(complaints, classifier.classify_batch(complaints), strict=True)
        if POLICY.for_result(result) == POLICY.joy
    ]
    assert celebrated == []
