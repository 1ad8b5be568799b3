"""Old day-files are gzipped, then deleted, by the date in their name; a sweep never raises."""

import gzip
import json
import os
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeffrey_affect import AffectClassifier
from jeffrey_affect import _log as log_module
from jeffrey_affect._log import PredictionLog, log_host
from jeffrey_affect._report import build_report
from tests.helpers import made_result

Make = Callable[..., AffectClassifier]
TODAY = date(2024, 6, 15)
RESULT = made_result("joy")


class FrozenClock:
    """Stands in for ``datetime`` inside ``_log``, so "today" cannot move during a test."""

    def __init__(self, day: date) -> None:
        self.set(day)

    def set(self, day: date, hour: int = 12) -> None:
        self.current = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

    def now(self, tz: tzinfo | None = None) -> datetime:
        return self.current


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock(TODAY)
    monkeypatch.setattr(log_module, "datetime", frozen)
    return frozen


def name_for(age: int, gz: bool = False) -> str:
    return f"predictions_{TODAY - timedelta(days=age):%Y-%m-%d}.jsonl" + (".gz" if gz else "")


def content(age: int) -> bytes:
    """``age + 1`` valid log lines, so each file's line count is known."""
    stamp = datetime.combine(TODAY - timedelta(days=age), datetime.min.time(), UTC)
    record = {"timestamp": stamp.isoformat(), "text": f"day {age}"}
    return (json.dumps(record | RESULT.model_dump(exclude={"scores"})) + "\n").encode() * (age + 1)


def make_day_file(directory: Path, age: int, gz: bool = False) -> Path:
    path = directory / name_for(age, gz)
    path.write_bytes(gzip.compress(content(age)) if gz else content(age))
    return path


def test_day_files_older_than_compress_after_days_are_gzipped(
    clock: FrozenClock, tmp_path: Path
) -> None:
    for age in range(7):
        make_day_file(tmp_path, age)
    today_stat = (tmp_path / name_for(0)).stat()

    log = PredictionLog(tmp_path, 50, compress_after_days=2)

    assert sorted(os.listdir(tmp_path)) == sorted(
        [name_for(age) for age in range(3)] + [name_for(age, gz=True) for age in range(3, 7)]
    )
    for age in range(3):
        assert (tmp_path / name_for(age)).read_bytes() == content(age)
    for age in range(3, 7):
        path = tmp_path / name_for(age, gz=True)
        assert gzip.decompress(path.read_bytes()) == content(age)
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / name_for(0)).stat().st_mtime_ns == today_stat.st_mtime_ns
    assert log.sweep_failures == 0


def test_day_files_older_than_retention_days_are_deleted_gzipped_or_not(
    clock: FrozenClock, tmp_path: Path
) -> None:
    for age in range(10):
        make_day_file(tmp_path, age, gz=age % 2 == 1)
    others = [
        "notes.txt",
        "predictions_2020-13-45.jsonl",
        "predictions_latest.jsonl",
        f".{name_for(9)}.abc123.tmp",
    ]
    for name in others:
        (tmp_path / name).write_text("not a day-file")

    log = PredictionLog(tmp_path, 50, retention_days=4)

    kept = [name_for(age, gz=age % 2 == 1) for age in range(5)]
    assert sorted(os.listdir(tmp_path)) == sorted(kept + others)
    assert log.sweep_failures == 0


def test_compressed_and_expired_files_add_up_in_the_report(
    clock: FrozenClock, tmp_path: Path
) -> None:
    for age in range(9):
        make_day_file(tmp_path, age)

    PredictionLog(tmp_path, 50, retention_days=5, compress_after_days=1)

    assert sorted(os.listdir(tmp_path)) == sorted(
        [name_for(0), name_for(1)] + [name_for(age, gz=True) for age in range(2, 6)]
    )
    report = build_report(tmp_path)
    assert report.total == sum(age + 1 for age in range(6))
    assert report.malformed_lines == 0
    assert not any(f.damaged for f in report.files)


def test_without_settings_nothing_is_swept(clock: FrozenClock, tmp_path: Path) -> None:
    paths = [make_day_file(tmp_path, 4000), make_day_file(tmp_path, 5000, gz=True)]
    PredictionLog(tmp_path, 50)
    assert sorted(tmp_path.iterdir()) == sorted(paths)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.dictionaries(st.integers(min_value=-2, max_value=40), st.booleans(), max_size=12),
    retention=st.none() | st.integers(min_value=1, max_value=30),
    compress=st.none() | st.integers(min_value=1, max_value=30),
)
def test_each_file_fate_follows_its_age(
    clock: FrozenClock, files: dict[int, bool], retention: int | None, compress: int | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for age, gz in files.items():
            make_day_file(directory, age, gz)

        log = PredictionLog(directory, 50, retention_days=retention, compress_after_days=compress)

        expected = {
            name_for(age, gz or (compress is not None and age > compress)): age
            for age, gz in files.items()
            if retention is None or age <= retention
        }
        assert sorted(os.listdir(directory)) == sorted(expected)
        for name, age in expected.items():
            raw = (directory / name).read_bytes()
            assert (gzip.decompress(raw) if name.endswith(".gz") else raw) == content(age)
        assert log.sweep_failures == 0


def test_a_directory_named_like_a_day_file_is_left_alone(
    clock: FrozenClock, tmp_path: Path
) -> None:
    (tmp_path / name_for(3)).mkdir()  # due for gzip, were it a file
    (tmp_path / name_for(9)).mkdir()  # due for deletion, were it a file
    make_day_file(tmp_path, 4)
    make_day_file(tmp_path, 10)

    log = PredictionLog(tmp_path, 50, retention_days=8, compress_after_days=2)

    assert log.sweep_failures == 0  # not a regular file: not the sweep's to touch
    assert sorted(os.listdir(tmp_path)) == sorted([name_for(3), name_for(9), name_for(4, gz=True)])


def test_a_log_directory_that_cannot_exist_is_a_counted_sweep_failure(
    clock: FrozenClock, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("in the way")
    log = PredictionLog(tmp_path / "file" / "logs", 50, retention_days=1)
    assert log.sweep_failures == 1


class FailingFsync:
    """``os`` as ``_log`` sees it, with a disk that fills up before the gzip is safe."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def fsync(self, fd: int) -> None:
        raise OSError(28, "No space left on device")


def test_a_failed_gzip_keeps_the_original_and_leaves_no_temporary_file(
    clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_day_file(tmp_path, 5)
    monkeypatch.setattr(log_module, "os", FailingFsync())

    log = PredictionLog(tmp_path, 50, compress_after_days=1)

    assert log.sweep_failures == 1
    assert os.listdir(tmp_path) == [name_for(5)]
    assert (tmp_path / name_for(5)).read_bytes() == content(5)


def test_a_read_only_directory_is_a_counted_sweep_failure(
    clock: FrozenClock, tmp_path: Path
) -> None:
    make_day_file(tmp_path, 5)
    make_day_file(tmp_path, 9)
    tmp_path.chmod(0o500)
    try:
        if os.access(tmp_path, os.W_OK):
            pytest.skip("running with CAP_DAC_OVERRIDE (root): chmod does not stop writes")
        log = PredictionLog(tmp_path, 50, retention_days=8, compress_after_days=1)
    finally:
        tmp_path.chmod(0o700)
    assert log.sweep_failures == 2
    assert sorted(os.listdir(tmp_path)) == sorted([name_for(5), name_for(9)])


def test_the_sweep_runs_on_the_first_write_of_a_day_not_on_every_write(
    clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweeps: list[date] = []
    original = PredictionLog.sweep

    def counted(self: PredictionLog, today: date) -> None:
        sweeps.append(today)
        original(self, today)

    monkeypatch.setattr(PredictionLog, "sweep", counted)
    make_day_file(tmp_path, 1)
    log = PredictionLog(tmp_path, 50, compress_after_days=1)
    for _ in range(50):
        log.write([(RESULT, "same day")])
    log.close()
    assert sweeps == [TODAY]
    ours = f"predictions_{TODAY:%Y-%m-%d}_{log_host()}.jsonl"  # beside an older-style name
    assert sorted(os.listdir(tmp_path)) == sorted([name_for(1), ours])

    tomorrow = TODAY + timedelta(days=1)
    clock.set(tomorrow, hour=0)
    for _ in range(20):
        log.write([(RESULT, "next day")])
    clock.set(TODAY, hour=23)  # a late writer from the day before starts no sweep
    log.write([(RESULT, "late")])
    log.close()
    for thread in threading.enumerate():
        if thread.name == "jeffrey-affect-log-sweep":
            thread.join()

    assert sweeps == [TODAY, tomorrow]
    assert sorted(os.listdir(tmp_path)) == sorted(
        [name_for(1, gz=True), ours, f"predictions_{tomorrow:%Y-%m-%d}_{log_host()}.jsonl"]
    )
    assert build_report(tmp_path).total == 2 + 50 + 20 + 1


def test_the_classifier_settings_reach_the_log(
    clock: FrozenClock, make_classifier: Make, tmp_path: Path
) -> None:
    directory = tmp_path / "logs"
    directory.mkdir()
    for age in (1, 2, 4):
        make_day_file(directory, age)
    make_classifier(log_dir=directory, log_retention_days=3, log_compress_after_days=1)
    assert sorted(os.listdir(directory)) == sorted([name_for(1), name_for(2, gz=True)])
