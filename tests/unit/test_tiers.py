"""The tiers' own rules: the unit tier cannot load a model, and every test file sits in a tier
that pytest's testpaths run."""

import tomllib

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig
from tests.helpers import REPO


@pytest.mark.parametrize("backend", ["onnx-int8", "onnx", "torch"])
def test_building_a_real_encoder_fails_the_unit_tier(backend: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="which loads a model"):
        AffectClassifier(AffectConfig(encoder_backend=backend, log_enabled=False))


def test_every_test_file_is_in_a_tier_that_runs() -> None:
    """testpaths lists the tiers, unit first: a test file anywhere else would never run."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    tiers = [REPO / p for p in config["tool"]["pytest"]["ini_options"]["testpaths"]]
    found = [*(REPO / "tests").rglob("test_*.py"), *(REPO / "adapters").rglob("test_*.py")]
    assert found
    assert [p for p in found if not any(p.is_relative_to(tier) for tier in tiers)] == []
