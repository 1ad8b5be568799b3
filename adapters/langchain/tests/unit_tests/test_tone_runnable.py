"""tone_runnable between AffectRunnable and a prompt template."""

import asyncio
from typing import Any

import pytest
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_jeffrey_affect import AffectRunnable, tone_runnable

from jeffrey_affect import EMOTIONS, AffectClassifier, Emotion, TonePolicy
from tests.helpers import made_result


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_a_result_maps_to_its_directive(emotion: Emotion) -> None:
    directive = TonePolicy().for_result(made_result(emotion))
    expected = {
        "tone": directive.tone,
        "style": directive.style,
        "system_prompt": directive.system_prompt,
        "emotion": emotion,
    }

    assert tone_runnable().invoke(made_result(emotion)) == expected
    assert asyncio.run(tone_runnable().ainvoke(made_result(emotion))) == expected


def test_low_confidence_gets_the_policys_neutral_directive() -> None:
    out = tone_runnable().invoke(made_result("anger", confidence=0.2))

    assert out["emotion"] == "anger"
    assert out["system_prompt"] == TonePolicy().low_confidence.system_prompt


def test_a_dict_keeps_its_keys_and_gains_the_directive() -> None:
    out = tone_runnable().invoke({"input": "hi", "affect": made_result("joy")})

    assert out["input"] == "hi"
    assert out["affect"] == made_result("joy")
    assert out["tone"] == TonePolicy().joy.tone


def test_a_custom_policy_is_used() -> None:
    policy = TonePolicy.from_dict({"fear": {"system_prompt": "Be very reassuring."}})

    assert (
        tone_runnable(policy).invoke(made_result("fear"))["system_prompt"] == "Be very reassuring."
    )


@pytest.mark.parametrize("value", ["angry", {"input": "hi"}, {"affect": {"emotion": "joy"}}, 3])
def test_other_inputs_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="AffectResult"):
        tone_runnable().invoke(value)
    with pytest.raises(TypeError, match="AffectResult"):
        asyncio.run(tone_runnable().ainvoke(value))


def test_it_is_named_for_tracing() -> None:
    assert tone_runnable().get_name() == "jeffrey_affect_tone"


def test_the_directive_reaches_the_prompt(classifier: AffectClassifier) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "{system_prompt}"), ("human", "{input}")])
    chain = RunnablePassthrough.assign(affect=AffectRunnable(classifier)) | tone_runnable() | prompt
    text = "I'm terrified my flight will be cancelled."

    messages = chain.invoke({"input": text}).to_messages()

    expected = TonePolicy().for_result(classifier.classify(text)).system_prompt
    assert [m.content for m in messages] == [expected, text]
