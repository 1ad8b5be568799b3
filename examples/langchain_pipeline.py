"""Affect -> tone -> prompt -> chat model, as one LCEL chain.

Run offline: HF_HUB_OFFLINE=1 python examples/langchain_pipeline.py
"""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_jeffrey_affect import AffectRunnable, tone_runnable

from jeffrey_affect import AffectConfig


def main() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a support agent. {system_prompt}"), ("human", "{input}")]
    )
    # A scripted model keeps this offline. For a real one, replace the next line with e.g.
    # model = init_chat_model("openai:gpt-4o-mini")  # from langchain.chat_models import ...
    model = GenericFakeChatModel(messages=iter(["Sorry about that. I've reissued the refund."]))
    # A demo keeps no prediction log. Without a config the classifier would append one to
    # logs/predictions/ under the working directory; a service gives it a place of its own,
    # e.g. AffectConfig(log_dir="/var/log/support-agent/affect"), for `jeffrey-affect report`.
    affect = AffectRunnable(config=AffectConfig(log_enabled=False))
    chain = (
        RunnablePassthrough.assign(affect=affect)  # + "affect": an AffectResult
        | tone_runnable()  # + "tone", "style", "system_prompt", "emotion"
        | RunnablePassthrough.assign(reply=prompt | model | StrOutputParser())
    )

    out = chain.invoke({"input": "I am so annoyed, the refund failed for the third time."})

    print(f"emotion: {out['emotion']} (confidence {out['affect'].confidence:.2f})")
    print(f"tone: {out['tone']}")
    print(f"reply: {out['reply']}")


if __name__ == "__main__":
    main()
