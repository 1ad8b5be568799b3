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
