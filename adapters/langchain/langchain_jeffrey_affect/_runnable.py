"""The classifier as a LangChain Runnable, so it traces, batches and composes like other steps."""

from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from jeffrey_affect import AffectClassifier, AffectConfig, AffectResult
from langchain_jeffrey_affect._text import AffectInput, affect_text


class AffectRunnable(Runnable[AffectInput, AffectResult]):
    """Classifies the user's turn in a chain; see ``AffectInput`` for what counts as the turn.

    Each input is its own ``jeffrey_affect`` run in callbacks and tracing, with the AffectResult as
    its output. ``batch`` makes one ``classify_batch`` call (one encoder call), split into calls of
    at most ``max_concurrency`` inputs when that is set; the async methods run the classifier in a
    worker thread so the event loop never blocks on the encoder.
    """

    name = "jeffrey_affect"

    def __init__(
        self, classifier: AffectClassifier | None = None, config: AffectConfig | None = None
    ) -> None:
        if classifier is not None and config is not None:
            raise ValueError("pass a classifier or a config, not both: the classifier has one")
        self.classifier = classifier or AffectClassifier(config)

    def invoke(
        self, input: AffectInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AffectResult:
        return self._call_with_config(self._classify, input, config)

    async def ainvoke(
        self, input: AffectInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AffectResult:
        return await self._acall_with_config(self._aclassify, input, config)

    def batch(
        self,
        inputs: list[AffectInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AffectResult]:
        return self._batch_with_config(
            self._classify_many,  # type: ignore[arg-type]  # langchain passes `config` by keyword
            inputs,
            config,
            return_exceptions=return_exceptions,
        )

    async def abatch(
        self,
        inputs: list[AffectInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AffectResult]:
        return await self._abatch_with_config(
            self._aclassify_many,  # type: ignore[arg-type]  # langchain passes `config` by keyword
            inputs,
            config,
            return_exceptions=return_exceptions,
        )

    def _classify(self, value: AffectInput) -> AffectResult:
        return self.classifier.classify(affect_text(value))

    async def _aclassify(self, value: AffectInput) -> AffectResult:
        return await self.classifier.aclassify(affect_text(value))

    def _classify_many(
        self, values: list[AffectInput], config: list[RunnableConfig]
    ) -> list[AffectResult | Exception]:
        texts = _texts(values)
        results = [
            result
            for chunk in _chunks(texts, config)
            for result in self.classifier.classify_batch(chunk)
        ]
        return _merge(texts, results)

    async def _aclassify_many(
        self, values: list[AffectInput], config: list[RunnableConfig]
    ) -> list[AffectResult | Exception]:
        texts = _texts(values)
        results = [
            result
            for chunk in _chunks(texts, config)
            for result in await self.classifier.aclassify_batch(chunk)
        ]
        return _merge(texts, results)


def _texts(values: list[AffectInput]) -> list[str | TypeError]:
    """Each input's text, or its TypeError, so one bad input fails alone."""
    out: list[str | TypeError] = []
    for value in values:
        try:
            out.append(affect_text(value))
        except TypeError as exc:
            out.append(exc)
    return out


def _chunks(texts: list[str | TypeError], config: list[RunnableConfig]) -> list[list[str]]:
    """The valid texts, in classify_batch calls of at most ``max_concurrency`` (batch-wide)."""
    valid = [t for t in texts if isinstance(t, str)]
    size = config[0].get("max_concurrency") or len(valid) or 1
    return [valid[i : i + size] for i in range(0, len(valid), size)]


def _merge(
    texts: list[str | TypeError], results: list[AffectResult]
) -> list[AffectResult | Exception]:
    classified = iter(results)
    return [t if isinstance(t, TypeError) else next(classified) for t in texts]
