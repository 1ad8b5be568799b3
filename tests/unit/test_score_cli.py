"""``jeffrey-affect score`` refuses what it cannot read before it loads a model."""

from pathlib import Path

import pytest

from jeffrey_affect.cli import main


def test_an_unknown_input_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "turns.xlsx"
    source.write_bytes(b"PK")
    assert main(["score", "--input", str(source), "--output", str(tmp_path / "out")]) == 1
    assert "name it .parquet, .jsonl, .ndjson or .csv" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
