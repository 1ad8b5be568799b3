"""TonePolicy on what the real classifier makes of plain turns."""

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder, TonePolicy

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
