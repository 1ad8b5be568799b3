"""The default runtime: an ONNX export made once, then run without torch, faithful to torch."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

from jeffrey_affect import AffectClassifier, AffectConfig, SentenceTransformerEncoder
from jeffrey_affect._config import DEFAULT_ENCODER
from jeffrey_affect._encoders.onnx import MODEL_FILES, SPEC_FILE, OnnxEncoder, pool
from tests.helpers import REPO, SCORE_TOLERANCE, bundled_adapter, sure_label

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
HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "peft")


@pytest.fixture(scope="session")
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty cache, filled by two `jeffrey-affect export` processes racing each other."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    env = os.environ | {"JEFFREY_AFFECT_ONNX_CACHE": str(cache), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "jeffrey_affect.cli", "export"]
    racers = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [racer.communicate() for racer in racers]
    assert [r.returncode for r in racers] == [0, 0], [err.decode() for _, err in outputs]
    printed = {out.decode().strip() for out, _ in outputs}
    assert printed == {str(d) for d in cache.iterdir()}, "one export, named by both racers"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JEFFREY_AFFECT_ONNX_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def onnx_encoders(fresh_cache: Path) -> dict[str, OnnxEncoder]:
    adapter, threads = bundled_adapter(), AffectConfig().encoder_threads  # .ci/run sets 1 too
    return {
        b: OnnxEncoder(backend=b, adapter=adapter, threads=threads) for b in ("onnx", "onnx-int8")
    }


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cosines: np.ndarray = (
        (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    )
    return cosines


def test_racing_exporters_leave_one_complete_export(fresh_cache: Path) -> None:
    (export,) = fresh_cache.iterdir()
    assert sorted(p.name for p in export.iterdir()) == sorted(
        [*MODEL_FILES.values(), SPEC_FILE, "tokenizer.json"]
    )
    spec = json.loads((export / SPEC_FILE).read_text())
    assert spec["adapter_sha256"] is not None and spec["model"] == DEFAULT_ENCODER


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_encoders_give_unit_vectors_under_the_model_name(
    onnx_encoders: dict[str, OnnxEncoder], backend: str
) -> None:
    encoder = onnx_encoders[backend]
    embeddings = encoder.encode(TURNS)
    assert (encoder.name, encoder.backend, encoder.dimension) == (DEFAULT_ENCODER, backend, 384)
    assert embeddings.shape == (len(TURNS), 384) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


@settings(max_examples=25)
@given(
    hidden=st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(1, 9), min_size=n, max_size=n),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_numpy_pooling_equals_sentence_transformers(hidden: tuple[int, list[int], int]) -> None:
    n, lengths, seed = hidden
    tokens = np.random.default_rng(seed).normal(size=(n, max(lengths), 384)).astype(np.float32)
    mask = (np.arange(max(lengths))[None] < np.asarray(lengths)[:, None]).astype(np.int64)
    features = {
        "token_embeddings": torch.from_numpy(tokens),
        "attention_mask": torch.from_numpy(mask),
    }
    for mode in ("mean", "cls"):
        expected = Normalize()(Pooling(384, pooling_mode=mode)(dict(features)))
        np.testing.assert_allclose(
            pool(tokens, mask, mode), expected["sentence_embedding"].numpy(), atol=1e-5
        )


@pytest.mark.recorded_scores
def test_onnx_fp32_equals_torch(
    onnx_encoders: dict[str, OnnxEncoder], encoder: SentenceTransformerEncoder
) -> None:
    np.testing.assert_allclose(
        onnx_encoders["onnx"].encode(TURNS), encoder.encode(TURNS), atol=1e-5
    )


@pytest.mark.recorded_scores
@settings(max_examples=20)
@given(text=st.text(max_size=2000))
def test_onnx_fp32_matches_torch_on_any_text_including_truncated(
    onnx_encoders: dict[str, OnnxEncoder], encoder: SentenceTransformerEncoder, text: str
) -> None:
    batch = [text, "a short neighbour, so the batch is padded"]
    np.testing.assert_allclose(
        onnx_encoders["onnx"].encode(batch), encoder.encode(batch), atol=1e-4
    )


@pytest.mark.recorded_scores
def test_onnx_int8_stays_close_to_torch(
    onnx_encoders: dict[str, OnnxEncoder], encoder: SentenceTransformerEncoder
) -> None:
    cosines = _cosines(onnx_encoders["onnx-int8"].encode(TURNS), encoder.encode(TURNS))
    assert cosines.mean() > 0.97 and cosines.min() > 0.9  # a bare "ok" drifts most


_TORCH_FREE = f"""
import sys
from jeffrey_affect import AffectClassifier, AffectConfig
clf = AffectClassifier(AffectConfig(log_enabled=False))
result = clf.classify("had to put my dog down today")
print(result.route, clf.encoder.backend, *[m for m in {HEAVY_MODULES!r} if m in sys.modules])
"""


def test_the_default_runtime_never_imports_torch(fresh_cache: Path) -> None:
    env = os.environ | {"JEFFREY_AFFECT_ONNX_CACHE": str(fresh_cache), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["linear_head", "onnx"]


@pytest.mark.recorded_scores
def test_classifier_loads_the_cached_export_and_agrees_with_torch(
    fresh_cache: Path, encoder: SentenceTransformerEncoder
) -> None:
    exported = sorted(fresh_cache.glob("*/*"))
    written = [p.stat().st_mtime_ns for p in exported]
    onnx = AffectClassifier(AffectConfig(encoder_backend="onnx", log_enabled=False))
    torch_clf = AffectClassifier(AffectConfig(log_enabled=False), encoder=encoder)
    assert isinstance(onnx.encoder, OnnxEncoder) and onnx.encoder.backend == "onnx"
    assert [p.stat().st_mtime_ns for p in exported] == written
    got, want = onnx.classify_batch(TURNS), torch_clf.classify_batch(TURNS)
    assert [r.route for r in got] == ["linear_head"] * len(TURNS)
    for g, w in zip(got, want, strict=True):
        assert g.emotion == w.emotion or not sure_label(w.scores)
        assert g.scores == pytest.approx(w.scores, abs=SCORE_TOLERANCE)


def test_encoder_threads_caps_onnx_runtimes_threads() -> None:
    capped = AffectClassifier(AffectConfig(encoder_threads=1, log_enabled=False))
    options = capped.encoder._session.get_session_options()  # type: ignore[attr-defined]
    assert options.intra_op_num_threads == 1
    assert capped.classify("thanks, that fixed it!").route == "linear_head"


def test_a_damaged_export_names_its_directory_and_the_fix(
    fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (export,) = fresh_cache.iterdir()
    damaged = tmp_path / export.name
    damaged.mkdir()
    for f in export.iterdir():
        data = f.read_bytes()
        (damaged / f.name).write_bytes(data[: len(data) // 2] if f.suffix == ".onnx" else data)
    monkeypatch.setenv("JEFFREY_AFFECT_ONNX_CACHE", str(tmp_path))
    with pytest.raises(OSError, match=r"jeffrey-affect export"):
        AffectClassifier(AffectConfig(log_enabled=False))
