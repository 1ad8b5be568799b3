"""The unit tier's guard: a classifier left to build its own encoder fails the test, whichever
backend it would load."""

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig


@pytest.mark.parametrize("backend", ["onnx-int8", "onnx", "torch"])
def test_building_a_real_encoder_fails_the_unit_tier(backend: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="which loads a model"):
        AffectClassifier(AffectConfig(encoder_backend=backend, log_enabled=False))
