"""AffectRunnable on a classifier of its own: the default encoder, loaded from the config."""

from pathlib import Path

from langchain_jeffrey_affect import AffectRunnable

from jeffrey_affect import AffectConfig, AffectResult

HAPPY = "Thank you so much, this is wonderful!"


def test_builds_its_own_classifier_from_a_config(tmp_path: Path) -> None:
    own = AffectRunnable(config=AffectConfig(log_dir=tmp_path, log_enabled=False))

    assert own.classifier.config.log_enabled is False
    assert own.get_name() == "jeffrey_affect"
    assert isinstance(own.invoke(HAPPY), AffectResult)
