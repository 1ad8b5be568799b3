"""Replicas' day-files: each writer its own file, old names still read and swept, and a report
over a tree of replica folders broken down by replica."""

import gzip
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from jeffrey_affect._log import DayFile, PredictionLog, day_of, log_host
from jeffrey_affect._render import render
from jeffrey_affect._report import build_report
from tests.helpers import PATIENCE_S, made_result

REPO = Path(__file__).resolve().parents[2]
D = date(2026, 11, 27)

_OTHER_PROCESS = """
import sys
from pathlib import Path
from jeffrey_affect._log import PredictionLog
from tests.helpers import made_result

log = PredictionLog(Path(sys.argv[1]), 50)
log.write([(made_result("anger"), "from the other process")])
log.close()
"""


def _texts(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text().splitlines()]


def test_two_processes_on_one_host_never_share_a_file(tmp_path: Path) -> None:
    first = PredictionLog(tmp_path, 50)
    first.write([(made_result("joy"), "from this process")])
    env = os.environ | {"PYTHONPATH": str(REPO)}
    other = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path)], env=env, capture_output=True
    )
    assert other.returncode == 0, other.stderr.decode()
    first.close()

    today = datetime.now(UTC).date()
    files = {day_of(p.name): p for p in tmp_path.iterdir()}
    (pid,) = (f.process for f in files if f is not None and f.process is not None)
    assert pid != os.getpid()
    ours, theirs = DayFile(today, log_host(), None, False), DayFile(today, log_host(), pid, False)
    assert set(files) == {ours, theirs}
    assert _texts(files[ours]) == ["from this process"]
    assert _texts(files[theirs]) == ["from the other process"]


def test_a_forked_child_writes_a_file_of_its_own(tmp_path: Path) -> None:
    """A log made before fork() (gunicorn --preload): the child must neither append to the
    parent's file nor lose its lines to the writer thread that stayed in the parent."""
    log = PredictionLog(tmp_path, 50)
    log.write([(made_result("joy"), "queued in the parent")])
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        try:
            before = log.written  # the parent's count at the fork
            log.write([(made_result("anger"), "from the child")])
            log.close()
            os._exit(0 if log.written == before + 1 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    log.close()

    today = datetime.now(UTC).date()
    files = {day_of(p.name): p for p in tmp_path.iterdir()}
    ours, theirs = DayFile(today, log_host(), None, False), DayFile(today, log_host(), child, False)
    assert set(files) == {ours, theirs}
    assert _texts(files[ours]) == ["queued in the parent"]
    assert _texts(files[theirs]) == ["from the child"]


def test_a_forked_child_counts_the_lines_left_with_the_parent_as_dropped(tmp_path: Path) -> None:
    """Lines the parent had queued, or was writing, at the fork are the parent's to write: the
    child counts them as dropped, so its counts still add up to the lines it was asked for."""
    parent, taken, release = os.getpid(), threading.Event(), threading.Event()

    def held_in_the_parent(text: str) -> str:
        if os.getpid() == parent:
            taken.set()
            release.wait(PATIENCE_S)
        return text

    log = PredictionLog(tmp_path, 50, redactor=held_in_the_parent)
    log.write([(made_result("joy"), f"turn {i}") for i in range(3000)])
    assert taken.wait(PATIENCE_S)  # the writer is on that call
    log.write([(made_result("joy"), "queued behind it")])
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        try:
            log.write([(made_result("anger"), "from the child")])
            log.close()
            counts = (log.written, log.failures, log.dropped)
            os._exit(0 if counts == (1, 0, 3001) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    release.set()
    log.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert (log.written, log.failures, log.dropped) == (3001, 0, 0)


def test_a_restarted_replica_takes_its_name_back(tmp_path: Path) -> None:
    held = PredictionLog(tmp_path, 50)
    beside = PredictionLog(tmp_path, 50)  # the lock is per log, so this one cannot have it
    for log in (held, beside):
        log.write([(made_result("joy"), "hello")])
        log.close()
    del held, beside
    again = PredictionLog(tmp_path, 50)
    again.write([(made_result("joy"), "after the restart")])
    again.close()

    hosts = sorted((f.host, f.process is None) for p in tmp_path.iterdir() if (f := day_of(p.name)))
    assert hosts == [(log_host(), False), (log_host(), True)]
    (plain,) = tmp_path.glob(f"*_{log_host()}.jsonl")
    assert _texts(plain) == ["hello", "after the restart"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("predictions_2026-11-27.jsonl", DayFile(D, None, None, False)),
        ("predictions_2026-11-27.jsonl.gz", DayFile(D, None, None, True)),
        (
            "predictions_2026-11-27_web-3.eu.example.com.jsonl",
            DayFile(D, "web-3.eu.example.com", None, False),
        ),
        ("predictions_2026-11-27_web-3_4242.jsonl.gz", DayFile(D, "web-3", 4242, True)),
        ("predictions_2026-11-27_.jsonl", None),
        ("predictions_2026-11-27_web_3_4242.jsonl", None),
        ("predictions_2026-11-27_web-3_x1.jsonl", None),
        ("predictions_2026-13-45_web-3.jsonl", None),
        (".predictions_2026-11-27_web-3.jsonl.abc.tmp", None),
    ],
)
def test_day_file_names_old_and_new(name: str, expected: DayFile | None) -> None:
    assert day_of(name) == expected


def test_the_sweep_gzips_and_deletes_every_writers_files(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    names = {
        age: [
            f"predictions_{today - timedelta(days=age):%Y-%m-%d}{tag}.jsonl"
            for tag in ("", "_web-1", "_web-1_77")
        ]
        for age in (0, 3, 9)
    }
    for paths in names.values():
        for name in paths:
            (tmp_path / name).write_text("{}\n")

    log = PredictionLog(tmp_path, 50, retention_days=5, compress_after_days=2)

    assert sorted(os.listdir(tmp_path)) == sorted(names[0] + [n + ".gz" for n in names[3]])
    assert log.sweep_failures == 0


def _line(route: str = "linear_head", latency: float = 2.0, low: bool = False) -> str:
    record = {
        "timestamp": "2026-11-27T07:30:01+00:00",
        "text": "some text",
        "emotion": "joy",
        "confidence": 0.3 if low else 0.9,
        "route": route,
        "fallback_reason": None if route == "linear_head" else "encoder failed: OSError",
        "latency_ms": latency,
        "cache_hit": False,
        "low_confidence": low,
        "model_version": "a1b2c3d4e5f6",
        "class_prior": "uniform",
    }
    return json.dumps(record) + "\n"


def test_the_report_reads_a_tree_of_replica_folders_by_replica(tmp_path: Path) -> None:
    eu1, eu2 = tmp_path / "eu-1", tmp_path / "eu-2" / "old"
    eu1.mkdir()
    eu2.mkdir(parents=True)
    # eu-1's host wrote as two processes; its restarts stay one replica
    (eu1 / "predictions_2026-11-26_web-1.jsonl").write_text(_line() * 3)
    (eu1 / "predictions_2026-11-27_web-1_4242.jsonl.gz").write_bytes(
        gzip.compress((_line("regex", 4.0) * 2).encode())
    )
    (eu2 / "predictions_2026-11-27.jsonl").write_text(_line(low=True) * 4)  # an older name
    (tmp_path / "predictions_2026-11-27_web-9.jsonl").write_text(_line() + "not json\n")
    (tmp_path / "linked").symlink_to(eu1, target_is_directory=True)  # not followed: no doubles

    report = build_report(tmp_path)

    assert report.total == 3 + 2 + 4 + 1
    assert report.malformed_lines == 1
    by_replica = {r.replica: r for r in report.replicas}
    assert list(by_replica) == ["eu-1/web-1", "eu-2/old", "web-9"]
    eu1_stats, eu2_stats, web9 = by_replica.values()
    assert (eu1_stats.files, eu1_stats.n, eu1_stats.fallback_rate) == (2, 5, 2 / 5)
    assert eu1_stats.routes == {"linear_head": 3, "prototypes": 0, "regex": 2}
    assert eu1_stats.mean_latency_ms == pytest.approx((3 * 2.0 + 2 * 4.0) / 5)
    assert (eu2_stats.files, eu2_stats.n, eu2_stats.low_confidence_rate) == (1, 4, 1.0)
    assert (web9.files, web9.n, web9.fallback_rate) == (1, 1, 0.0)
    assert sorted(f.replica for f in report.files) == ["eu-1/web-1"] * 2 + ["eu-2/old", "web-9"]
    assert [d.n for d in report.days] == [3, 7]

    table = render(report, "text").split("Per replica\n")[1].split("\n\n")[0].splitlines()
    assert [row.split()[:3] for row in table[1:]] == [
        ["Replica", "Files", "N"],
        ["eu-1/web-1", "2", "5"],
        ["eu-2/old", "1", "4"],
        ["web-9", "1", "1"],
    ]
    assert "| eu-2/old | 1 | 4 |" in render(report, "markdown")
    assert json.loads(render(report, "json"))["replicas"][0]["replica"] == "eu-1/web-1"


def test_one_directory_of_older_names_is_one_replica(tmp_path: Path) -> None:
    (tmp_path / "predictions_2026-11-26.jsonl").write_text(_line())
    (tmp_path / "predictions_2026-11-27.jsonl").write_text(_line())
    (replica,) = build_report(tmp_path).replicas
    assert (replica.replica, replica.files, replica.n) == (".", 2, 2)
