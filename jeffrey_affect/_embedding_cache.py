"""Embeddings of a whole corpus, kept on disk: encoding the training split takes minutes."""

import hashlib
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from jeffrey_affect._encoders.base import Encoder, encoder_identity


def cached_embeddings(
    encoder: Encoder, texts: list[str], cache_dir: Path, *, batch_size: int = 256
) -> np.ndarray:
    """Encode ``texts`` once per (encoder, texts); later calls read the .npy file back."""
    who = encoder_identity(encoder)  # the backend too: int8 embeddings are not torch's
    names = [who.name or type(encoder).__name__, who.prefix, who.backend, who.adapter_sha256]
    if who.weights_sha256 is not None:  # an encoder whose weights could change under its name
        names.append(who.weights_sha256)
    key = json.dumps([*names, texts])
    path = cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"
    if path.is_file():
        cached: np.ndarray = np.load(path)
        if cached.shape == (len(texts), encoder.dimension):
            return cached
    batches = range(0, len(texts), batch_size)
    embeddings = np.concatenate(
        [
            encoder.encode(texts[i : i + batch_size])
            for i in tqdm(batches, desc="encoding", unit="batch")
        ]
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, embeddings)
    tmp.replace(path)
    return embeddings
