"""Under concurrent load and log faults, every classification answers and is logged or counted."""

import asyncio
import errno
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jeffrey_affect import AffectClassifier, AffectResult
from jeffrey_affect import _log as log_module
from jeffrey_affect._log import LogRecord, PredictionLog
from jeffrey_affect._report import build_report
from tests.helpers import LOGGED_FIELDS, PATIENCE_S, REPO, assert_valid, made_result

Make = Callable[..., AffectClassifier]
RESULT = made_result("joy")


def logged_lines(root: Path) -> list[bytes]:
    return [
        line
        for path in root.rglob("predictions_*.jsonl")
        for line in path.read_bytes().splitlines()
    ]


def test_threads_and_tasks_log_each_of_20000_classifications_once(
    make_classifier: Make, tmp_path: Path
) -> None:
    directory = tmp_path / "logs"
    clf = make_classifier(log_dir=directory, cache_size=100)
    texts = [f"message {i}: the delivery was late again" for i in range(300)]
    assert clf.artifacts.head is not None, f"the cache needs a model: {clf.artifacts.head_problem}"
    rng = random.Random(7)

    def draw(n: int) -> list[str]:
        """Mostly a hot set that stays cached, sometimes a cold text the cache must evict for."""
        return [
            texts[rng.randrange(50) if rng.random() < 0.99 else rng.randrange(300)]
            for _ in range(n)
        ]

    thread_work = [draw(1500) for _ in range(8)]
    task_work = [draw(40) for _ in range(200)]
    results: list[AffectResult] = []
    errors: list[BaseException] = []

    def thread(work: list[str]) -> None:
        try:
            results.extend(clf.classify(text) for text in work)
        except BaseException as exc:
            errors.append(exc)

    async def task(work: list[str]) -> None:
        for text in work:
            results.append(await clf.aclassify(text))

    async def tasks() -> None:
        await asyncio.gather(*(task(work) for work in task_work))

    threads = [threading.Thread(target=thread, args=(work,)) for work in thread_work]
    for t in threads:
        t.start()
    asyncio.run(tasks())
    for t in threads:
        t.join()
    clf.close()

    assert errors == []
    assert len(results) == 20_000
    for result in results:
        assert_valid(result)
    lines = logged_lines(directory)
    assert all(set(json.loads(line)) == LOGGED_FIELDS for line in lines)
    records = [LogRecord.model_validate_json(line) for line in lines]
    classified = Counter(itertools.chain(*thread_work, *task_work))
    logged = Counter(r.text for r in records)
    assert logged <= classified  # no line twice, none made up
    stats = clf.stats()
    assert (stats["predictions"], stats["logged"], stats["log_write_failures"]) == (
        20_000,
        len(records),
        0,
    )
    # One line per classification, or a drop that is counted.
    assert stats["logged"] + stats["log_dropped"] == 20_000
    assert stats["cache_misses"] >= len(classified)
    assert stats["cache_hits"] + stats["cache_misses"] == 20_000
    assert stats["cache_hits"] > 0


class Looping(threading.Thread):
    """Classifies the same few turns until told to stop, keeping every result."""

    def __init__(self, clf: AffectClassifier) -> None:
        super().__init__(daemon=True)
        self.clf = clf
        self.texts = [f"message {i}: where is my refund?" for i in range(10)]
        self.stopping = threading.Event()
        self.results: list[AffectResult] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for text in itertools.cycle(self.texts):
                if self.stopping.is_set():
                    return
                self.results.append(self.clf.classify(text))
        except BaseException as exc:
            self.error = exc

    def wait_for(self, what: str, done: Callable[[dict[str, int]], bool]) -> dict[str, int]:
        deadline = time.monotonic() + PATIENCE_S
        while not done(stats := self.clf.stats()):
            assert self.is_alive(), f"the classifying thread died: {self.error!r}"
            assert time.monotonic() < deadline, f"no progress while waiting for {what}: {stats}"
            time.sleep(0.005)
        return stats


class FullDisk:
    """``os`` as ``_log`` sees it, on a disk with no space left."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def chmod_stops_writes(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    try:
        (probe / "file").touch()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o700)
    return False


@contextmanager
def broken(fault: str, directory: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The log directory made unwritable while the block runs; each way is a real fault."""
    if fault == "removed":  # a rename is atomic, where rmtree races the writer
        directory.rename(directory.with_name(f"removed-{os.urandom(4).hex()}"))
        yield
        directory.mkdir()
    elif fault == "not_a_directory":
        moved = directory.rename(directory.with_name("moved"))
        directory.write_text("a file where the directory was")
        yield
        directory.unlink()
        moved.rename(directory)
    elif fault == "read_only":  # the day-file too: an existing file stays writable otherwise
        modes = {path: path.stat().st_mode for path in [directory, *directory.iterdir()]}
        for path in modes:
            path.chmod(0o500)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
    else:
        with monkeypatch.context() as patch:
            patch.setattr(log_module, "os", FullDisk())
            yield


@pytest.mark.parametrize("fault", ["removed", "not_a_directory", "read_only", "no_space"])
def test_a_log_fault_mid_run_is_counted_warned_of_once_and_logging_resumes(
    make_classifier: Make,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    if fault == "read_only" and not chmod_stops_writes(tmp_path):
        pytest.skip(
            "running with CAP_DAC_OVERRIDE (root), where chmod 0o500 does not stop writes; "
            "the not_a_directory case covers an unwritable log path"
        )
    directory = tmp_path / "logs"
    worker = Looping(make_classifier(log_dir=directory))
    worker.start()
    try:
        worker.wait_for("healthy logging", lambda s: s["logged"] >= 50)
        for _ in range(2):  # the same fault twice, logging resuming between
            with broken(fault, directory, monkeypatch):
                failed = worker.clf.stats()["log_write_failures"] + 50
                worker.wait_for("failed writes", lambda s, n=failed: s["log_write_failures"] >= n)
            logged = worker.clf.stats()["logged"] + 50
            worker.wait_for("logging to resume", lambda s, n=logged: s["logged"] >= n)
    finally:
        worker.stopping.set()
        worker.join()
        worker.clf.close()

    assert worker.error is None
    for result in worker.results:
        assert_valid(result)
    stats = worker.clf.stats()
    assert stats["predictions"] == len(worker.results)
    assert stats["logged"] + stats["log_write_failures"] + stats["log_dropped"] == len(
        worker.results
    )
    assert stats["log_write_failures"] >= 100
    warned = [r for r in caplog.records if "not being written" in r.getMessage()]
    assert len(warned) == 2, [r.getMessage() for r in warned]  # one warning a fault
    lines = logged_lines(tmp_path)
    assert len(lines) == stats["logged"]
    assert all(set(json.loads(line)) == LOGGED_FIELDS for line in lines)


class ShortWriteOnce:
    """``os`` as ``_log`` sees it, on a disk that fills up halfway through one line."""

    def __init__(self) -> None:
        self.cut = False

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        if self.cut:
            return os.write(fd, data)
        self.cut = True
        return os.write(fd, data[: len(data) // 2])


def test_a_line_cut_short_is_counted_and_the_next_line_starts_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = PredictionLog(tmp_path, 50)
    monkeypatch.setattr(log_module, "os", ShortWriteOnce())
    for text in ("cut", "second", "third"):
        log.write([(RESULT, text)])
    log.close()
    assert (log.written, log.failures) == (2, 1)
    report = build_report(tmp_path)
    assert (report.total, report.malformed_lines) == (2, 1)


class HangingDisk:
    """``os`` as ``_log`` sees it, on a disk whose writes hang until released."""

    def __init__(self) -> None:
        self.writing = threading.Event()
        self.released = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        self.writing.set()
        assert self.released.wait(PATIENCE_S), "the test never released the disk"
        return os.write(fd, data)


def hung_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[PredictionLog, HangingDisk]:
    """A log with a queue of 10 lines whose writer hangs on its first line until released."""
    disk = HangingDisk()
    monkeypatch.setattr(log_module, "os", disk)
    monkeypatch.setattr(log_module, "QUEUE_SIZE", 10)
    log = PredictionLog(tmp_path, 50)
    log.write([(RESULT, "taken by the writer, which hangs")])
    assert disk.writing.wait(PATIENCE_S)
    return log, disk


def test_a_full_queue_drops_and_counts_lines_and_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, disk = hung_log(tmp_path, monkeypatch)

    caller = threading.Thread(
        target=lambda: [log.write([(RESULT, f"queued {i}")]) for i in range(25)]
    )
    caller.start()
    caller.join(PATIENCE_S)
    assert not caller.is_alive(), "write() waited for the hanging disk"
    assert (log.written, log.dropped) == (0, 15)

    disk.released.set()
    log.close()
    assert (log.written, log.failures, log.dropped) == (11, 0, 15)
    texts = [json.loads(line)["text"] for line in logged_lines(tmp_path)]
    assert texts == ["taken by the writer, which hangs"] + [f"queued {i}" for i in range(10)]


def test_a_batch_is_queued_whole_and_the_backlog_still_drops_the_next_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, disk = hung_log(tmp_path, monkeypatch)

    log.write([(RESULT, f"batch {i}") for i in range(25)])  # more than QUEUE_SIZE, none waiting
    log.write([(RESULT, "behind a backlog of 25")])
    assert log.dropped == 1

    disk.released.set()
    log.close()
    assert (log.written, log.failures, log.dropped) == (26, 0, 1)
    texts = [json.loads(line)["text"] for line in logged_lines(tmp_path)]
    assert texts == ["taken by the writer, which hangs"] + [f"batch {i}" for i in range(25)]


def test_a_batch_cut_short_counts_its_lost_lines_and_the_next_call_starts_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = PredictionLog(tmp_path, 50)
    monkeypatch.setattr(log_module, "os", ShortWriteOnce())
    log.write([(RESULT, f"batch {i}") for i in range(3)])  # half goes out: line 0, half of 1
    log.write([(RESULT, "next call")])
    log.close()
    assert (log.written, log.failures) == (2, 2)
    report = build_report(tmp_path)
    assert (report.total, report.malformed_lines) == (2, 1)


_WRITER = """
import itertools, sys
from pathlib import Path
from jeffrey_affect import AffectClassifier, AffectConfig

class Raising:
    name, dimension = "sentence-transformers/all-MiniLM-L6-v2", 384
    def encode(self, texts):
        raise RuntimeError("the regex route is enough here")

clf = AffectClassifier(AffectConfig(log_dir=Path(sys.argv[1])), encoder=Raising())
for text in itertools.cycle(["thanks, that helps!", "why is this still broken", "I'm worried"]):
    clf.classify(text)
"""


def test_a_writer_killed_mid_run_costs_at_most_the_line_it_was_writing(
    make_classifier: Make, tmp_path: Path
) -> None:
    directory = tmp_path / "logs"
    env = os.environ | {"PYTHONPATH": str(REPO)}
    with (tmp_path / "stderr").open("wb") as stderr:
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(directory)], env=env, stderr=stderr, cwd=tmp_path
        )
        try:
            deadline = time.monotonic() + PATIENCE_S
            while len(logged_lines(directory)) < 300:
                assert writer.poll() is None, (tmp_path / "stderr").read_text()
                assert time.monotonic() < deadline, "the writer logged too little"
                time.sleep(0.05)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()

    (newest, *_) = sorted(directory.glob("predictions_*.jsonl"), reverse=True)
    raw = newest.read_bytes()
    if raw.endswith(b"\n"):  # the kill fell between lines: cut one by hand
        with newest.open("ab") as f:
            f.write(raw.splitlines()[-1][:40])
    complete = sum(path.read_bytes().count(b"\n") for path in directory.glob("*.jsonl"))

    report = build_report(directory)
    assert (report.total, report.malformed_lines) == (complete, 1)

    with make_classifier(log_dir=directory) as restarted:
        for text in ("back again", "all good now", "thank you"):
            restarted.classify(text)
    report = build_report(directory)
    assert (report.total, report.malformed_lines) == (complete + 3, 1)
