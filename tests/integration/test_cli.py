"""The command line on the default classifier: what a user types, what they read back."""

import io
import os
from pathlib import Path

import pytest

from jeffrey_affect.cli import main


def test_classify_stops_quietly_when_its_reader_goes_away(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`jeffrey-affect classify --stdin < turns | head -1`: the pipe closes under the writes."""
    monkeypatch.setenv("JEFFREY_AFFECT_LOG_DIR", str(tmp_path))
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as closed_pipe:
        monkeypatch.setattr("sys.stdout", closed_pipe)
        stdin = io.TextIOWrapper(io.BytesIO(b"thanks!\n" * 3), encoding="utf-8")
        monkeypatch.setattr("sys.stdin", stdin)
        assert main(["classify", "--stdin"]) == 1
    assert "Traceback" not in capfd.readouterr().err


def test_score_refuses_an_input_without_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyarrow", reason="the local engine writes Parquet: the [parquet] extra")
    source = tmp_path / "turns.csv"
    source.write_text("text\n", encoding="utf-8")
    assert main(["score", "--input", str(source), "--output", str(tmp_path / "out.parquet")]) == 1
    assert "holds no rows to score" in capsys.readouterr().err


def test_a_missing_encoder_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JEFFREY_AFFECT_ENCODER_MODEL", str(tmp_path / "no-such-model"))
    monkeypatch.setenv("JEFFREY_AFFECT_LOG_ENABLED", "false")
    assert main(["classify", "hi"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jeffrey-affect classify: cannot load encoder"), err
    assert "Traceback" not in err and err.count("\n") == 1
