"""AffectMiddleware inside a real langchain create_agent, with a scripted chat model."""

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware.types import InputAgentState
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langchain_jeffrey_affect import AffectMiddleware
from langgraph.checkpoint.memory import InMemorySaver

from jeffrey_affect import (
    EMOTIONS,
    AffectClassifier,
    AffectConfig,
    AffectResult,
    AffectTracker,
    TonePolicy,
    is_escalating,
    preprocess_light,
)
from tests.helpers import (
    CountingEncoder,
    FakeEncoder,
    ScriptedModel,
    log_lines,
    made_result,
    system_prompts,
)

ANGRY = "the third time my order broke and I am furious with you people"
HAPPY = "It works now, thank you so much!"
SYSTEM = "You are a support agent."
KEPT = {"emotion", "confidence", "scores", "route", "low_confidence", "language"}


@tool
def order_status(order_id: str) -> str:
    """Look up an order."""
    return f"order {order_id} shipped"


def kept(result: AffectResult) -> dict[str, Any]:
    """What the agent state keeps of a result."""
    return result.model_dump(include=KEPT)


def tool_loop() -> ScriptedModel:
    """One tool call, then a final answer: two model calls in one user turn."""
    call = {"name": "order_status", "args": {"order_id": "42"}, "id": "call-1"}
    return ScriptedModel(responses=[AIMessage("", tool_calls=[call]), AIMessage("It shipped.")])


def turn(text: str) -> InputAgentState:
    return {"messages": [HumanMessage(text)]}


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_the_final_state_carries_the_affect(classifier: AffectClassifier, mode: str) -> None:
    agent = create_agent(
        ScriptedModel(responses=[AIMessage("Sorry.")]), middleware=[AffectMiddleware(classifier)]
    )

    state = (
        agent.invoke(turn(ANGRY)) if mode == "invoke" else asyncio.run(agent.ainvoke(turn(ANGRY)))
    )

    assert state["affect"]["emotion"] == classifier.classify(ANGRY).emotion
    assert state["affect_history"] == [state["affect"]]
    assert "affect_message_id" not in state


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_a_tool_loop_does_not_reclassify(
    classifier: AffectClassifier, encoder_calls: list[list[str]], mode: str
) -> None:
    model = tool_loop()
    agent = create_agent(model, [order_status], middleware=[AffectMiddleware(classifier)])

    state = (
        agent.invoke(turn(ANGRY)) if mode == "invoke" else asyncio.run(agent.ainvoke(turn(ANGRY)))
    )

    assert len(model.received) == 2
    assert encoder_calls == [[preprocess_light(ANGRY)]]
    assert len(state["affect_history"]) == 1


def test_each_new_user_turn_is_classified_and_history_is_capped(
    classifier: AffectClassifier,
) -> None:
    agent = create_agent(
        ScriptedModel(responses=[AIMessage("Noted.")]),
        middleware=[AffectMiddleware(classifier, history_size=3)],
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}

    emotions = []
    for text in (ANGRY, HAPPY, "I'm scared it will break again.", "ok."):
        state = agent.invoke(turn(text), config)
        emotions.append(classifier.classify(text).emotion)

    assert [h["emotion"] for h in state["affect_history"]] == emotions[1:]
    assert state["affect"] == state["affect_history"][-1]


def test_adapt_tone_appends_the_directive_to_the_system_prompt(
    classifier: AffectClassifier,
) -> None:
    model = tool_loop()
    agent = create_agent(
        model,
        [order_status],
        system_prompt=SYSTEM,
        middleware=[AffectMiddleware(classifier, adapt_tone=True)],
    )

    state = agent.invoke(turn(ANGRY))

    directive = TonePolicy().directive(
        state["affect"]["emotion"], state["affect"]["low_confidence"]
    )
    assert system_prompts(model) == [f"{SYSTEM}\n\n{directive.system_prompt}"] * 2


def test_adapt_tone_without_a_system_prompt_sends_the_directive_alone(
    classifier: AffectClassifier,
) -> None:
    model = ScriptedModel(responses=[AIMessage("Sorry.")])
    agent = create_agent(model, middleware=[AffectMiddleware(classifier, adapt_tone=True)])

    state = asyncio.run(agent.ainvoke(turn(ANGRY)))

    directive = TonePolicy().directive(
        state["affect"]["emotion"], state["affect"]["low_confidence"]
    )
    assert system_prompts(model) == [directive.system_prompt]


def test_a_custom_policy_decides_the_tone(
    counting_encoder: CountingEncoder, tmp_path: Path
) -> None:
    # The fake encoder's emotions mean nothing, so no result may count as unsure: a policy's tone
    # is for results that are sure.
    sure = AffectClassifier(
        AffectConfig(log_dir=tmp_path, low_confidence_threshold=0.0), encoder=counting_encoder
    )
    policy = TonePolicy.from_dict({e: {"system_prompt": f"TONE {e}"} for e in EMOTIONS})
    model = ScriptedModel(responses=[AIMessage("Sorry.")])
    agent = create_agent(model, middleware=[AffectMiddleware(sure, adapt_tone=True, policy=policy)])

    state = agent.invoke(turn(ANGRY))

    assert not state["affect"]["low_confidence"]
    assert system_prompts(model) == [f"TONE {state['affect']['emotion']}"]


def test_without_adapt_tone_the_system_prompt_is_untouched(classifier: AffectClassifier) -> None:
    model = ScriptedModel(responses=[AIMessage("Sorry.")])
    agent = create_agent(model, system_prompt=SYSTEM, middleware=[AffectMiddleware(classifier)])

    agent.invoke(turn(ANGRY))

    assert system_prompts(model) == [SYSTEM]


@pytest.mark.parametrize("size", [0, 1, 2])
def test_a_history_too_short_to_escalate_is_refused(
    classifier: AffectClassifier, size: int
) -> None:
    # is_escalating needs 3 turns: a shorter history would never de-escalate, silently.
    with pytest.raises(ValueError, match=rf"history_size \({size}\) must be at least .* \(3\)"):
        AffectMiddleware(classifier, history_size=size)
    with pytest.raises(ValueError, match=rf"history_size \({size}\) must be at least"):
        AffectTracker(classifier, history_size=size)
    AffectMiddleware(classifier, history_size=3)


def test_settings_in_the_classifier_slot_are_refused_at_construction() -> None:
    with pytest.raises(TypeError, match=r"got AffectConfig: pass settings as config="):
        AffectMiddleware(AffectConfig(log_enabled=False))  # type: ignore[arg-type]


def test_bad_settings_are_refused(classifier: AffectClassifier) -> None:
    with pytest.raises(ValueError, match="adapt_tone"):
        AffectMiddleware(classifier, policy=TonePolicy())
    with pytest.raises(ValueError, match="not both"):
        AffectMiddleware(classifier, config=AffectConfig(log_enabled=False))


def test_a_client_cannot_set_the_affect(classifier: AffectClassifier) -> None:
    """A forged history would read as escalation and choose the reply's tone."""
    model = ScriptedModel(responses=[AIMessage("Sorry.")])
    agent = create_agent(model, middleware=[AffectMiddleware(classifier, adapt_tone=True)])
    angry = classifier.classify(ANGRY)
    forged: Any = {
        **turn(ANGRY),
        "affect": angry.model_dump(mode="json"),
        "affect_history": [angry.model_dump(mode="json")] * 2,
    }
    assert is_escalating([angry] * 3), "the forged history must read as escalation"

    state = agent.invoke(forged)

    assert state["affect_history"] == [state["affect"]]
    assert system_prompts(model) == [TonePolicy().for_result(angry).system_prompt]
    assert set(agent.get_input_jsonschema()["properties"]) == {"messages"}
    assert {"affect", "affect_history"} <= set(agent.get_output_jsonschema()["properties"])


def test_the_state_keeps_only_what_the_agent_needs(classifier: AffectClassifier) -> None:
    """No cache_hit, latency_ms or fallback_reason; full results in a checkpoint written by an
    earlier version are trimmed on the next turn."""
    agent = create_agent(
        ScriptedModel(responses=[AIMessage("Noted.")]),
        middleware=[AffectMiddleware(classifier)],
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "kept"}}
    agent.invoke(turn(HAPPY), config)
    full = classifier.classify(HAPPY).model_dump(mode="json")
    agent.update_state(config, {"affect": full, "affect_history": [full]})

    state = agent.invoke(turn(ANGRY), config)

    saved = agent.get_state(config).values
    assert len(saved["affect_history"]) == 2
    for affect in (state["affect"], *state["affect_history"], *saved["affect_history"]):
        assert set(affect) == KEPT


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_a_malformed_checkpoint_is_ignored_with_a_warning_and_rebuilt_from_the_messages(
    classifier: AffectClassifier, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    model = ScriptedModel(responses=[AIMessage("Noted.")])
    agent = create_agent(
        model,
        system_prompt=SYSTEM,
        middleware=[AffectMiddleware(classifier, adapt_tone=True)],
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": f"garbage-{mode}"}}

    def run(value: InputAgentState) -> dict[str, Any]:
        if mode == "invoke":
            return agent.invoke(value, config)
        return asyncio.run(agent.ainvoke(value, config))

    run(turn(ANGRY))
    agent.update_state(config, {"affect": "secret garbage", "affect_history": [{"emotion": 7}]})
    model.received.clear()
    with caplog.at_level(logging.WARNING, logger="langchain_jeffrey_affect"):
        run({"messages": []})  # no new turn: the model call reads the stored affect
        state = run(turn(HAPPY))

    happy = classifier.classify(HAPPY)
    assert system_prompts(model) == [
        SYSTEM,
        f"{SYSTEM}\n\n{TonePolicy().for_result(happy).system_prompt}",
    ]
    assert state["affect_history"] == [kept(classifier.classify(ANGRY)), state["affect"]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "ignoring malformed 'affect' in the agent state: 1 validation error(s)",
        "ignoring malformed 'affect_history' in the agent state: 5 validation error(s)",
    ]


CALM, ANNOYED, FURIOUS = "where is my order?", "still nothing, ugh", "I'm furious, fix it NOW"


class Scripted(AffectClassifier):
    """Answers each scripted turn with its prepared result, so that a conversation escalates
    without a model, and notes which turns were classified recorded (logged) and which again."""

    def __init__(self, answers: dict[str, AffectResult]) -> None:
        super().__init__(AffectConfig(log_enabled=False), encoder=FakeEncoder())
        self.answers = answers
        self.recorded: list[str] = []
        self.replayed: list[str] = []

    def classify(self, text: str) -> AffectResult:
        self.recorded.append(text)
        return self.answers[text]

    def classify_batch(self, texts: Sequence[str], *, record: bool = True) -> list[AffectResult]:
        (self.recorded if record else self.replayed).extend(texts)
        return [self.answers[t] for t in texts]


ESCALATING = {
    CALM: made_result("neutral", 0.9),
    ANNOYED: made_result("frustration", 0.6),
    FURIOUS: made_result("anger", 0.8),
}


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize(
    ("checkpointer", "passed_back"),
    [(False, True), (True, False), (True, True)],
    ids=["messages passed back", "checkpointer", "checkpointer and messages passed back"],
)
def test_escalation_shows_with_or_without_a_checkpointer_and_no_turn_counts_twice(
    checkpointer: bool, passed_back: bool, mode: str
) -> None:
    results = list(ESCALATING.values())
    assert is_escalating(results), "the scripted turns must escalate under the tracker's rule"
    classifier = Scripted(ESCALATING)
    model = ScriptedModel(responses=[AIMessage("Sorry.")])
    agent = create_agent(
        model,
        middleware=[AffectMiddleware(classifier, adapt_tone=True)],
        checkpointer=InMemorySaver() if checkpointer else None,
    )
    config: RunnableConfig = {"configurable": {"thread_id": "escalation"}}

    messages: list[Any] = []
    for text in ESCALATING:
        given = {"messages": [*messages, HumanMessage(text)] if passed_back else [text]}
        if mode == "invoke":
            state = agent.invoke(given, config)
        else:
            state = asyncio.run(agent.ainvoke(given, config))
        messages = state["messages"]

    policy = TonePolicy()
    assert system_prompts(model) == [
        policy.for_result(results[0]).system_prompt,
        policy.for_result(results[1]).system_prompt,
        policy.escalation.system_prompt,
    ]
    assert state["affect_history"] == [kept(r) for r in results]
    assert classifier.recorded == list(ESCALATING)  # each turn logged once, when it arrived
    assert classifier.replayed == ([] if checkpointer else [CALM, CALM, ANNOYED])


def test_a_rebuilt_history_holds_the_latest_turns_each_logged_once(
    counting_encoder: CountingEncoder, encoder_calls: list[list[str]], tmp_path: Path
) -> None:
    classifier = AffectClassifier(
        AffectConfig(log_dir=tmp_path, cache_size=0), encoder=counting_encoder
    )
    agent = create_agent(
        ScriptedModel(responses=[AIMessage("Noted.")]),
        middleware=[AffectMiddleware(classifier, history_size=3)],
    )
    texts = [f"turn {i}: my order {i} is late" for i in range(5)]

    state: dict[str, Any] = {"messages": []}
    for text in texts:
        state = agent.invoke({"messages": [*state["messages"], HumanMessage(text)]})

    replay, last = encoder_calls[-2:]
    classifier.close()
    expected = classifier.classify_batch(texts, record=False)
    assert [(h["emotion"], h["scores"]) for h in state["affect_history"]] == [
        (r.emotion, pytest.approx(r.scores))
        for r in expected[-3:]  # batched beside others
    ]
    assert [line["text"] for line in log_lines(tmp_path)] == texts
    assert sorted(replay) == [preprocess_light(t) for t in texts[2:4]]  # one call, no more
    assert last == [preprocess_light(texts[4])]


def test_the_state_keeps_the_turns_language_and_reads_entries_kept_before_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Entries checkpointed before the state kept the language are read as they are."""
    earlier = {
        "emotion": "frustration",
        "confidence": 0.9,
        "scores": dict.fromkeys(EMOTIONS, 0.0) | {"frustration": 0.9, "anger": 0.1},
        "route": "linear_head",
        "low_confidence": False,
    }
    answers = {CALM: made_result("neutral", language="de"), FURIOUS: made_result("anger", 0.95)}
    agent = create_agent(
        ScriptedModel(responses=[AIMessage("Noted.")]),
        middleware=[AffectMiddleware(Scripted(answers))],
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "language"}}
    assert agent.invoke(turn(CALM), config)["affect"]["language"] == "de"
    agent.update_state(config, {"affect": earlier, "affect_history": [earlier, earlier]})

    with caplog.at_level(logging.WARNING, logger="langchain_jeffrey_affect"):
        state = agent.invoke(turn(FURIOUS), config)

    assert [a.get("language", "absent") for a in state["affect_history"]] == [
        "absent",
        "absent",
        None,
    ]
    assert not caplog.records
