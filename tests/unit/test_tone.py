"""TonePolicy: precedence of escalation and low confidence, defaults, and overrides."""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from jeffrey_affect import (
    EMOTIONS,
    AffectClassifier,
    AffectConfig,
    Emotion,
    ToneDirective,
    TonePolicy,
)
from jeffrey_affect._tone import CELEBRATION_MARGIN, COMPLAINTS
from tests.helpers import FakeEncoder, made_result

POLICY = TonePolicy()

# A phrase each default must carry: the behaviour the brief asks of that tone.
EXPECTED_PHRASES: dict[Emotion, str] = {
    "frustration": "next concrete step",
    "fear": "what happens next",
    "anger": "do not be defensive",
    "sadness": "toxic positivity",
    "joy": "celebrate",
    "surprise": "explain",
    "disgust": "matter-of-fact",
    "neutral": "clearly and helpfully",
}


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_each_emotion_gets_its_own_default(emotion: Emotion) -> None:
    directive = POLICY.directive(emotion)
    assert directive == getattr(POLICY, emotion)
    assert EXPECTED_PHRASES[emotion] in directive.system_prompt


def test_defaults_are_distinct_tones() -> None:
    directives = [POLICY.directive(e) for e in EMOTIONS]
    tones = {d.tone for d in [*directives, POLICY.low_confidence, POLICY.escalation]}
    assert len(tones) == len(EMOTIONS) + 2


def test_low_confidence_is_neutral_and_does_not_guess() -> None:
    directive = POLICY.directive("sadness", low_confidence=True)
    assert directive == POLICY.low_confidence
    assert "do not guess about the user's feelings" in directive.style.lower()
    assert "Do not guess about the user's feelings" in directive.system_prompt
    assert POLICY.directive("sadness", low_confidence=False) == POLICY.sadness


def test_escalation_wins_over_low_confidence_and_emotion() -> None:
    assert POLICY.directive("joy", escalation=True) == POLICY.escalation
    assert POLICY.directive("anger", low_confidence=True, escalation=True) == POLICY.escalation
    prompt = POLICY.escalation.system_prompt
    for phrase in ("Apologise once", "calm", "concrete next step", "human"):
        assert phrase in prompt


@given(
    emotion=st.sampled_from(EMOTIONS),
    low_confidence=st.booleans(),
    escalation=st.booleans(),
)
def test_precedence_escalation_then_low_confidence_then_emotion(
    emotion: Emotion, low_confidence: bool, escalation: bool
) -> None:
    directive = POLICY.directive(emotion, low_confidence, escalation)
    if escalation:
        assert directive == POLICY.escalation
    elif low_confidence:
        assert directive == POLICY.low_confidence
    else:
        assert directive == getattr(POLICY, emotion)


def test_for_result_follows_the_results_own_low_confidence_flag() -> None:
    confident = made_result("fear", 0.3, low_confidence=False)
    unsure = made_result("fear", 0.8, low_confidence=True)
    assert POLICY.for_result(confident) == POLICY.fear
    assert POLICY.for_result(unsure) == POLICY.low_confidence
    assert POLICY.for_result(confident, escalation=True) == POLICY.escalation


def test_the_classifiers_threshold_is_the_policys(encoder: FakeEncoder) -> None:
    text = "hmm, not sure what to make of that"
    for threshold in (0.0, 1.0):
        config = AffectConfig(log_enabled=False, low_confidence_threshold=threshold)
        result = AffectClassifier(config, encoder=encoder).classify(text)
        expected = POLICY.low_confidence if threshold == 1.0 else getattr(POLICY, result.emotion)
        assert POLICY.for_result(result) == expected


def test_unknown_emotion_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown emotion 'escalation'"):
        POLICY.directive("escalation")  # type: ignore[arg-type]


def test_directives_are_frozen() -> None:
    with pytest.raises(ValidationError):
        POLICY.joy.tone = "flat"


def test_partial_override_merges_over_defaults() -> None:
    policy = TonePolicy.from_dict({"frustration": {"style": "One line, then the fix."}})
    assert policy.frustration == ToneDirective(
        tone=POLICY.frustration.tone,
        style="One line, then the fix.",
        system_prompt=POLICY.frustration.system_prompt,
    )
    assert policy.joy == POLICY.joy
    assert policy.escalation == POLICY.escalation


def test_overrides_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "tone.toml"
    path.write_text(
        "[escalation]\n"
        'tone = "handoff"\n'
        'system_prompt = "Apologise and hand over to a human agent."\n'
        "\n"
        "[joy]\n"
        'style = "Keep it short."\n',
        encoding="utf-8",
    )
    policy = TonePolicy.from_toml(path)
    assert policy.directive("anger", escalation=True) == ToneDirective(
        tone="handoff",
        style=POLICY.escalation.style,
        system_prompt="Apologise and hand over to a human agent.",
    )
    assert policy.directive("joy").style == "Keep it short."
    assert policy.joy.tone == POLICY.joy.tone
    assert policy.sadness == POLICY.sadness


def test_policy_round_trips_through_its_own_dump() -> None:
    policy = TonePolicy.from_dict({"anger": {"tone": "steady"}})
    assert TonePolicy.from_dict(policy.model_dump()) == policy
    assert TonePolicy.model_validate_json(policy.model_dump_json()) == policy


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"frustated": {"style": "x"}}, r"unknown tone policy key\(s\) \['frustated'\]"),
        ({"joy": {"colour": "yellow"}}, "colour"),
        ({"joy": "be happy"}, "'joy' must be a table"),
        ({"joy": {"tone": 3}}, "joy.tone"),
        ({"low_confidence_threshold": 0.5}, "low_confidence_threshold"),  # AffectConfig's
    ],
)
def test_bad_overrides_are_rejected_clearly(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TonePolicy.from_dict(overrides)


@pytest.mark.parametrize("overrides", [None, [], "joy", [("joy", {"tone": "warm"})]])
def test_overrides_that_are_not_a_mapping_are_a_type_error_naming_the_type(overrides: Any) -> None:
    with pytest.raises(TypeError, match=f"must be a mapping .* got {type(overrides).__name__}"):
        TonePolicy.from_dict(overrides)


def test_bad_toml_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tone.toml"
    path.write_text('[happy]\nstyle = "yay"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="happy"):
        TonePolicy.from_toml(path)


SCORES = st.lists(st.floats(0.0, 1.0), min_size=len(EMOTIONS), max_size=len(EMOTIONS)).filter(
    lambda values: sum(values) > 0
)


@given(values=SCORES)
def test_joy_is_celebrated_only_with_a_clear_lead_over_the_complaints(values: list[float]) -> None:
    """Whatever the scores, the upbeat directive means joy led frustration, anger, disgust,
    sadness and fear together by the margin; below it the agent is told not to guess."""
    scores = {e: v / sum(values) for e, v in zip(EMOTIONS, values, strict=True)}
    lead = scores["joy"] - sum(scores[e] for e in COMPLAINTS)
    directive = POLICY.directive("joy", scores=scores)
    assert directive == (POLICY.joy if lead >= CELEBRATION_MARGIN else POLICY.low_confidence)
    result = made_result("joy", confidence=max(scores.values()), scores=scores)
    assert POLICY.for_result(result) == directive


def test_a_sarcastic_reading_is_not_celebrated_but_a_clear_one_is() -> None:
    sarcastic = made_result(
        "joy", 0.55, scores=dict.fromkeys(EMOTIONS, 0.0) | {"joy": 0.55, "frustration": 0.45}
    )
    assert POLICY.for_result(sarcastic) == POLICY.low_confidence
    assert POLICY.for_result(made_result("joy", 0.95)) == POLICY.joy
    # Without scores (a caller that keeps only the label) the emotion's own directive stands.
    assert POLICY.directive("joy") == POLICY.joy
