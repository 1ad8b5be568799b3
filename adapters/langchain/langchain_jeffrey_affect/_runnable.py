"""The classifier as a LangChain Runnable, so it traces, batches and composes like other steps."""

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.schema import StreamEvent

from jeffrey_affect import AffectClassifier, AffectConfig, AffectResult
from jeffrey_affect._log import traced_text
from langchain_jeffrey_affect._text import AffectInput, affect_text


def classifier_for(classifier: object, config: AffectConfig | None) -> AffectClassifier:
    """The classifier given, else one made from ``config``; a wrong argument is refused here
    rather than at the first turn."""
    if classifier is not None and config is not None:
        raise ValueError("pass a classifier or a config, not both: the classifier has one")
    if classifier is None:
        return AffectClassifier(config)
    if isinstance(classifier, AffectClassifier):
        return classifier
    hint = ": pass settings as config=" if isinstance(classifier, AffectConfig) else ""
    raise TypeError(
        f"classifier must be an AffectClassifier, got {type(classifier).__name__}{hint}"
    )


class AffectRunnable(Runnable[AffectInput, AffectResult]):
    """Classifies the user's turn in a chain; see ``AffectInput`` for what counts as the turn.

    Each input is its own ``jeffrey_affect`` run in callbacks and tracing, with the AffectResult as
    its output. The run's input is the turn as the prediction log keeps it, redacted and cut to
    ``log_text_chars`` ("" for an input that is not a turn, or when the ``redactor`` raises),
    never the raw turn: tracers such as LangSmith see no more of what the user confided than the
    log does. ``batch`` makes one ``classify_batch`` call (one encoder call), split into calls of
    at most ``max_concurrency`` inputs when that is set; the async methods run the classifier in
    a worker thread so the event loop never blocks on the encoder.

    Args:
        classifier: The classifier to run, to share one (and its cache) with other code.
        config: Settings for a classifier of its own (its ``log_dir``, or
            ``log_enabled=False``); neither argument means ``AffectClassifier()``, which logs to
            ``logs/predictions`` under the working directory.

    Raises:
        TypeError: ``classifier`` is not an AffectClassifier (settings go in ``config``).
        ValueError: both ``classifier`` and ``config`` are given.

    Example:
        >>> from langchain_core.messages import AIMessage, HumanMessage
        >>> from jeffrey_affect import AffectConfig
        >>> from langchain_jeffrey_affect import AffectRunnable
        >>> affect = AffectRunnable(config=AffectConfig(log_enabled=False))
        >>> affect.invoke("my dog died today").emotion
        'sadness'
        >>> chat = [HumanMessage("it broke"), AIMessage("Sorry!"), HumanMessage("thank you!!")]
        >>> [r.emotion for r in affect.batch([chat, {"input": "my dog died today"}])]
        ['joy', 'sadness']
    """

    name = "jeffrey_affect"

    def __init__(
        self, classifier: AffectClassifier | None = None, config: AffectConfig | None = None
    ) -> None:
        self.classifier = classifier_for(classifier, config)

    def invoke(
        self, input: AffectInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AffectResult:
        """Classify the input's user turn as one traced run.

        Args:
            input: See ``AffectInput``.
            config: LangChain's run config (callbacks, tags, metadata).
            **kwargs: Accepted for the Runnable interface; unused.

        Returns:
            The turn's AffectResult.

        Raises:
            TypeError: the input holds no user turn (no str, no human message, no "messages"
                or "input" key), or a list item that is not a message or message-like.
        """
        text = _text(input)
        return self._call_with_config(lambda _: self._classify(text), self._traced(text), config)

    async def ainvoke(
        self, input: AffectInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AffectResult:
        """``invoke`` with the classifier in a worker thread."""
        text = _text(input)
        return await self._acall_with_config(
            lambda _: self._aclassify(text), self._traced(text), config
        )

    def batch(
        self,
        inputs: list[AffectInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AffectResult]:
        """Classify many inputs with one ``classify_batch`` call, each its own traced run.

        Args:
            inputs: See ``AffectInput``.
            config: One run config for all, or one per input; ``max_concurrency`` caps the
                inputs per ``classify_batch`` call.
            return_exceptions: Return an input's TypeError in its place instead of raising it.
            **kwargs: Accepted for the Runnable interface; unused.

        Returns:
            One AffectResult per input, in order (or its exception, with
            ``return_exceptions``).

        Raises:
            TypeError: an input holds no user turn, unless ``return_exceptions``.
        """
        texts = [_text(value) for value in inputs]

        def classify_many(
            _: list[AffectInput], config: list[RunnableConfig]
        ) -> list[AffectResult | Exception]:
            chunks = _chunks(texts, config)
            return _merge(texts, [r for c in chunks for r in self.classifier.classify_batch(c)])

        return self._batch_with_config(
            classify_many,  # type: ignore[arg-type]  # langchain passes `config` by keyword
            [self._traced(text) for text in texts],
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
        """``batch`` with the classifier in a worker thread."""
        texts = [_text(value) for value in inputs]

        async def classify_many(
            _: list[AffectInput], config: list[RunnableConfig]
        ) -> list[AffectResult | Exception]:
            chunks = _chunks(texts, config)
            return _merge(
                texts, [r for c in chunks for r in await self.classifier.aclassify_batch(c)]
            )

        return await self._abatch_with_config(
            classify_many,  # type: ignore[arg-type]  # langchain passes `config` by keyword
            [self._traced(text) for text in texts],
            config,
            return_exceptions=return_exceptions,
        )

    def astream_events(
        self, input: AffectInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        """``Runnable.astream_events``, whose events show the turn as the prediction log keeps it.

        LangChain copies the raw input into the events of the run it streams, past every
        callback; this runnable has no inner runs, so each event that carries an input gets the
        traced turn instead. Nested in a chain, this run's events carry the traced turn anyway,
        and the chain's carry the chain's input, as every callback sees it.
        """
        events = super().astream_events(input, config, **kwargs)
        if not isinstance(events, AsyncGenerator):  # version="v3": an awaitable that raises
            return events
        return _with_input(events, self._traced(_text(input)))

    def _traced(self, text: str | TypeError) -> str:
        """The run's input for callbacks: exactly what the prediction log keeps of the turn.

        "" when the config's ``redactor`` raises (a warning names the exception's type, not its
        message, which may quote the turn): tracing must not fail the classification, and
        unredacted text must not reach the tracer.
        """
        if isinstance(text, TypeError):
            return ""
        config = self.classifier.config
        return traced_text(text, config.log_text_chars, config.redactor)

    def _classify(self, text: str | TypeError) -> AffectResult:
        if isinstance(text, TypeError):
            raise text
        return self.classifier.classify(text)

    async def _aclassify(self, text: str | TypeError) -> AffectResult:
        if isinstance(text, TypeError):
            raise text
        return await self.classifier.aclassify(text)


async def _with_input(
    events: AsyncGenerator[StreamEvent, None], traced: str
) -> AsyncGenerator[StreamEvent, None]:
    """``events``, each one's ``input`` (where it has one) replaced by ``traced``."""
    async with aclosing(events):
        async for event in events:
            if "input" in event["data"]:
                event["data"]["input"] = traced
            yield event


def _text(value: AffectInput) -> str | TypeError:
    """The input's text, or its TypeError, raised inside the run so callbacks record it and one
    bad input of a batch fails alone."""
    try:
        return affect_text(value)
    except TypeError as exc:
        return exc


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
