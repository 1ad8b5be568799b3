"""Where the release gate finds its chat sets, in a checkout and outside one."""

from pathlib import Path

import pytest

from jeffrey_affect._validate import default_chat_sets, validate


def test_every_chat_set_in_the_checkout_gets_its_rows() -> None:
    assert [p.name for p in default_chat_sets()] == ["chat_holdout.tsv", "smoke_chat.tsv"]


def test_outside_a_checkout_validate_asks_for_a_chat_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jeffrey_affect._validate.checkout_root", lambda: None)
    with pytest.raises(FileNotFoundError, match="installed package has none: pass --chat-set"):
        default_chat_sets()


def test_a_missing_chat_set_is_refused_before_any_model_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a classifier was built before the inputs were checked")

    monkeypatch.setattr("jeffrey_affect._validate.AffectClassifier", no_model)
    with pytest.raises(FileNotFoundError, match="--chat-set"):
        validate(tmp_path, chat_sets=[tmp_path / "typo.tsv"])
