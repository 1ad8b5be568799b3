"""The ONNX Runtime backends: exported offline into a cache, and faithful to the torch encoder."""

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder
from jeffrey_affect._config import DEFAULT_ENCODER
from tests.conftest import bundled_encoder

HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))
needs_onnx = pytest.mark.skipif(
    not HAS_ONNX, reason="onnx/onnxruntime not installed: pip install 'jeffrey-affect[onnx]'"
)

TURNS = [
    "I'm so happy for you, congratulations!",
    "This is terrifying, I'm scared to open the letter.",
    "Ugh, the build failed again and I've wasted my whole afternoon on it.",
    "I miss my dad so much since he passed.",
    "Wait, what?! You're moving to Japan?",
    "That's disgusting, who would eat that.",
    "The meeting moved to 3pm on Thursday.",
    "ok",
]


@contextmanager
def _onnx_cache(path: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JEFFREY_AFFECT_ONNX_CACHE", str(path))
        yield


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def onnx_encoders(onnx_cache: Path) -> dict[str, SentenceTransformerEncoder]:
    """Exporting takes seconds, so each backend is built once, into an empty cache."""
    if not HAS_ONNX:
        pytest.skip("onnx/onnxruntime not installed: pip install 'jeffrey-affect[onnx]'")
    with _onnx_cache(onnx_cache):
        return {b: bundled_encoder(backend=b) for b in ("onnx", "onnx-int8")}


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cosines: np.ndarray = (
        (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    )
    return cosines


@needs_onnx
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_encoders_give_unit_vectors_under_the_model_name(
    onnx_encoders: dict[str, SentenceTransformerEncoder], backend: str
) -> None:
    encoder = onnx_encoders[backend]
    embeddings = encoder.encode(TURNS)
    assert (encoder.name, encoder.backend, encoder.dimension) == (DEFAULT_ENCODER, backend, 384)
    assert embeddings.shape == (len(TURNS), 384) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


@needs_onnx
def test_onnx_fp32_matches_torch(
    onnx_encoders: dict[str, SentenceTransformerEncoder], encoder: SentenceTransformerEncoder
) -> None:
    cosines = _cosines(onnx_encoders["onnx"].encode(TURNS), encoder.encode(TURNS))
    assert cosines.min() > 0.999


@needs_onnx
def test_onnx_int8_stays_close_to_torch(
    onnx_encoders: dict[str, SentenceTransformerEncoder], encoder: SentenceTransformerEncoder
) -> None:
    cosines = _cosines(onnx_encoders["onnx-int8"].encode(TURNS), encoder.encode(TURNS))
    assert cosines.mean() > 0.97 and cosines.min() > 0.9  # a bare "ok" drifts most (~0.94)


@needs_onnx
@settings(max_examples=20, deadline=None)
@given(text=st.text(max_size=2000))
def test_onnx_fp32_matches_torch_on_any_text_including_truncated(
    onnx_encoders: dict[str, SentenceTransformerEncoder],
    encoder: SentenceTransformerEncoder,
    text: str,
) -> None:
    batch = [text, "a short neighbour, so the batch is padded"]
    assert _cosines(onnx_encoders["onnx"].encode(batch), encoder.encode(batch)).min() > 0.999


@needs_onnx
def test_classifier_on_onnx_loads_the_cached_export_and_agrees_with_torch(
    onnx_encoders: dict[str, SentenceTransformerEncoder],
    onnx_cache: Path,
    encoder: SentenceTransformerEncoder,
) -> None:
    exported = sorted(onnx_cache.glob("*/*.onnx"))
    assert [p.name for p in exported] == ["model.onnx", "model_qint8.onnx"]
    written = [p.stat().st_mtime_ns for p in exported]
    with _onnx_cache(onnx_cache):
        onnx = AffectClassifier(AffectConfig(encoder_backend="onnx", log_enabled=False))
    torch = AffectClassifier(AffectConfig(log_enabled=False), encoder=encoder)
    assert isinstance(onnx.encoder, SentenceTransformerEncoder) and onnx.encoder.backend == "onnx"
    assert [p.stat().st_mtime_ns for p in exported] == written
    got, want = onnx.classify_batch(TURNS), torch.classify_batch(TURNS)
    assert [r.route for r in got] == ["linear_head"] * len(TURNS)
    assert [r.emotion for r in got] == [r.emotion for r in want]
    np.testing.assert_allclose([r.confidence for r in got], [r.confidence for r in want], atol=1e-3)


def test_missing_onnx_runtime_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name)
    )
    with pytest.raises(ImportError, match=r"onnxruntime.*jeffrey-affect\[onnx\]"):
        SentenceTransformerEncoder(backend="onnx")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        SentenceTransformerEncoder(backend="tensorrt")
