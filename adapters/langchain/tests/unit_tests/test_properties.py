"""Whatever it is given, AffectRunnable returns a valid AffectResult or the documented TypeError."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_jeffrey_affect import AffectRunnable

from jeffrey_affect import AffectClassifier
from tests.helpers import assert_valid

# Any code point, lone surrogates included: a str can hold them after a lossy decode.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)
text_block = st.fixed_dictionaries({"type": st.just("text"), "text": any_text})
other_block = st.one_of(
    st.fixed_dictionaries({"type": st.just("image"), "url": any_text}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "audio", "file"]), "data": st.integers()}
    ),
    st.dictionaries(st.text(max_size=5), st.one_of(any_text, st.integers(), st.none()), max_size=3),
)
content = st.one_of(any_text, st.lists(st.one_of(any_text, text_block, other_block), max_size=6))
message = st.one_of(
    st.builds(HumanMessage, content=content),
    st.builds(AIMessage, content=content),
    st.builds(SystemMessage, content=content),
)
# What a chat model also takes as a message; a role it does not know makes the item no message.
role = st.one_of(
    st.sampled_from(["user", "human", "assistant", "ai", "system"]), st.text(max_size=9)
)
message_like = st.one_of(
    message,
    st.fixed_dictionaries({"role": role, "content": content}),
    st.tuples(role, any_text),
    st.dictionaries(st.sampled_from(["role", "type", "content"]), any_text, max_size=2),
)
junk = st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.integers()))
any_input = st.one_of(
    any_text,
    message,
    st.lists(message, max_size=4),
    st.fixed_dictionaries({"messages": st.lists(message, max_size=4)}),
    st.fixed_dictionaries({"input": st.one_of(any_text, message)}),
    st.dictionaries(st.text(max_size=5), any_text, max_size=2),
    st.lists(st.one_of(message, any_text), min_size=1, max_size=3),
    st.lists(message_like, min_size=1, max_size=3),
    st.fixed_dictionaries({"messages": st.lists(message_like, max_size=3)}),
    junk,
)

slow_fixture = settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@slow_fixture
@given(value=any_input)
def test_any_input_gives_a_result_or_a_type_error(classifier: AffectClassifier, value: Any) -> None:
    try:
        result = AffectRunnable(classifier).invoke(value)
    except TypeError:
        return
    assert_valid(result)


@slow_fixture
@given(blocks=st.lists(st.one_of(any_text, text_block, other_block), max_size=6))
def test_non_text_blocks_do_not_change_the_result(
    classifier: AffectClassifier, blocks: list[Any]
) -> None:
    runnable = AffectRunnable(classifier)
    text_only = [
        b
        for b in blocks
        if isinstance(b, str) or (b.get("type") == "text" and isinstance(b.get("text"), str))
    ]

    mixed = runnable.invoke(HumanMessage(content=blocks))

    assert_valid(mixed)
    assert mixed.scores == runnable.invoke(HumanMessage(content=text_only)).scores
