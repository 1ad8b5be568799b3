"""The prototypes route fitted on separable embeddings, through the artifacts' npz format."""

import io

import numpy as np

from jeffrey_affect._artifacts import npz_bytes
from jeffrey_affect._fit import calibrate_prototypes, fit_prototypes
from jeffrey_affect._prototypes import Prototypes


def test_prototypes_round_trip_through_npz() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), 30)
    embeddings = rng.normal(size=(240, 16)) + np.eye(8, 16)[labels] * 4
    protos = calibrate_prototypes(fit_prototypes(embeddings, labels, 8), embeddings, labels)
    assert (protos.logits(embeddings).argmax(axis=1) == labels).mean() > 0.9
    with np.load(io.BytesIO(npz_bytes(protos.arrays())), allow_pickle=False) as npz:
        loaded = Prototypes.from_arrays({key: npz[key] for key in npz.files})
    np.testing.assert_array_equal(loaded.logits(embeddings), protos.logits(embeddings))
