"""The on-disk embedding cache: one entry per encoder identity and text list."""

from pathlib import Path

import numpy as np

from jeffrey_affect._embedding_cache import cached_embeddings


class ConstantEncoder:
    """Says who it is, and encodes every text as ``value``; counts its calls."""

    dimension = 4
    name = "some/model"
    prefix = ""
    adapter_sha256 = None

    def __init__(self, backend: str, value: float) -> None:
        self.backend = backend
        self.value = value
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.full((len(texts), self.dimension), self.value, dtype=np.float32)


def test_backends_of_one_model_keep_their_own_embeddings(tmp_path: Path) -> None:
    torch, int8 = ConstantEncoder("torch", 1.0), ConstantEncoder("onnx-int8", 2.0)
    texts = ["one", "two"]
    assert (cached_embeddings(torch, texts, tmp_path) == 1.0).all()
    assert (cached_embeddings(int8, texts, tmp_path) == 2.0).all()
    assert (cached_embeddings(torch, texts, tmp_path) == 1.0).all()
    assert (torch.calls, int8.calls) == (1, 1)
