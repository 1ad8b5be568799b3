"""AffectMiddleware in a real langchain create_agent, on what the real classifier hears."""

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_jeffrey_affect import AffectMiddleware
from langgraph.checkpoint.memory import InMemorySaver

from jeffrey_affect import AffectClassifier, TonePolicy, is_escalating
from tests.helpers import ScriptedModel, system_prompts


@pytest.mark.parametrize("checkpointer", [True, False], ids=["checkpointer", "messages back"])
@pytest.mark.parametrize("history_size", [3, 20])
def test_an_escalating_conversation_gets_the_de_escalation_prompt(
    classifier: AffectClassifier, history_size: int, checkpointer: bool
) -> None:
    turns = [
        "My package arrived damaged.",
        "Ugh, that's the second time this month.",
        "I'm really angry now. Fix this or I'm cancelling.",
    ]
    results = [classifier.classify(t) for t in turns]
    assert is_escalating(results), "the scripted turns must escalate under the tracker's rule"
    model = ScriptedModel(responses=[AIMessage("Sorry.")])
    agent = create_agent(
        model,
        middleware=[AffectMiddleware(classifier, adapt_tone=True, history_size=history_size)],
        checkpointer=InMemorySaver() if checkpointer else None,
    )
    config: RunnableConfig = {"configurable": {"thread_id": "escalation"}}
    messages: list[Any] = []
    for text in turns:
        earlier = [] if checkpointer else messages  # without one, the caller keeps the messages
        messages = agent.invoke({"messages": [*earlier, HumanMessage(text)]}, config)["messages"]

    policy = TonePolicy()
    assert system_prompts(model) == [
        policy.for_result(results[0]).system_prompt,
        policy.for_result(results[1]).system_prompt,
        policy.escalation.system_prompt,
    ]
