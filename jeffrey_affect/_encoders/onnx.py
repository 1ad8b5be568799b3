"""The default runtime: the encoder exported once to ONNX, then run by ONNX Runtime, tokenizers and
numpy.

Exporting needs torch and sentence-transformers; running the export needs neither, which keeps a
replica's start-up and memory small. An export is a directory in the per-user cache, keyed by the
files that define the model and by the adapter, so changed weights are exported afresh.
"""

import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from jeffrey_affect._config import DEFAULT_ENCODER, OnnxBackend
from jeffrey_affect._encoders.base import (
    ENCODE_BATCH_SIZE,
    Adapter,
    default_prefix,
    local_model_dir,
)
from jeffrey_affect._encoders.sentence_transformer import SentenceTransformerEncoder

MODEL_FILES: dict[OnnxBackend, str] = {"onnx": "model.onnx", "onnx-int8": "model_qint8.onnx"}
SPEC_FILE = "encoder.json"
"""Written last into a staged export: a directory holding it is complete."""
EXPORT_RECIPE = 1
"""Part of the cache key: raised when the export's layout or recipe changes."""
_DEFINING_FILES = re.compile(r"[^/]*\.(safetensors|json)|pytorch_model\.bin|[^/]+/config\.json")
"""The weights, configs and tokenizer: the files an export is a function of."""


def export_cache_dir() -> Path:
    """``$JEFFREY_AFFECT_ONNX_CACHE``, else the per-user cache directory."""
    if override := os.environ.get("JEFFREY_AFFECT_ONNX_CACHE"):
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("jeffrey-affect")) / "onnx"


def export_dir(model: str, adapter: Adapter | None) -> Path:
    """Where the export of ``model`` with ``adapter`` lives, whether or not it exists yet."""
    source = local_model_dir(model)
    digest = hashlib.sha256(f"recipe {EXPORT_RECIPE}\n".encode())
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        if path.is_file() and _DEFINING_FILES.fullmatch(name):
            digest.update(f"{name}\n".encode())
            with path.open("rb") as f:
                digest.update(hashlib.file_digest(f, "sha256").digest())
    digest.update(f"adapter {adapter.sha256 if adapter else None}\n".encode())
    slug = re.sub(r"[^\w.-]+", "_", model)
    return export_cache_dir() / f"{slug}-{digest.hexdigest()[:16]}"


def export(model: str = DEFAULT_ENCODER, adapter: Adapter | None = None) -> Path:
    """Export ``model`` (with ``adapter`` merged) unless done already; return the directory.

    Each exporter stages its own copy beside the target and renames it into place, so no reader
    sees half an export and two processes exporting at once both succeed.
    """
    directory = export_dir(model, adapter)
    if (directory / SPEC_FILE).is_file():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}.") as tmp:
        staged = Path(tmp) / "export"
        staged.mkdir()
        _write_export(model, adapter, staged)
        try:
            staged.rename(directory)
        except OSError:
            if not (directory / SPEC_FILE).is_file():  # not just another exporter first
                raise
    return directory


def _write_export(model: str, adapter: Adapter | None, out: Path) -> None:
    from onnxruntime.quantization import quantize_dynamic
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    encoder = SentenceTransformerEncoder(model, "", adapter=adapter)
    st = encoder.sentence_transformer
    transformer, pooling = st[0], st[1] if len(st) > 1 else None
    mode = getattr(pooling, "pooling_mode", None)
    if (
        not isinstance(transformer, Transformer)
        or not isinstance(pooling, Pooling)
        or mode
        not in (
            "mean",
            "cls",
        )
    ):
        raise ValueError(
            f"the ONNX backends run a Transformer with mean or CLS pooling; {model!r} is "
            f"{st}: use encoder_backend='torch'"
        )
    _export_onnx(st, out / MODEL_FILES["onnx"])
    # optimum's avx2/avx512_vnni/arm64 recipe: s8 per-channel weights of the matrix products only,
    # u8 activations; quantizing the embedding table too cost more macro-F1 for no speed
    root = logging.getLogger()
    root.addFilter(_quantizer_advice)
    try:
        quantize_dynamic(
            out / MODEL_FILES["onnx"],
            out / MODEL_FILES["onnx-int8"],
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        root.removeFilter(_quantizer_advice)
    tokenizer = transformer.tokenizer
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    spec = {
        "model": model,
        "adapter_sha256": encoder.adapter_sha256,
        "dimension": encoder.dimension,
        "max_tokens": transformer.max_seq_length,
        "lowercase": bool(getattr(transformer, "do_lower_case", False)),
        "pooling": mode,
        "pad_id": tokenizer.pad_token_id,
        "pad_token": tokenizer.pad_token,
    }
    (out / SPEC_FILE).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")


def _quantizer_advice(record: logging.LogRecord) -> bool:
    """onnxruntime's quantizer advises a pre-processing step on the root logger; we measured the
    quantized model (benchmarks/RESULTS.md), so users need not see the advice."""
    return not record.getMessage().startswith("Please consider to run pre-processing")


def _export_onnx(st: Any, path: Path) -> None:
    """Traces a padded pair, so the attention mask's padding path is in the graph."""
    import torch

    features = st.preprocess(["a", "a longer text, so that the first one gets padded"])
    names = [k for k, v in features.items() if isinstance(v, torch.Tensor)]

    class ByPosition(torch.nn.Module):  # the exporter passes inputs by position
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.model(**dict(zip(names, inputs, strict=True)))[0]
            return hidden

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
        torch.onnx.export(
            ByPosition(st[0].model).eval(),
            tuple(features[n] for n in names),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Pooling and L2 normalisation as sentence-transformers does them, in float32."""
    if mode == "cls":
        pooled = hidden[:, 0]
    else:
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


class OnnxEncoder:
    """L2-normalised embeddings from an export, without torch or sentence-transformers.

    The first use on a machine exports the model (torch is imported for that once);
    ``jeffrey-affect export`` does it ahead of time, for images and read-only deployments.
    """

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        prefix: str | None = None,
        *,
        backend: OnnxBackend = "onnx",
        adapter: Adapter | None = None,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = model
        self.backend = backend
        self.prefix = default_prefix(model) if prefix is None else prefix
        directory = export(model, adapter)
        spec = json.loads((directory / SPEC_FILE).read_text())
        self.adapter_sha256: str | None = spec["adapter_sha256"]  # = adapter.sha256: in the key
        self.dimension: int = spec["dimension"]
        self._pooling: str = spec["pooling"]
        self._lowercase: bool = spec["lowercase"]
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=spec["max_tokens"])
        self._tokenizer.enable_padding(pad_id=spec["pad_id"], pad_token=spec["pad_token"])
        options = ort.SessionOptions()
        if threads is not None:  # else ONNX Runtime takes one per physical core
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(
                str(directory / MODEL_FILES[backend]), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ONNX Runtime raises its own errors for a damaged file
            raise OSError(
                f"cannot load the ONNX export in {directory} ({type(exc).__name__}); delete that "
                "directory and run `jeffrey-affect export` to rebuild it"
            ) from exc
        self._inputs = [i.name for i in self._session.get_inputs()]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Batches of similar length, as sentence-transformers makes them, so little is padding."""
        prepared = [(self.prefix + t).strip() for t in texts]
        if self._lowercase:
            prepared = [t.lower() for t in prepared]
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        out = np.empty((len(prepared), self.dimension), dtype=np.float32)
        for start in range(0, len(order), ENCODE_BATCH_SIZE):
            chosen = order[start : start + ENCODE_BATCH_SIZE]
            encodings = self._tokenizer.encode_batch([prepared[i] for i in chosen])
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {
                "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": mask,
                "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
            }
            (hidden,) = self._session.run(None, {n: feeds[n] for n in self._inputs})
            out[chosen] = pool(hidden, mask, self._pooling)
        return out
