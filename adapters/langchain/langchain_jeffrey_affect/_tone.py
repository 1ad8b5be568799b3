"""The tone policy as a chain step between AffectRunnable and a prompt template."""

from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from jeffrey_affect import AffectResult, TonePolicy

ToneInput = AffectResult | Mapping[str, Any]


def tone_runnable(policy: TonePolicy | None = None) -> Runnable[ToneInput, dict[str, Any]]:
    """Maps an AffectResult to ``{"tone", "style", "system_prompt", "emotion"}``.

    Given a dict holding the result under ``"affect"`` (what
    ``RunnablePassthrough.assign(affect=AffectRunnable())`` makes), it returns that dict with the
    four keys added, so the template still sees the user's input. It does not track escalation,
    which needs the conversation: use ``AffectMiddleware`` or ``AffectTracker`` for that.

    Args:
        policy: The tone policy; ``None`` is ``TonePolicy()``.

    Returns:
        A Runnable named ``jeffrey_affect_tone``; invoking it raises TypeError for an input that
        is neither an AffectResult nor a dict with one under ``"affect"``.

    Example:
        >>> from langchain_core.runnables import RunnablePassthrough
        >>> from jeffrey_affect import AffectConfig
        >>> from langchain_jeffrey_affect import AffectRunnable, tone_runnable
        >>> affect = AffectRunnable(config=AffectConfig(log_enabled=False))
        >>> chain = RunnablePassthrough.assign(affect=affect) | tone_runnable()
        >>> out = chain.invoke({"input": "my dog died today"})
        >>> out["input"], out["emotion"], out["tone"]
        ('my dog died today', 'sadness', 'warm-gentle')
    """
    chosen = policy or TonePolicy()

    def tone(value: ToneInput) -> dict[str, Any]:
        if isinstance(value, AffectResult):
            return _directive(chosen, value)
        if isinstance(value, Mapping) and isinstance(value.get("affect"), AffectResult):
            return {**value, **_directive(chosen, value["affect"])}
        raise TypeError(
            "expected an AffectResult or a dict with an AffectResult under 'affect', "
            f"got {type(value).__name__}"
        )

    async def atone(value: ToneInput) -> dict[str, Any]:
        return tone(value)

    return RunnableLambda(tone, afunc=atone, name="jeffrey_affect_tone")


def _directive(policy: TonePolicy, result: AffectResult) -> dict[str, Any]:
    directive = policy.for_result(result)
    return {**directive.model_dump(), "emotion": result.emotion}
