"""Which text of a LangChain input is the user's turn."""

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    BaseMessage,
    HumanMessage,
    MessageLikeRepresentation,
    convert_to_messages,
)

AffectInput = str | BaseMessage | Sequence[MessageLikeRepresentation] | Mapping[str, Any]
"""A turn, a message (of any role: the caller picked it), a conversation (its last human turn
counts), or a chain's dict state (its ``"messages"``, else its ``"input"``, read as one of the
others). A conversation's items may be anything a chat model takes as a message: messages,
``{"role": ..., "content": ...}`` dicts, ``(role, content)`` tuples or strings (human turns); a
dict with ``"role"`` and ``"content"`` and neither of the state's keys is one message. A
message's text blocks are joined by newlines; images and other blocks carry no text."""

_EXPECTED = (
    "a str, a message (or a dict with 'role' and 'content'), a list of messages, or a dict with "
    "'messages' or 'input'"
)


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
        if "role" in value and "content" in value:  # one message as a dict
            return message_text(_messages([value])[0])
        raise TypeError(f"expected {_EXPECTED}; got a dict with keys {sorted(map(str, value))}")
    if isinstance(value, list | tuple):
        human = last_human(_messages(value))
        if human is None:
            raise TypeError("expected a list of messages with a HumanMessage, found none")
        return message_text(human)
    raise TypeError(f"expected {_EXPECTED}; got {type(value).__name__}")


def _messages(items: list[Any] | tuple[Any, ...]) -> list[BaseMessage]:
    """The items as messages, read as a chat model reads them (``convert_to_messages``)."""
    messages = []
    for item in items:
        try:
            messages.append(convert_to_messages([item])[0])
        except (NotImplementedError, ValueError, TypeError):
            # Ours, from None: LangChain's message, and a traced traceback, can quote the content.
            raise TypeError(
                f"expected a list of messages; an item of {type(item).__name__} is not one (use "
                "a message, a dict with a 'role' such as 'user' and a 'content', or a "
                "(role, content) tuple)"
            ) from None
    return messages
