"""AffectRunnable against the Runnable contract, with the classifier on the fake encoder and
langchain-core."""

import asyncio
import json
import subprocess
import sys
import threading
import traceback
import warnings
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest
from langchain_core._api import LangChainDeprecationWarning
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnablePassthrough
from langchain_core.runnables.schema import StreamEvent
from langchain_jeffrey_affect import AffectRunnable, tone_runnable

from jeffrey_affect import AffectClassifier, AffectConfig, AffectResult, Encoder, preprocess_light
from jeffrey_affect._redact import redact
from tests.red_team import CASES, leaked

ANGRY = "I am furious, you broke my order again!"
HAPPY = "Thank you so much, this is wonderful!"
SCARED = "I'm really scared the surgery will go wrong."
FIVE = [ANGRY, HAPPY, SCARED, "ok.", "Why?!"]
NOT_A_TURN: Any = 42
MAIL = "jo.doe@example.com"
CARD = "4111 1111 1111 1111"
API_KEY = "sk-proj-Ab3dEf9hIjK1mN0pQrStUvWxYz"
# redact() knows e-mails and cards but not API keys: the cut to log_text_chars keeps this one out.
CONFIDED = f"Write to {MAIL}, you charged {CARD} twice and I'm furious. My key: {API_KEY}"
SECRETS = [MAIL, CARD, API_KEY]


class Recorder(BaseCallbackHandler):
    """Chain runs in start order: name, parent, tags, input, and the output or error they ended
    with; ``payloads`` keeps the repr of every argument each callback was given."""

    def __init__(self) -> None:
        self.names: dict[UUID, str] = {}
        self.parents: dict[UUID, UUID | None] = {}
        self.tags: dict[UUID, list[str]] = {}
        self.inputs: dict[UUID, Any] = {}
        self.outputs: dict[UUID, Any] = {}
        self.errors: dict[UUID, BaseException] = {}
        self.payloads: list[tuple[UUID, str]] = []

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self.names[run_id] = kwargs["name"]
        self.parents[run_id] = parent_run_id
        self.tags[run_id] = kwargs.get("tags") or []
        self.inputs[run_id] = inputs
        self.payloads.append((run_id, repr((serialized, inputs, parent_run_id, kwargs))))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.outputs[run_id] = outputs
        self.payloads.append((run_id, repr((outputs, kwargs))))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.errors[run_id] = error
        self.payloads.append((run_id, repr((error, error.args, kwargs))))

    def runs(self, name: str = "jeffrey_affect") -> list[UUID]:
        return [run_id for run_id, n in self.names.items() if n == name]

    def leaks(self, runs: list[UUID]) -> list[str]:
        """The payloads of these runs that hold a secret."""
        return [p for run, p in self.payloads if run in runs and any(s in p for s in SECRETS)]


@pytest.fixture
def runnable(classifier: AffectClassifier) -> AffectRunnable:
    return AffectRunnable(classifier)


def encoded(*texts: str) -> list[str]:
    """What the classifier hands the encoder for these user turns: the longest first, so that
    the encoder's batches pad little."""
    return sorted((preprocess_light(t) for t in texts), key=len, reverse=True)


@pytest.mark.parametrize(
    ("value", "turn"),
    [
        (ANGRY, ANGRY),
        (HumanMessage(ANGRY), ANGRY),
        (
            HumanMessage(
                content=[
                    "I am furious,",
                    {"type": "image", "url": "https://example.com/receipt.png"},
                    {"type": "text", "text": "you broke my order again!"},
                    {"type": "text", "text": 7},
                ]
            ),
            "I am furious,\nyou broke my order again!",
        ),
        ([HumanMessage(SCARED), AIMessage("Tell me more."), HumanMessage(ANGRY)], ANGRY),
        ((SystemMessage("Be kind."), HumanMessage(ANGRY), AIMessage(HAPPY)), ANGRY),
        ({"messages": [HumanMessage(HAPPY), HumanMessage(ANGRY)]}, ANGRY),
        ({"input": ANGRY, "history": [HumanMessage(HAPPY)]}, ANGRY),
        ({"input": HumanMessage(ANGRY)}, ANGRY),
        # Message-likes, as a chat model takes them; the README's agent example passes dicts.
        ({"messages": [{"role": "user", "content": ANGRY}]}, ANGRY),
        ([("human", SCARED), ("ai", "Tell me more."), ("human", ANGRY)], ANGRY),
        ([{"role": "user", "content": ANGRY}, {"role": "assistant", "content": HAPPY}], ANGRY),
        ([HumanMessage(SCARED), ANGRY], ANGRY),
        ({"role": "user", "content": ANGRY}, ANGRY),  # one message as a dict, as one message
        ({"input": ANGRY, "role": "a pirate"}, ANGRY),  # a prompt variable beside the state's key
        ({"messages": [HumanMessage(ANGRY)], "role": "user", "content": HAPPY}, ANGRY),
    ],
)
def test_invoke_classifies_the_users_turn(
    runnable: AffectRunnable,
    classifier: AffectClassifier,
    encoder_calls: list[list[str]],
    value: Any,
    turn: str,
) -> None:
    result = runnable.invoke(value)

    assert encoder_calls == [encoded(turn)]
    expected = classifier.classify(turn)
    assert result.emotion == expected.emotion
    assert result.scores == pytest.approx(expected.scores)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (42, "int"),
        (None, "NoneType"),
        (b"bytes", "bytes"),
        ({"text": ANGRY}, "'text'"),
        ([], "HumanMessage"),
        ([AIMessage(HAPPY), SystemMessage("x")], "HumanMessage"),
        ([HumanMessage(ANGRY), 5], "item of int"),
        ([{"content": ANGRY}], "item of dict"),
        ([{"role": "robot", "content": ANGRY}], "item of dict"),
        ({"role": "robot", "content": ANGRY}, "item of dict"),
        ([("human",)], "item of tuple"),
    ],
)
def test_other_inputs_raise_type_error_naming_them(
    runnable: AffectRunnable, encoder_calls: list[list[str]], value: Any, named: str
) -> None:
    with pytest.raises(TypeError, match=named):
        runnable.invoke(value)
    with pytest.raises(TypeError, match=named):
        asyncio.run(runnable.ainvoke(value))
    assert encoder_calls == []


def test_a_bad_message_dict_is_refused_without_quoting_it(runnable: AffectRunnable) -> None:
    # LangChain's own error quotes the dict; tracers record the error's whole traceback.
    with pytest.raises(TypeError) as caught:
        runnable.invoke([{"content": ANGRY}])

    assert ANGRY not in "".join(traceback.format_exception(caught.value))


def test_ainvoke_encodes_off_the_event_loop(
    runnable: AffectRunnable, encoder_calls: list[list[str]], encoder_threads: list[int]
) -> None:
    async def run() -> tuple[AffectResult, int]:
        return await runnable.ainvoke([HumanMessage(SCARED)]), threading.get_ident()

    result, loop_thread = asyncio.run(run())

    assert encoder_calls == [encoded(SCARED)]
    assert encoder_threads[0] != loop_thread
    assert result.emotion == runnable.invoke(SCARED).emotion


@pytest.mark.parametrize("texts", [[], [ANGRY], FIVE])
def test_batch_is_one_encoder_call_with_results_in_input_order(
    runnable: AffectRunnable, encoder_calls: list[list[str]], texts: list[str]
) -> None:
    results = runnable.batch(list(texts))

    assert encoder_calls == ([encoded(*texts)] if texts else [])
    for result, text in zip(results, texts, strict=True):
        assert result.scores == pytest.approx(runnable.invoke(text).scores, abs=1e-4)


@pytest.mark.parametrize("texts", [[], [ANGRY], FIVE])
def test_abatch_is_one_encoder_call_with_results_in_input_order(
    runnable: AffectRunnable, encoder_calls: list[list[str]], texts: list[str]
) -> None:
    results = asyncio.run(runnable.abatch(list(texts)))

    assert encoder_calls == ([encoded(*texts)] if texts else [])
    for result, text in zip(results, texts, strict=True):
        assert result.scores == pytest.approx(runnable.invoke(text).scores, abs=1e-4)


def test_max_concurrency_caps_each_encoder_call(
    runnable: AffectRunnable, encoder_calls: list[list[str]]
) -> None:
    config: RunnableConfig = {"max_concurrency": 2}
    expected = [encoded(*FIVE[:2]), encoded(*FIVE[2:4]), encoded(FIVE[4])]

    assert len(runnable.batch(list(FIVE), config)) == 5
    assert encoder_calls == expected
    encoder_calls.clear()
    assert len(asyncio.run(runnable.abatch(list(FIVE), config))) == 5
    assert encoder_calls == expected


def test_return_exceptions_fails_only_the_bad_inputs(
    runnable: AffectRunnable, encoder_calls: list[list[str]]
) -> None:
    inputs: list[Any] = [ANGRY, 3, HAPPY]

    for results in (
        runnable.batch(inputs, return_exceptions=True),
        asyncio.run(runnable.abatch(inputs, return_exceptions=True)),
    ):
        assert [type(r) for r in results] == [AffectResult, TypeError, AffectResult]
    assert encoder_calls == [encoded(ANGRY, HAPPY)] * 2
    with pytest.raises(TypeError, match="int"):
        runnable.batch(inputs)
    with pytest.raises(TypeError, match="int"):
        asyncio.run(runnable.abatch(inputs))


def test_stream_and_astream_yield_the_one_result(runnable: AffectRunnable) -> None:
    async def collect() -> list[AffectResult]:
        return [r async for r in runnable.astream(HAPPY)]

    for chunks in (list(runnable.stream(HAPPY)), asyncio.run(collect())):
        assert len(chunks) == 1
        assert chunks[0].emotion == runnable.invoke(HAPPY).emotion


def test_callbacks_see_one_named_run_per_input_ending_with_its_result(
    runnable: AffectRunnable,
) -> None:
    recorder = Recorder()
    config: RunnableConfig = {"callbacks": [recorder]}

    results = [
        runnable.invoke(ANGRY, config),
        asyncio.run(runnable.ainvoke(SCARED, config)),
        *runnable.batch([HAPPY, SCARED], config),
        *asyncio.run(runnable.abatch([ANGRY, HAPPY], config)),
    ]
    with pytest.raises(TypeError):
        runnable.invoke(NOT_A_TURN, config)

    runs = recorder.runs()
    assert len(runs) == len(recorder.names) == 7
    assert [recorder.outputs[run] for run in runs[:6]] == results
    assert isinstance(recorder.errors[runs[6]], TypeError)
    assert {"emotion", "confidence", "route"} <= set(recorder.outputs[runs[0]].model_dump())


def test_with_config_names_and_tags_the_run(runnable: AffectRunnable) -> None:
    recorder = Recorder()

    runnable.with_config(run_name="user_affect", tags=["affect"]).invoke(
        ANGRY, {"callbacks": [recorder]}
    )

    [run] = recorder.runs("user_affect")
    assert "affect" in recorder.tags[run]
    assert isinstance(recorder.outputs[run], AffectResult)


def test_assign_adds_the_result_beside_the_input(runnable: AffectRunnable) -> None:
    chain = RunnablePassthrough.assign(affect=runnable)

    for state in (
        chain.invoke({"input": SCARED, "user_id": 7}),
        asyncio.run(chain.ainvoke({"input": SCARED, "user_id": 7})),
    ):
        assert state["input"] == SCARED
        assert state["user_id"] == 7
        assert state["affect"].emotion == runnable.invoke(SCARED).emotion


def test_with_fallbacks_catches_the_type_error(runnable: AffectRunnable) -> None:
    fallback: Runnable[Any, Any] = RunnableLambda(lambda v: f"fallback for {type(v).__name__}")
    guarded: Runnable[Any, Any] = runnable.with_fallbacks(
        [fallback], exceptions_to_handle=(TypeError,)
    )

    assert guarded.invoke(42) == "fallback for int"
    assert asyncio.run(guarded.ainvoke(None)) == "fallback for NoneType"
    assert isinstance(guarded.invoke(HAPPY), AffectResult)


def test_with_retry_reruns_the_classification(runnable: AffectRunnable) -> None:
    recorder = Recorder()
    retried = runnable.with_retry(
        retry_if_exception_type=(TypeError,), stop_after_attempt=3, wait_exponential_jitter=False
    )

    assert isinstance(retried.invoke(HAPPY, {"callbacks": [recorder]}), AffectResult)
    with pytest.raises(TypeError):
        retried.invoke(NOT_A_TURN, {"callbacks": [recorder]})

    outer = [run for run in recorder.runs() if recorder.parents[run] is None]
    attempts = [[run for run, p in recorder.parents.items() if p == o] for o in outer]
    assert [len(a) for a in attempts] == [1, 3]
    assert all(isinstance(recorder.errors[run], TypeError) for run in attempts[1])


def test_a_classifier_and_a_config_together_are_refused(classifier: AffectClassifier) -> None:
    with pytest.raises(ValueError, match="not both"):
        AffectRunnable(classifier, AffectConfig(log_enabled=False))


def test_settings_in_the_classifier_slot_are_refused_at_construction() -> None:
    # Not at the first turn, as an AttributeError from inside the classifier.
    with pytest.raises(TypeError, match=r"got AffectConfig: pass settings as config="):
        AffectRunnable(AffectConfig(log_enabled=False))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got dict"):
        AffectRunnable({"log_enabled": False})  # type: ignore[arg-type]


def test_the_runnables_need_only_langchain_core() -> None:
    """Without the ``agents`` extra the Runnables import and the middleware names the fix."""
    script = """
import importlib.abc, sys

class NoLangchain(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] == "langchain":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoLangchain())
import langchain_jeffrey_affect as pkg
print(pkg.AffectRunnable.name, pkg.tone_runnable().get_name())
try:
    pkg.AffectMiddleware
except ImportError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "jeffrey_affect jeffrey_affect_tone",
        "AffectMiddleware needs langchain: pip install 'langchain-jeffrey-affect[agents]'",
    ]


def traced(runnable: AffectRunnable, text: str) -> str:
    """What the prediction log keeps of ``text``."""
    return redact(text)[: runnable.classifier.config.log_text_chars]


def test_the_secrets_are_past_the_cut_or_redacted(runnable: AffectRunnable) -> None:
    kept = traced(runnable, CONFIDED)

    assert "<EMAIL>" in kept
    assert "<CARD>" in kept
    assert CONFIDED.index(API_KEY) >= runnable.classifier.config.log_text_chars


def call(runnable: AffectRunnable, mode: str, values: list[Any], config: RunnableConfig) -> None:
    """Runs ``values`` through ``runnable`` one call each, or as one batch."""

    async def each_async() -> None:
        for value in values:
            if mode == "ainvoke":
                await runnable.ainvoke(value, config)
            else:
                [_ async for _ in runnable.astream(value, config)]

    if mode == "invoke":
        for value in values:
            runnable.invoke(value, config)
    elif mode == "stream":
        for value in values:
            list(runnable.stream(value, config))
    elif mode == "batch":
        runnable.batch(values, config)
    elif mode == "abatch":
        asyncio.run(runnable.abatch(values, config))
    else:
        asyncio.run(each_async())


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "batch", "abatch", "stream", "astream"])
def test_callbacks_see_the_turn_redacted_and_cut_never_raw(
    runnable: AffectRunnable, mode: str
) -> None:
    recorder = Recorder()
    values: list[Any] = [
        CONFIDED,
        HumanMessage(CONFIDED),
        {"input": CONFIDED},
        [AIMessage(HAPPY), HumanMessage(CONFIDED)],
    ]

    call(runnable, mode, values, {"callbacks": [recorder]})

    runs = recorder.runs()
    assert [recorder.inputs[run] for run in runs] == [traced(runnable, CONFIDED)] * len(values)
    assert all(isinstance(recorder.outputs[run], AffectResult) for run in runs)
    assert recorder.leaks(list(recorder.names)) == []


def test_an_input_that_is_not_a_turn_traces_as_nothing(runnable: AffectRunnable) -> None:
    recorder = Recorder()
    config: RunnableConfig = {"callbacks": [recorder]}
    not_a_turn = {"text": CONFIDED}

    with pytest.raises(TypeError):
        runnable.invoke(not_a_turn, config)
    results = runnable.batch([not_a_turn, CONFIDED], config, return_exceptions=True)

    assert isinstance(results[0], TypeError)
    assert [recorder.inputs[run] for run in recorder.runs()] == ["", "", traced(runnable, CONFIDED)]
    assert recorder.leaks(list(recorder.names)) == []


def broken_redactor(text: str) -> str:
    raise RuntimeError(f"my PII service failed on {text!r}")


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "batch", "abatch", "stream", "astream"])
def test_a_raising_redactor_traces_no_text_and_never_fails_the_run(
    counting_encoder: Encoder, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = AffectConfig(log_enabled=False, cache_size=0, redactor=broken_redactor)
    runnable = AffectRunnable(AffectClassifier(config, encoder=counting_encoder))
    recorder = Recorder()

    call(runnable, mode, [CONFIDED, HumanMessage(ANGRY)], {"callbacks": [recorder]})

    runs = recorder.runs()
    assert [recorder.inputs[run] for run in runs] == ["", ""]
    assert all(isinstance(recorder.outputs[run], AffectResult) for run in runs)
    assert recorder.leaks(list(recorder.names)) == []
    assert "RuntimeError" in caplog.text
    assert CONFIDED not in caplog.text


@pytest.mark.parametrize("chars", [0, 24])
def test_the_traced_turn_is_what_the_prediction_log_keeps(
    counting_encoder: Encoder, tmp_path: Path, chars: int
) -> None:
    config = AffectConfig(log_dir=tmp_path, log_text_chars=chars, cache_size=0)
    recorder = Recorder()
    with AffectClassifier(config, encoder=counting_encoder) as classifier:
        AffectRunnable(classifier).invoke(CONFIDED, {"callbacks": [recorder]})

    [log_file] = tmp_path.iterdir()
    [line] = log_file.read_text().splitlines()
    assert [recorder.inputs[run] for run in recorder.runs()] == [json.loads(line)["text"]]


def test_in_a_chain_its_runs_see_only_the_redacted_turn(runnable: AffectRunnable) -> None:
    recorder = Recorder()
    config: RunnableConfig = {"callbacks": [recorder]}
    chain = RunnablePassthrough.assign(affect=runnable) | tone_runnable()

    outs = [
        chain.invoke({"input": CONFIDED}, config),
        asyncio.run(chain.ainvoke({"input": CONFIDED}, config)),
        *chain.batch([{"input": CONFIDED}], config),
        *chain.stream({"input": CONFIDED}, config),
    ]

    # The chain's own runs trace its raw input: the chain's to hide (a tracer's hide_inputs).
    runs = recorder.runs()
    assert [recorder.inputs[run] for run in runs] == [traced(runnable, CONFIDED)] * 4
    assert recorder.leaks(runs) == []
    assert all(out["input"] == CONFIDED for out in outs)


async def events(
    runnable: Runnable[Any, Any], value: Any, version: Literal["v1", "v2"]
) -> list[StreamEvent]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangChainDeprecationWarning)  # version="v1"
        return [event async for event in runnable.astream_events(value, version=version)]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    "value", [CONFIDED, HumanMessage(CONFIDED), {"messages": [HumanMessage(CONFIDED)]}]
)
def test_as_the_root_of_astream_events_it_shows_the_redacted_turn(
    runnable: AffectRunnable, value: Any, version: Literal["v1", "v2"]
) -> None:
    streamed = asyncio.run(events(runnable, value, version))

    assert [e["event"] for e in streamed if e["event"] != "on_chain_stream"] == [
        "on_chain_start",
        "on_chain_end",
    ]
    assert streamed[0]["data"]["input"] == traced(runnable, CONFIDED)
    assert isinstance(streamed[-1]["data"]["output"], AffectResult)
    assert [e for e in streamed if any(s in repr(e) for s in SECRETS)] == []


def test_in_a_chain_its_events_show_the_redacted_turn(runnable: AffectRunnable) -> None:
    chain = RunnableLambda(lambda value: value["input"]) | runnable

    streamed = asyncio.run(events(chain, {"input": CONFIDED}, "v2"))

    [start] = [
        e for e in streamed if e["name"] == "jeffrey_affect" and e["event"].endswith("start")
    ]
    assert start["data"]["input"] == traced(runnable, CONFIDED)
    # The chain's own start event carries the chain's raw input, as its callbacks see it.
    assert streamed[0]["data"]["input"] == {"input": CONFIDED}


def test_no_red_team_secret_reaches_a_tracer(counting_encoder: Encoder, tmp_path: Path) -> None:
    """Every turn of the red-team table, batched through the runnable: each run's traced input
    is the prediction log's line and holds none of the secret."""
    config = AffectConfig(log_dir=tmp_path, log_text_chars=1000, cache_size=0)
    recorder = Recorder()
    with AffectClassifier(config, encoder=counting_encoder) as classifier:
        AffectRunnable(classifier).batch([case.turn for case in CASES], {"callbacks": [recorder]})

    [log_file] = tmp_path.iterdir()
    logged = [json.loads(line)["text"] for line in log_file.read_text("utf-8").splitlines()]
    inputs = [recorder.inputs[run] for run in recorder.runs()]
    assert sorted(inputs) == sorted(logged) and len(inputs) == len(CASES)
    assert [c for c, i in zip(CASES, inputs, strict=True) if leaked(c.secret, i)] == []
