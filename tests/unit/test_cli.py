"""The command line: what a user types, what they read back."""

import pytest

from jeffrey_affect.cli import main


def test_classify_without_texts_says_how_to_give_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify"]) == 2
    assert "--stdin" in capsys.readouterr().err


def test_classify_with_texts_and_stdin_refuses_rather_than_dropping_the_texts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classify", "--stdin", "my dog died"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_class_prior_that_is_neither_a_name_nor_weights_names_what_is_accepted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("bogus", "[1, 2]", "{}"):
        with pytest.raises(SystemExit) as exit_:
            main(["eval", "--class-prior", bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "not tempered, uniform, train or a JSON object of weights" in err, err


def test_help_reads_as_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "``" not in capsys.readouterr().out
