"""The runnable's OpenTelemetry spans nest under the caller's span, sync and async, through a
chain's thread pool and the worker thread of the async path."""

import asyncio
from pathlib import Path

from langchain_core.runnables import RunnablePassthrough
from langchain_jeffrey_affect import AffectRunnable

from jeffrey_affect import AffectClassifier, AffectConfig, Encoder
from jeffrey_affect._telemetry import SCOPE
from tests.integration.otel_sdk import installed_sdk


def test_spans_nest_under_the_callers_span(counting_encoder: Encoder, tmp_path: Path) -> None:
    sdk = installed_sdk()
    sdk.reset()
    config = AffectConfig(log_dir=tmp_path, telemetry="on")
    affect = AffectRunnable(AffectClassifier(config, encoder=counting_encoder))
    chain = RunnablePassthrough.assign(affect=affect)  # runs `affect` in an executor thread
    tracer = sdk.tracer_provider.get_tracer("agent")

    with tracer.start_as_current_span("turn.sync") as sync_turn:
        assert chain.invoke({"input": "the refund failed again"})["affect"].route == "linear_head"
        affect.batch(["thanks!", "where is it?"])

    async def turn() -> int:
        with tracer.start_as_current_span("turn.async") as async_turn:
            await chain.ainvoke({"input": "still nothing, I'm furious"})
            await affect.abatch(["ok", "fine"])
        return async_turn.get_span_context().span_id

    async_id = asyncio.run(turn())
    sync_id = sync_turn.get_span_context().span_id
    assert [(s.name, s.parent.span_id if s.parent else None) for s in sdk.spans()] == [
        (f"{SCOPE}.classify", sync_id),
        (f"{SCOPE}.classify_batch", sync_id),
        (f"{SCOPE}.classify", async_id),
        (f"{SCOPE}.classify_batch", async_id),
    ]
