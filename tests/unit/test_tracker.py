"""AffectTracker on scripted conversations."""

import json
import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from jeffrey_affect import (
    EMOTIONS,
    AffectResult,
    AffectTracker,
    ConversationAffect,
    Emotion,
)
from tests.helpers import made_result


def from_scores(scores: dict[Emotion, float], low_confidence: bool = False) -> AffectResult:
    top = max(scores, key=scores.__getitem__)
    return made_result(top, scores[top], scores=scores, low_confidence=low_confidence)


def result(low_confidence: bool = False, **weights: float) -> AffectResult:
    """A result whose named labels get ``weights`` and the rest share what is left evenly."""
    rest = [e for e in EMOTIONS if e not in weights]
    spare = (1.0 - sum(weights.values())) / len(rest)
    return from_scores({e: weights.get(e, spare) for e in EMOTIONS}, low_confidence)


class ScriptedClassifier:
    """Answers each scripted line with its prepared result (a fixture, not a stand-in library)."""

    def __init__(self, script: Iterable[tuple[str, AffectResult]]) -> None:
        self._answers = dict(script)

    def classify(self, text: str) -> AffectResult:
        return self._answers[text]


CALM_TO_ANGRY = [
    ("Hi, where is my order #1234?", result(neutral=0.9)),
    ("It was due three days ago and nobody has told me anything.", result(frustration=0.6)),
    ("This is ridiculous, I want my money back NOW.", result(anger=0.8, frustration=0.1)),
]
ANGRY_TO_THANKS = [
    ("You charged me twice, fix it now!", result(anger=0.8, frustration=0.1)),
    ("Ok, the refund shows as pending I guess.", result(frustration=0.5)),
    ("It's there now, thanks a lot!", result(joy=0.8)),
]
ALTERNATING = [
    ("This is unacceptable!", result(anger=0.8)),
    ("Ok.", result(neutral=0.9)),
    ("Still unacceptable!", result(anger=0.8)),
    ("Fine.", result(neutral=0.9)),
    ("Absolutely unacceptable!", result(anger=0.8)),
]


def escalation_after_each(script: list[tuple[str, AffectResult]], **options: Any) -> list[bool]:
    tracker = AffectTracker(ScriptedClassifier(script), **options)
    flags = []
    for text, _ in script:
        tracker.observe(text)
        flags.append(tracker.state.escalation)
    return flags


def test_calm_annoyed_angry_escalates_on_the_third_turn() -> None:
    assert escalation_after_each(CALM_TO_ANGRY) == [False, False, True]


def test_angry_then_calmer_then_thanks_is_not_escalation() -> None:
    assert escalation_after_each(ANGRY_TO_THANKS) == [False, False, False]


def test_a_single_angry_turn_is_not_escalation() -> None:
    assert escalation_after_each([("I am furious!", result(anger=0.95))]) == [False]


def test_alternating_anger_and_calm_is_not_escalation() -> None:
    assert escalation_after_each(ALTERNATING) == [False] * 5


def test_staying_angry_from_the_start_escalates_once_the_window_is_full() -> None:
    script = [
        ("Your app deleted my files.", result(frustration=0.7)),
        ("Three hours of work, gone.", result(frustration=0.7)),
        ("I am done with you people.", result(anger=0.7)),
    ]
    assert escalation_after_each(script) == [False, False, True]


def test_steady_frustration_without_anger_is_not_escalation() -> None:
    script = [(f"Still broken ({i}).", result(frustration=0.6)) for i in range(4)]
    assert escalation_after_each(script) == [False] * 4


def test_rising_heat_needs_a_heated_latest_turn() -> None:
    # h rises 0.1 -> 0.3 -> 0.45, but the top emotion stays neutral.
    script = [
        ("a", result(neutral=0.8, frustration=0.05, anger=0.05)),
        ("b", result(neutral=0.6, frustration=0.2, anger=0.1)),
        ("c", result(neutral=0.5, frustration=0.25, anger=0.2)),
    ]
    assert escalation_after_each(script)[-1] is False


def test_rising_heat_tolerates_a_small_dip_but_not_a_large_one() -> None:
    def script(third_frustration: float) -> list[tuple[str, AffectResult]]:
        return [
            ("a", result(neutral=0.7, frustration=0.1, anger=0.1)),
            ("b", result(frustration=0.62)),
            ("c", result(frustration=third_frustration)),
        ]

    # h goes 0.2 -> ~0.67 -> ~0.59 (a 0.085 dip) or ~0.49 (a 0.19 dip): the other labels share
    # what is left, so anger gets ~0.05-0.09 in the last two turns.
    assert escalation_after_each(script(0.52))[-1] is True
    assert escalation_after_each(script(0.4))[-1] is False


def test_escalation_clears_when_the_user_calms_down() -> None:
    script = [*CALM_TO_ANGRY, ("Oh, it just arrived. Thanks!", result(joy=0.85))]
    assert escalation_after_each(script) == [False, False, True, False]


def test_escalation_window_is_configurable() -> None:
    assert escalation_after_each(CALM_TO_ANGRY[1:], escalation_window=2) == [False, True]
    assert escalation_after_each(CALM_TO_ANGRY, escalation_window=4) == [False] * 3


def test_observe_returns_the_result_and_counts_turns() -> None:
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    assert tracker.state == ConversationAffect(escalation_window=3)
    for i, (text, expected) in enumerate(CALM_TO_ANGRY, start=1):
        assert tracker.observe(text) == expected
        assert tracker.state.latest == expected
        assert tracker.state.turns == i


def test_history_is_bounded_and_drops_the_oldest() -> None:
    script = [(f"turn {i}", result(joy=0.2 + 0.1 * i)) for i in range(5)]
    tracker = AffectTracker(ScriptedClassifier(script), history_size=3)
    for text, _ in script:
        tracker.observe(text)
    state = tracker.state
    assert state.history == [r for _, r in script[2:]]
    assert state.latest == script[-1][1]
    assert state.turns == 5


def test_mood_is_the_first_turn_then_an_exponential_moving_average() -> None:
    first, second = result(frustration=0.6), result(joy=0.9)
    tracker = AffectTracker(ScriptedClassifier([("a", first), ("b", second)]), mood_alpha=0.25)
    tracker.observe("a")
    assert tracker.state.mood == first.scores
    tracker.observe("b")
    for e in EMOTIONS:
        assert tracker.state.mood[e] == pytest.approx(
            0.25 * second.scores[e] + 0.75 * first.scores[e]
        )


def test_low_confidence_turns_count_in_history_and_mood() -> None:
    unsure = result(low_confidence=True, sadness=0.3)
    script = [("I'm fine.", result(neutral=0.9)), ("whatever", unsure)]
    tracker = AffectTracker(ScriptedClassifier(script))
    for text, _ in script:
        tracker.observe(text)
    assert tracker.state.history[-1] == unsure
    assert tracker.state.turns == 2
    assert tracker.state.mood["sadness"] > script[0][1].scores["sadness"]


distributions = st.lists(
    st.floats(min_value=0.01, max_value=1.0), min_size=len(EMOTIONS), max_size=len(EMOTIONS)
).map(lambda ws: {e: w / sum(ws) for e, w in zip(EMOTIONS, ws, strict=True)})


@given(turns=st.lists(distributions, min_size=1, max_size=12), alpha=st.floats(0.05, 1.0))
def test_mood_is_a_distribution_over_all_labels(
    turns: list[dict[Emotion, float]], alpha: float
) -> None:
    script = [(str(i), from_scores(s)) for i, s in enumerate(turns)]
    tracker = AffectTracker(ScriptedClassifier(script), mood_alpha=alpha, history_size=5)
    for text, _ in script:
        tracker.observe(text)
    mood = tracker.state.mood
    assert set(mood) == set(EMOTIONS)
    assert math.fsum(mood.values()) == pytest.approx(1.0)
    assert all(v >= 0.0 for v in mood.values())


@given(start=distributions, recent=distributions, alpha=st.floats(0.05, 0.95))
def test_mood_moves_toward_recent_turns(
    start: dict[Emotion, float], recent: dict[Emotion, float], alpha: float
) -> None:
    target = from_scores(recent)
    script = [("start", from_scores(start)), ("recent", target)]
    tracker = AffectTracker(ScriptedClassifier(script), mood_alpha=alpha)
    tracker.observe("start")

    def distance() -> float:
        return sum(abs(tracker.state.mood[e] - target.scores[e]) for e in EMOTIONS)

    before = distance()
    for _ in range(3):
        tracker.observe("recent")
        after = distance()
        assert after == pytest.approx((1 - alpha) * before, abs=1e-9)
        before = after


def test_state_round_trips_through_json_and_escalation_spans_the_restore() -> None:
    classifier = ScriptedClassifier(CALM_TO_ANGRY)
    tracker = AffectTracker(classifier)
    for text, _ in CALM_TO_ANGRY[:2]:
        tracker.observe(text)

    dumped = json.loads(json.dumps(tracker.state.model_dump(mode="json")))
    resumed = AffectTracker.from_state(classifier, dumped)
    assert resumed.state == tracker.state

    resumed.observe(CALM_TO_ANGRY[2][0])
    assert resumed.state.escalation is True
    assert resumed.state.turns == 3


@given(saved=st.integers(2, 6), resumed=st.integers(2, 6))
def test_a_snapshot_resumes_only_under_the_window_it_was_made_with(
    saved: int, resumed: int
) -> None:
    script = [*CALM_TO_ANGRY, *ANGRY_TO_THANKS]
    tracker = AffectTracker(ScriptedClassifier(script), escalation_window=saved)
    for text, _ in script:
        tracker.observe(text)
    dumped = json.loads(json.dumps(tracker.state.model_dump(mode="json")))
    assert dumped["escalation_window"] == saved

    classifier = ScriptedClassifier(script)
    if resumed != saved:
        with pytest.raises(ValueError, match=f"made with escalation_window={saved}, not {resumed}"):
            AffectTracker.from_state(classifier, dumped, escalation_window=resumed)
    else:
        again = AffectTracker.from_state(classifier, dumped, escalation_window=saved)
        assert again.state == tracker.state


@pytest.mark.parametrize("window", [2, 3, 5])
def test_a_snapshot_without_a_window_takes_the_resuming_trackers(window: int) -> None:
    """Snapshots made before the window was recorded still load, under the tracker's window."""
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    for text, _ in CALM_TO_ANGRY[:2]:
        tracker.observe(text)
    older = tracker.state.model_dump(mode="json")
    del older["escalation_window"]

    resumed = AffectTracker.from_state(
        ScriptedClassifier(CALM_TO_ANGRY), older, escalation_window=window
    )
    resumed.observe(CALM_TO_ANGRY[2][0])

    assert resumed.state.escalation_window == window
    assert resumed.state.escalation is (window <= 3)  # calm, annoyed, angry: three turns


def test_from_state_trims_history_to_the_new_size() -> None:
    script = [(f"turn {i}", result(joy=0.5)) for i in range(6)]
    tracker = AffectTracker(ScriptedClassifier(script))
    for text, _ in script:
        tracker.observe(text)
    resumed = AffectTracker.from_state(ScriptedClassifier(script), tracker.state, history_size=4)
    assert resumed.state.history == tracker.state.history[-4:]
    assert resumed.state.turns == 6


def test_from_state_rejects_an_inconsistent_snapshot() -> None:
    dumped = ConversationAffect(
        latest=result(joy=0.9), history=[result(joy=0.9)], turns=1
    ).model_dump(mode="json")
    with pytest.raises(ValidationError, match="latest must be the last entry"):
        AffectTracker.from_state(ScriptedClassifier([]), {**dumped, "history": []})
    with pytest.raises(ValidationError, match="turns=0"):
        AffectTracker.from_state(ScriptedClassifier([]), {**dumped, "turns": 0})
    with pytest.raises(ValidationError, match="mood must"):
        AffectTracker.from_state(ScriptedClassifier([]), {**dumped, "mood": {"joy": 1.0}})


def test_from_state_refuses_scores_edited_to_lack_labels_before_a_turn_can_fail() -> None:
    """The reported edit: every entry's scores cut to one label, which observe then lacked."""
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    conversation: dict[str, Any] = {}
    for text, _ in CALM_TO_ANGRY[:2]:
        tracker.attach(conversation, text)
    snap = conversation["affect"]
    for entry in snap["history"]:
        entry["scores"] = {"joy": 1.0}
    snap["latest"] = snap["history"][-1]
    with pytest.raises(
        ValidationError, match=r"history\[0\]\.scores must hold a value in \[0, 1\]"
    ):
        AffectTracker.from_state(ScriptedClassifier(CALM_TO_ANGRY), snap)


def _valid_snapshot() -> dict[str, Any]:
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    for text, _ in CALM_TO_ANGRY:
        tracker.observe(text)
    return tracker.state.model_dump()  # Python floats, so that NaN and inf survive


bad_scores = st.floats(allow_nan=True).filter(lambda v: not 0.0 <= v <= 1.0)


@given(entry=st.integers(0, len(CALM_TO_ANGRY) - 1), label=st.sampled_from(EMOTIONS))
def test_from_state_refuses_an_entry_lacking_a_label(entry: int, label: Emotion) -> None:
    snap = _valid_snapshot()
    del snap["history"][entry]["scores"][label]
    snap["latest"] = snap["history"][-1]
    with pytest.raises(ValidationError, match=rf"history\[{entry}\]\.scores must hold"):
        AffectTracker.from_state(ScriptedClassifier([]), snap)


@given(
    entry=st.integers(0, len(CALM_TO_ANGRY) - 1),
    label=st.sampled_from(EMOTIONS),
    value=bad_scores,
)
def test_from_state_refuses_a_score_outside_0_1(entry: int, label: Emotion, value: float) -> None:
    snap = _valid_snapshot()
    snap["history"][entry]["scores"][label] = value
    snap["latest"] = snap["history"][-1]
    with pytest.raises(ValidationError, match=rf"history\[{entry}\]\.scores must hold"):
        AffectTracker.from_state(ScriptedClassifier([]), snap)


@given(label=st.sampled_from(EMOTIONS), value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_from_state_refuses_a_non_finite_mood(label: Emotion, value: float) -> None:
    snap = _valid_snapshot()
    snap["mood"][label] = value
    with pytest.raises(ValidationError, match="mood values must be finite"):
        AffectTracker.from_state(ScriptedClassifier([]), snap)


@pytest.mark.parametrize("kept", [0, 1])
def test_from_state_refuses_escalation_before_any_window_is_full(kept: int) -> None:
    snap = _valid_snapshot()
    assert snap["escalation"] is True
    snap["history"] = snap["history"][:kept]
    snap["latest"] = snap["history"][-1] if kept else None
    with pytest.raises(
        ValidationError, match=f"escalation cannot be True with len\\(history\\)={kept}"
    ):
        AffectTracker.from_state(ScriptedClassifier([]), snap)


def test_from_state_refuses_escalation_before_the_recorded_window_is_full() -> None:
    snap = _valid_snapshot()  # escalating after three turns, under the window of 3
    snap["escalation_window"] = 4
    with pytest.raises(ValidationError, match="len\\(history\\)=3: the escalation window is 4"):
        ConversationAffect.model_validate(snap)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (made_result("joy", scores={"joy": 1.0}), KeyError),
        (made_result("joy", scores={e: math.nan for e in EMOTIONS}), ValidationError),
        (made_result("joy", scores={e: 2.0 for e in EMOTIONS}), ValidationError),
    ],
    ids=["lacks labels", "nan", "above 1"],
)
def test_a_turn_that_fails_leaves_the_state_as_it_was(
    bad: AffectResult, error: type[Exception]
) -> None:
    tracker = AffectTracker(ScriptedClassifier([*CALM_TO_ANGRY, ("bad", bad)]))
    for text, _ in CALM_TO_ANGRY[:2]:
        tracker.observe(text)
    before = tracker.state
    with pytest.raises(error):
        tracker.observe("bad")
    assert tracker.state == before
    tracker.observe(CALM_TO_ANGRY[2][0])  # and the conversation goes on
    assert tracker.state.escalation is True


def test_attach_writes_the_json_state_into_a_dict() -> None:
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    state: dict[str, Any] = {"messages": []}
    text, expected = CALM_TO_ANGRY[0]
    assert tracker.attach(state, text) == expected
    assert state["affect"] == tracker.state.model_dump(mode="json")
    json.dumps(state)

    tracker.attach(state, CALM_TO_ANGRY[1][0], key="user_affect")
    assert state["user_affect"]["turns"] == 2
    assert state["affect"]["turns"] == 1


def test_attach_sets_an_attribute_on_a_pydantic_state() -> None:
    class AgentState(BaseModel):
        affect: dict[str, Any] | None = None

    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    state = AgentState()
    tracker.attach(state, CALM_TO_ANGRY[0][0])
    assert state.affect == tracker.state.model_dump(mode="json")


class WithoutField(BaseModel):
    messages: list[str] = []


class Frozen(BaseModel, frozen=True):
    affect: dict[str, Any] | None = None


@pytest.mark.parametrize("state", [WithoutField(), Frozen()], ids=["no field", "frozen"])
def test_attach_refuses_a_model_that_cannot_hold_it_without_observing(state: BaseModel) -> None:
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    with pytest.raises(ValueError, match="cannot store the snapshot"):
        tracker.attach(state, CALM_TO_ANGRY[0][0])
    assert tracker.state.turns == 0


@pytest.mark.parametrize("bad", [["messages"], "state", None])
def test_attach_rejects_other_state_types_without_observing(bad: Any) -> None:
    tracker = AffectTracker(ScriptedClassifier(CALM_TO_ANGRY))
    with pytest.raises(TypeError, match=type(bad).__name__):
        tracker.attach(bad, CALM_TO_ANGRY[0][0])
    assert tracker.state.turns == 0


@pytest.mark.parametrize(
    "options",
    [
        {"mood_alpha": 0.0},
        {"mood_alpha": 1.5},
        {"escalation_window": 1},
        {"history_size": 2, "escalation_window": 3},
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AffectTracker(ScriptedClassifier([]), **options)


def test_concurrent_observes_lose_no_turn() -> None:
    script = [(f"turn {i}", result(sadness=0.4 + 0.001 * i)) for i in range(200)]
    tracker = AffectTracker(ScriptedClassifier(script))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(tracker.observe, [text for text, _ in script]))
    state = tracker.state
    assert state.turns == 200
    assert len(state.history) == 20
    assert math.fsum(state.mood.values()) == pytest.approx(1.0)
