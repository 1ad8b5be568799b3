"""Which text of a LangChain input is the user's turn."""

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

AffectInput = str | BaseMessage | list[BaseMessage] | Mapping[str, Any]
"""A turn, a message, a conversation (its last human turn counts), or a chain's dict state (its
``"messages"``, else its ``"input"``, read as one of the others). A message's text blocks are
joined by newlines; images and other blocks carry no text."""

_EXPECTED = "a str, a message, a list of messages, or a dict with 'messages' or 'input'"


def message_text(message: BaseMessage) -> str:
    """The text blocks of ``message``, one per line; images and other blocks carry no text."""
    if isinstance(message.content, str):
        return message.content
    return "\n".join(
        block if isinstance(block, str) else block["text"]
        for block in message.content
        if isinstance(block, str)
        or (block.get("type") == "text" and isinstance(block.get("text"), str))
    )


def last_human(messages: list[Any] | tuple[Any, ...]) -> HumanMessage | None:
    return next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)


def affect_text(value: object) -> str:
    """The text to classify; TypeError for anything else, so ``with_fallbacks`` can catch it."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return message_text(value)
    if isinstance(value, Mapping):
        for key in ("messages", "input"):
            if key in value:
                return affect_text(value[key])
        raise TypeError(f"expected {_EXPECTED}; got a dict with keys {sorted(map(str, value))}")
    if isinstance(value, list | tuple):
        for item in value:
            if not isinstance(item, BaseMessage):
                raise TypeError(
                    f"expected a list of messages, got an item of {type(item).__name__}"
                )
        human = last_human(value)
        if human is None:
            raise TypeError("expected a list of messages with a HumanMessage, found none")
        return message_text(human)
    raise TypeError(f"expected {_EXPECTED}; got {type(value).__name__}")
