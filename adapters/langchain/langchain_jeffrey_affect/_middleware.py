"""An agent middleware that classifies each new user turn and can steer the reply's tone."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NotRequired, cast

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain.agents.middleware.types import ModelCallResult, OmitFromSchema
from langchain_core.messages import SystemMessage
from langgraph.runtime import Runtime

from jeffrey_affect import AffectClassifier, AffectResult, TonePolicy, is_escalating
from langchain_jeffrey_affect._text import last_human, message_text


class AffectState(AgentState[Any]):
    """``affect`` is the latest AffectResult as JSON; ``affect_history`` the recent ones, oldest
    first. ``affect_message_id`` marks the human message already classified, so tool loops and
    other repeat model calls within one turn do not classify it again (the agent gives every
    message an id; a message without one is classified on each model call)."""

    affect: NotRequired[dict[str, Any]]
    affect_history: NotRequired[list[dict[str, Any]]]
    affect_message_id: NotRequired[Annotated[str, OmitFromSchema(input=True, output=True)]]


class AffectMiddleware(AgentMiddleware[AffectState]):
    """Puts the user's affect in the agent state before the model sees their new message.

    With ``adapt_tone`` the tone policy's system prompt for that affect, de-escalating when
    ``affect_history`` shows escalation (``is_escalating``), is appended to the agent's system
    prompt on every model call of the turn.
    """

    state_schema = AffectState

    def __init__(
        self,
        classifier: AffectClassifier | None = None,
        *,
        adapt_tone: bool = False,
        policy: TonePolicy | None = None,
        history_size: int = 20,
    ) -> None:
        if history_size < 1:
            raise ValueError(f"history_size must be at least 1, got {history_size}")
        if policy is not None and not adapt_tone:
            raise ValueError("a tone policy only applies with adapt_tone=True")
        self.classifier = classifier or AffectClassifier()
        self.adapt_tone = adapt_tone
        self.policy = policy or TonePolicy()
        self.history_size = history_size

    def before_model(self, state: AffectState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        turn = _new_turn(state)
        if turn is None:
            return None
        message_id, text = turn
        return self._update(state, message_id, self.classifier.classify(text))

    async def abefore_model(
        self, state: AffectState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        turn = _new_turn(state)
        if turn is None:
            return None
        message_id, text = turn
        return self._update(state, message_id, await self.classifier.aclassify(text))

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelCallResult[Any]:
        return handler(self._with_tone(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelCallResult[Any]:
        return await handler(self._with_tone(request))

    def _update(
        self, state: AffectState, message_id: str | None, result: AffectResult
    ) -> dict[str, Any]:
        affect = result.model_dump(mode="json")
        history = [*state.get("affect_history", []), affect][-self.history_size :]
        update: dict[str, Any] = {"affect": affect, "affect_history": history}
        if message_id is not None:
            update["affect_message_id"] = message_id
        return update

    def _with_tone(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        affect = cast(AffectState, request.state).get("affect")
        if not self.adapt_tone or affect is None:
            return request
        history = cast(AffectState, request.state).get("affect_history", [])
        escalation = is_escalating([AffectResult.model_validate(a) for a in history])
        directive = self.policy.for_result(AffectResult.model_validate(affect), escalation)
        blocks: list[Any]
        if request.system_message is None:
            blocks = [{"type": "text", "text": directive.system_prompt}]
        else:
            blocks = [
                *request.system_message.content_blocks,
                {"type": "text", "text": f"\n\n{directive.system_prompt}"},
            ]
        return request.override(system_message=SystemMessage(content=blocks))


def _new_turn(state: AffectState) -> tuple[str | None, str] | None:
    """The newest human message's id and text, unless it has been classified already."""
    human = last_human(state["messages"])
    if human is None or (human.id is not None and human.id == state.get("affect_message_id")):
        return None
    return human.id, message_text(human)
