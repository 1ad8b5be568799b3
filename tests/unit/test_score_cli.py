"""``jeffrey-affect score`` refuses what it cannot read before it loads a model."""

import re
from pathlib import Path

import pytest

from jeffrey_affect.batch import score_file
from jeffrey_affect.cli import main


def test_an_unknown_input_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "turns.xlsx"
    source.write_bytes(b"PK")
    assert main(["score", "--input", str(source), "--output", str(tmp_path / "out")]) == 1
    assert "name it .parquet, .jsonl, .ndjson or .csv" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("existing", ["a file", "a directory with a file"])
def test_the_ray_engine_refuses_an_output_it_would_append_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: str
) -> None:
    source = tmp_path / "turns.csv"
    source.write_text("text\nhello\n", encoding="utf-8")
    output = tmp_path / "scored"
    if existing == "a file":
        output.write_bytes(b"")
    else:
        output.mkdir()
        (output / "part-0.parquet").write_bytes(b"")
    argv = ["score", "--input", str(source), "--output", str(output), "--engine", "ray"]
    assert main(argv) == 1
    assert "give --engine ray a new or empty directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (ImportError("No module named 'pyarrow'", name="pyarrow"), "needs pyarrow: pip install"),
        (ImportError("cannot import name 'x' from 'y'"), "score: cannot import name 'x' from 'y'"),
        (ImportError("libfoo.so: cannot open", name="_foo"), "score: libfoo.so: cannot open"),
    ],
)
def test_an_import_error_names_the_extra_only_when_one_is_missing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: ImportError,
    said: str,
) -> None:
    def fail(*args: object, **kwargs: object) -> int:
        raise error

    monkeypatch.setattr("jeffrey_affect.cli.score_file", fail)
    argv = ["score", "--input", str(tmp_path / "t.csv"), "--output", str(tmp_path / "o")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert said in err and "None" not in err


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_jsonl_refuses_a_text_column_named_like_its_fields_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    """The line's other fields go in ``fields``: a text column of that name would replace them."""
    source = tmp_path / "turns.jsonl"
    source.write_text('{"id": 1, "fields": "ugh"}\n', encoding="utf-8")
    output = tmp_path / "scored"
    argv = ["score", "--input", str(source), "--output", str(output), "--text-column", "fields"]
    assert main([*argv, "--engine", engine]) == 1
    assert "cannot be 'fields' in JSON Lines" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_jsonl_without_the_text_column_is_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    """Refused, as a table without it is, rather than scored into a null for every row."""
    source = tmp_path / "turns.jsonl"
    source.write_text('{"id": 1}\n[1, 2]\n{"id": 2, "text": "ugh"}\n', encoding="utf-8")
    output = tmp_path / "scored"
    argv = ["score", "--input", str(source), "--output", str(output), "--text-column", "txt"]
    assert main([*argv, "--engine", engine]) == 1
    said = "no column 'txt'; the columns are ['id', 'text']"
    assert capsys.readouterr().err == f"score: {said}\n"
    assert not output.exists()

    with pytest.raises(ValueError, match=re.escape(said)):
        score_file(source, output, text_column="txt", engine=engine)


def test_the_local_engine_refuses_a_directory_for_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before the model loads, not after the whole job, when the rename would fail."""
    source = tmp_path / "turns.csv"
    source.write_text("text\nhello\n", encoding="utf-8")
    assert main(["score", "--input", str(source), "--output", str(tmp_path)]) == 1
    assert "is a directory; give --engine local a file name" in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["local", "ray"])
@pytest.mark.parametrize("name", ["scored.csv", "scored.JSONL", "scored.json"])
def test_an_output_named_like_another_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str, name: str
) -> None:
    """It would have been Parquet under that name."""
    source = tmp_path / "turns.csv"
    source.write_text("text\nhello\n", encoding="utf-8")
    argv = ["score", "--input", str(source), "--output", str(tmp_path / name), "--engine", engine]
    assert main(argv) == 1
    stem = name.partition(".")[0]
    said = f"and score writes Parquet: name the output {tmp_path / stem}.parquet"
    assert said in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turns.csv"]
