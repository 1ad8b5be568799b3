"""The local engine of ``jeffrey-affect score``, with a scripted classifier in the model's place:
what it makes of awkward input, and what it leaves at ``--output`` when it fails."""

from pathlib import Path

import pytest

from jeffrey_affect._result import AffectResult
from jeffrey_affect.cli import main
from tests.helpers import made_result

pa = pytest.importorskip("pyarrow", reason="the local engine needs the [parquet] extra")
pq = pytest.importorskip("pyarrow.parquet", reason="the local engine needs the [parquet] extra")


class _Scripted:
    """Stands in for the model: joy for every text in ``good`` calls, then the encoder fails."""

    def __init__(self, good: int) -> None:
        self.good = good

    def classify_batch(self, texts: list[str]) -> list[AffectResult]:
        if self.good == 0:
            raise RuntimeError("the encoder died")
        self.good -= 1
        return [made_result("joy") for _ in texts]


def _scripted(monkeypatch: pytest.MonkeyPatch, good: int = 1_000) -> None:
    monkeypatch.setattr(
        "jeffrey_affect.batch.archive_classifier", lambda config=None: _Scripted(good)
    )


def test_a_local_job_that_fails_partway_leaves_the_earlier_output_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "turns.jsonl"
    source.write_text("".join(f'{{"text": "turn {i}"}}\n' for i in range(600)), encoding="utf-8")
    output = tmp_path / "scored.parquet"
    output.write_bytes(b"an earlier run's file")
    _scripted(monkeypatch, good=1)  # the first slice of 256 rows is written, the second fails

    with pytest.raises(RuntimeError, match="the encoder died"):
        main(["score", "--input", str(source), "--output", str(output)])
    assert output.read_bytes() == b"an earlier run's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.parquet", "turns.jsonl"]


def test_a_jsonl_line_that_is_not_utf8_gets_an_error_and_the_job_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "turns.jsonl"
    with source.open("wb") as f:
        f.writelines(f'{{"id": {i}, "text": "turn {i}"}}\n'.encode() for i in range(300))
        f.write(b'{"id": 300, "text": "caf\xe9 was awful"}\n')  # a latin-1 byte
        f.write(b'{"id": 301, "text": "ok"}\n')
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    assert len(rows) == 302
    assert [i for i, r in enumerate(rows) if r["error"]] == [300]
    assert rows[300] | {"scores": None} == {
        "fields": None,
        "text": None,
        "emotion": None,
        "confidence": None,
        "scores": None,
        "route": None,
        "error": "the line is not UTF-8",
    }
    assert (rows[301]["fields"], rows[301]["text"]) == ('{"id": 301}', "ok")


def test_csv_columns_are_text_though_a_later_block_holds_what_the_first_did_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrow types a CSV column by its first block (1 MB): a column of numbers there would make
    a later "A-123" fail the job."""
    source = tmp_path / "turns.csv"
    ids = [str(i) for i in range(100_000)] + ["A-123"]
    source.write_text("id,text\n" + "".join(f"{i},turn {i}\n" for i in ids), encoding="utf-8")
    assert source.stat().st_size > 1 << 20
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    scored = pq.read_table(output, columns=["id", "text", "error"])
    assert scored.column("id").to_pylist() == ids
    assert scored.column("text").to_pylist()[-1] == "turn A-123"
    assert scored.column("error").null_count == len(ids)


def test_a_jsonl_file_that_starts_with_a_byte_order_mark_keeps_its_first_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some editors on Windows begin a UTF-8 file with one; a CSV reader drops it already."""
    source = tmp_path / "turns.jsonl"
    source.write_text('{"id": 1, "text": "first"}\n{"id": 2, "text": "second"}\n', "utf-8-sig")
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    assert [(r["fields"], r["text"], r["error"]) for r in rows] == [
        ('{"id": 1}', "first", None),
        ('{"id": 2}', "second", None),
    ]


@pytest.mark.parametrize(
    "line",
    [r'{"id": 2, "text": "half \ud83d"}', r'{"id": 2, "text": "ok", "user": {"name": "\udc00"}}'],
    ids=["in the text", "in another field"],
)
def test_a_jsonl_line_with_a_lone_surrogate_gets_an_error_and_the_job_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    """Valid JSON, but half of a UTF-16 pair (a turn cut mid-emoji) is no text Parquet can hold."""
    source = tmp_path / "turns.jsonl"
    source.write_text(f'{{"id": 1, "text": "ok"}}\n{line}\n{{"id": 3, "text": "ok"}}\n', "utf-8")
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    said = r"the line holds a lone surrogate escape (half of a pair, such as \ud83d alone)"
    assert [(r["fields"], r["text"], r["emotion"], r["error"]) for r in rows] == [
        ('{"id": 1}', "ok", "joy", None),
        (None, None, None, said),
        ('{"id": 3}', "ok", "joy", None),
    ]
