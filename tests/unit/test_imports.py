"""Each package's public names, pinned: adding or dropping one is an API change, made here on
purpose."""

from types import ModuleType

import langchain_jeffrey_affect
import pytest

import jeffrey_affect

EXPECTED = {
    jeffrey_affect: [
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
    ],
    langchain_jeffrey_affect: [
        "AffectInput",
        "AffectMiddleware",
        "AffectRunnable",
        "AffectState",
        "tone_runnable",
    ],
}


@pytest.mark.parametrize("package", EXPECTED, ids=lambda p: p.__name__)
def test_all_is_pinned_and_each_name_resolves(package: ModuleType) -> None:
    assert sorted(package.__all__) == sorted(EXPECTED[package])
    for name in package.__all__:
        assert getattr(package, name) is not None, name
