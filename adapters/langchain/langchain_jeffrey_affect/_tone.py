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
    four keys added, so the template still sees the user's input.
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
