"""An agent that knows how the user feels: create_agent with AffectMiddleware.

Run offline: HF_HUB_OFFLINE=1 python examples/agent_middleware.py
"""

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_jeffrey_affect import AffectMiddleware

from jeffrey_affect import AffectConfig


def main() -> None:
    # A scripted model keeps this offline; a real one is e.g. model = "openai:gpt-4o-mini".
    model = GenericFakeChatModel(
        messages=iter(["I'm sorry. Let me put that right now.", "It is on its way to you."])
    )
    # A demo keeps no prediction log. Without a config the classifier would append one to
    # logs/predictions/ under the working directory; a service gives it a place of its own,
    # e.g. AffectConfig(log_dir="/var/log/support-agent/affect"), for `jeffrey-affect report`.
    config = AffectConfig(log_enabled=False)
    agent = create_agent(
        model,
        system_prompt="You are a support agent.",
        # adapt_tone appends the tone policy's prompt for the user's emotion to the system prompt.
        middleware=[AffectMiddleware(config=config, adapt_tone=True)],
    )

    state = agent.invoke(
        {"messages": [{"role": "user", "content": "I am really angry, my package is lost again!"}]}
    )
    # Without a checkpointer, the conversation so far goes back in with the next message: the
    # middleware rebuilds affect_history from it.
    follow_up = {"role": "user", "content": "Where is it now?"}
    state = agent.invoke({"messages": [*state["messages"], follow_up]})

    affect = state["affect"]
    print(f"affect: {affect['emotion']} (confidence {affect['confidence']:.2f}, {affect['route']})")
    print(f"history: {len(state['affect_history'])} turn(s)")
    print(f"reply: {state['messages'][-1].content}")


if __name__ == "__main__":
    main()
