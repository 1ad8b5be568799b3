"""An agent middleware that classifies each new user turn and can steer the reply's tone."""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, NamedTuple, NotRequired, TypeVar

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain.agents.middleware.types import ModelCallResult, OmitFromInput, PrivateStateAttr
from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import AfterValidator, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from jeffrey_affect import (
    EMOTIONS,
    ESCALATION_WINDOW,
    AffectClassifier,
    AffectConfig,
    AffectResult,
    Emotion,
    TonePolicy,
    is_escalating,
)
from jeffrey_affect._result import Route
from langchain_jeffrey_affect._runnable import classifier_for
from langchain_jeffrey_affect._text import message_text

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _every_label(scores: dict[Emotion, float]) -> dict[Emotion, float]:
    """is_escalating reads frustration and anger: a partial map would fail every model call."""
    if set(scores) != set(EMOTIONS):
        raise ValueError(f"scores need exactly the labels {EMOTIONS}")
    return scores


class AgentAffect(TypedDict):
    """What the agent state keeps of an AffectResult: what tone and escalation need, and the
    turn's ``language`` (ISO 639-1, None where it cannot be told; absent from entries checkpointed
    before it was kept). Not ``cache_hit`` or ``latency_ms``, which would show one client of a
    shared agent what others said (a side channel on the cache), nor ``fallback_reason``, which
    can name server paths."""

    emotion: Emotion
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]
    scores: Annotated[dict[Emotion, float], AfterValidator(_every_label)]
    route: Route
    low_confidence: bool
    language: NotRequired[str | None]


class _Scored(NamedTuple):
    """An AgentAffect as ``is_escalating`` reads it: by attribute."""

    emotion: Emotion
    scores: dict[Emotion, float]


class _Turn(NamedTuple):
    """The newest human message, not yet classified, and the human turns before it."""

    message_id: str | None
    text: str
    earlier: list[HumanMessage]


_AFFECT = TypeAdapter(AgentAffect)
_HISTORY = TypeAdapter(list[AgentAffect])


class AffectState(AgentState[Any]):
    """``affect`` is the latest turn's AgentAffect; ``affect_history`` the recent ones, oldest
    first. Neither is in the agent's input schema: a client that could set them would choose the
    reply's tone (a forged history reads as escalation). ``affect_message_id`` marks the human
    message already classified, so tool loops and other repeat model calls within one turn do not
    classify it again (the agent gives every message an id; a message without one is classified
    on each model call)."""

    affect: NotRequired[Annotated[AgentAffect, OmitFromInput]]
    affect_history: NotRequired[Annotated[list[AgentAffect], OmitFromInput]]
    affect_message_id: NotRequired[Annotated[str, PrivateStateAttr]]


class AffectMiddleware(AgentMiddleware[AffectState]):
    """Puts the user's affect in the agent state before the model sees their new message.

    With ``adapt_tone`` the tone policy's system prompt for that affect, de-escalating when
    ``affect_history`` shows escalation (``is_escalating``), is appended to the agent's system
    prompt on every model call of the turn.

    ``affect_history`` is agent state: a checkpointer (``create_agent(..., checkpointer=...)``,
    invoked with a ``thread_id``) carries it from one invoke to the next. Without one, a caller
    that passes the conversation so far back in ``messages`` gets it rebuilt: whenever the saved
    history holds fewer turns than the earlier human messages (up to ``history_size``), those
    turns are classified again, neither logged nor counted a second time
    (``classify_batch(record=False)``), so escalation shows as it does with a checkpointer.

    Args:
        classifier: The classifier to run, to share one (and its cache) with other code.
        config: Settings for a classifier of its own (its ``log_dir``, or ``log_enabled=False``);
            neither argument means ``AffectClassifier()``, which logs to ``logs/predictions``
            under the working directory.
        adapt_tone: Append the tone policy's system prompt to each model call.
        policy: The tone policy for ``adapt_tone``; ``None`` is ``TonePolicy()``.
        history_size: How many turns ``affect_history`` keeps; at least the 3 turns
            ``is_escalating`` reads.

    Raises:
        TypeError: ``classifier`` is not an AffectClassifier (settings go in ``config``).
        ValueError: ``history_size`` is below 3, a ``policy`` is given without ``adapt_tone``,
            or both ``classifier`` and ``config`` are given.

    Example:
        >>> from langchain.agents import create_agent
        >>> from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
        >>> from jeffrey_affect import AffectConfig
        >>> from langchain_jeffrey_affect import AffectMiddleware
        >>> affect = AffectMiddleware(config=AffectConfig(log_enabled=False), adapt_tone=True)
        >>> model = GenericFakeChatModel(messages=iter(["I'm so sorry.", "Take your time."]))
        >>> agent = create_agent(model, middleware=[affect])
        >>> state = agent.invoke({"messages": [{"role": "user", "content": "my dog died today"}]})
        >>> state["affect"]["emotion"], len(state["affect_history"])
        ('sadness', 1)
        >>> said = {"role": "user", "content": "I can't stop crying"}
        >>> state = agent.invoke({"messages": [*state["messages"], said]})
        >>> [a["emotion"] for a in state["affect_history"]]
        ['sadness', 'sadness']
    """

    state_schema = AffectState

    def __init__(
        self,
        classifier: AffectClassifier | None = None,
        *,
        config: AffectConfig | None = None,
        adapt_tone: bool = False,
        policy: TonePolicy | None = None,
        history_size: int = 20,
    ) -> None:
        if history_size < ESCALATION_WINDOW:
            raise ValueError(
                f"history_size ({history_size}) must be at least the escalation window "
                f"({ESCALATION_WINDOW}), the turns is_escalating reads"
            )
        if policy is not None and not adapt_tone:
            raise ValueError("a tone policy only applies with adapt_tone=True")
        self.classifier = classifier_for(classifier, config)
        self.adapt_tone = adapt_tone
        self.policy = policy or TonePolicy()
        self.history_size = history_size

    def before_model(self, state: AffectState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Classify the newest human message, once per message.

        Returns:
            The state update (``affect``, ``affect_history`` and the message's id), or None when
            there is no new human message.
        """
        turn = _new_turn(state)
        if turn is None:
            return None
        history = _stored(state, "affect_history", _HISTORY) or []
        if missing := self._missing(turn, history):
            history = [_kept(r) for r in self.classifier.classify_batch(missing, record=False)]
        return self._update(turn, history, self.classifier.classify(turn.text))

    async def abefore_model(
        self, state: AffectState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """``before_model`` with the classifier in a worker thread."""
        turn = _new_turn(state)
        if turn is None:
            return None
        history = _stored(state, "affect_history", _HISTORY) or []
        if missing := self._missing(turn, history):
            replayed = await self.classifier.aclassify_batch(missing, record=False)
            history = [_kept(r) for r in replayed]
        return self._update(turn, history, await self.classifier.aclassify(turn.text))

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelCallResult[Any]:
        """Call the model, with the tone's system prompt appended under ``adapt_tone``."""
        return handler(self._with_tone(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelCallResult[Any]:
        """``wrap_model_call`` for async agents."""
        return await handler(self._with_tone(request))

    def _missing(self, turn: _Turn, history: list[AgentAffect]) -> list[str]:
        """The earlier turns to classify again: those the kept history should end with, when it
        holds fewer (no checkpointer, or a malformed one); none when it holds them all."""
        wanted = min(len(turn.earlier), self.history_size - 1)
        if len(history) >= wanted:
            return []
        return [message_text(m) for m in turn.earlier[len(turn.earlier) - wanted :]]

    def _update(
        self, turn: _Turn, history: list[AgentAffect], result: AffectResult
    ) -> dict[str, Any]:
        affect = _kept(result)
        kept = [*history, affect][-self.history_size :]
        update: dict[str, Any] = {"affect": affect, "affect_history": kept}
        if turn.message_id is not None:
            update["affect_message_id"] = turn.message_id
        return update

    def _with_tone(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        if not self.adapt_tone:
            return request
        affect = _stored(request.state, "affect", _AFFECT)
        if affect is None:
            return request
        history = _stored(request.state, "affect_history", _HISTORY) or []
        escalation = is_escalating([_Scored(a["emotion"], a["scores"]) for a in history])
        directive = self.policy.directive(
            affect["emotion"], affect["low_confidence"], escalation, affect["scores"]
        )
        blocks: list[Any]
        if request.system_message is None:
            blocks = [{"type": "text", "text": directive.system_prompt}]
        else:
            blocks = [
                *request.system_message.content_blocks,
                {"type": "text", "text": f"\n\n{directive.system_prompt}"},
            ]
        return request.override(system_message=SystemMessage(content=blocks))


def _kept(result: AffectResult) -> AgentAffect:
    return AgentAffect(
        emotion=result.emotion,
        confidence=result.confidence,
        scores=dict(result.scores),
        route=result.route,
        low_confidence=result.low_confidence,
        language=result.language,
    )


def _new_turn(state: AffectState) -> _Turn | None:
    """The newest human message, unless it has been classified already."""
    humans = [m for m in state["messages"] if isinstance(m, HumanMessage)]
    if not humans:
        return None
    *earlier, newest = humans
    if newest.id is not None and newest.id == state.get("affect_message_id"):
        return None
    return _Turn(newest.id, message_text(newest), earlier)


def _stored(state: Mapping[str, Any], key: str, adapter: TypeAdapter[T]) -> T | None:
    """The state's ``key``, or None when it is unset or malformed (a checkpoint from another
    version, or edited): logged and skipped, so a bad checkpoint cannot fail every model call.
    The log names the key only; the value may hold what the user said."""
    if key not in state:
        return None
    try:
        return adapter.validate_python(state[key])
    except ValidationError as exc:
        logger.warning(
            "ignoring malformed %r in the agent state: %d validation error(s)",
            key,
            exc.error_count(),
        )
        return None
