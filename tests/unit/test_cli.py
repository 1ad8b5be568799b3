"""The command line: what a user types, what they read back."""

import pytest

from jeffrey_affect.cli import main


def test_classify_without_texts_says_how_to_give_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify"]) == 2
    assert "--stdin" in capsys.readouterr().err
