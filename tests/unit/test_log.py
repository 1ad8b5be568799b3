import gc
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from jeffrey_affect import AffectClassifier
from jeffrey_affect._log import LogRecord, PredictionLog, log_host, logged_text, traced_text
from jeffrey_affect._redact import MARGIN, redact
from tests.helpers import LOGGED_FIELDS, REPO, RaisingEncoder, log_lines, made_result

Make = Callable[..., AffectClassifier]
RESULT = made_result("joy")


def test_each_prediction_is_one_json_line_in_the_utc_day_file(
    make_classifier: Make, tmp_path
) -> None:
    with make_classifier(log_dir=tmp_path / "logs") as clf:
        results = [*clf.classify_batch(["I'm thrilled!", "where is my order?"]), clf.classify("")]
    (path,) = (tmp_path / "logs").glob(f"predictions_{datetime.now(UTC):%Y-%m-%d}_*.jsonl")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [line["emotion"] for line in lines] == [r.emotion for r in results]
    assert all(set(line) == LOGGED_FIELDS for line in lines)
    assert lines[0]["text"] == "I'm thrilled!"
    assert lines[0]["model_version"] == clf.model_version
    assert datetime.fromisoformat(str(lines[0]["timestamp"])).tzinfo is not None
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert clf.stats()["logged"] == 3


def test_a_line_says_how_many_turns_its_latency_is_the_mean_of(
    make_classifier: Make, tmp_path
) -> None:
    with make_classifier(log_dir=tmp_path / "logs") as clf:
        alone = clf.classify("where is my order?")
        batch = clf.classify_batch(["I'm thrilled!", "", "where is my order?"])
        clf.classify_batch(["one turn in a batch"])
    lines = log_lines(tmp_path / "logs")
    assert [line["batch_size"] for line in lines] == [1, 3, 3, 3, 1]
    assert lines[0]["latency_ms"] == alone.latency_ms
    assert [line["latency_ms"] for line in lines[1:4]] == [r.latency_ms for r in batch]
    assert len({r.latency_ms for r in batch}) == 1  # the batch's time over its size


def test_a_line_written_before_batch_size_reads_as_one_turn(tmp_path) -> None:
    line = json.loads(PredictionLog(tmp_path, text_chars=40).line(RESULT, "hi", datetime.now(UTC)))
    del line["batch_size"]
    assert LogRecord.model_validate_json(json.dumps(line)).batch_size == 1
    with pytest.raises(ValidationError, match="batch_size"):
        LogRecord.model_validate_json(json.dumps(line | {"batch_size": 0}))


def test_a_line_keeps_the_turns_language_and_reads_none_before_it_was_recorded(tmp_path) -> None:
    log = PredictionLog(tmp_path, text_chars=40)
    french = json.loads(log.line(made_result("joy", language="fr"), "merci", datetime.now(UTC)))
    unknown = json.loads(log.line(RESULT, "!!", datetime.now(UTC)))
    assert (french["language"], unknown["language"]) == ("fr", None)
    del french["language"]
    assert LogRecord.model_validate_json(json.dumps(french)).language is None


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=400), chars=st.integers(min_value=0, max_value=80))
def test_logged_text_never_exceeds_log_text_chars(
    make_classifier: Make, tmp_path, text, chars
) -> None:
    directory = tmp_path / f"logs-{chars}-{abs(hash(text))}"
    clf = make_classifier(
        log_dir=directory,
        log_text_chars=chars,
        encoder_override=RaisingEncoder(),
        artifacts_dir=tmp_path,  # none in it: the encoder fails before any artifact could serve
    )
    clf.classify(text)
    clf.close()
    (line,) = log_lines(directory)
    assert len(str(line["text"])) <= chars


def test_log_disabled_writes_nothing(make_classifier: Make, tmp_path) -> None:
    clf = make_classifier(log_dir=tmp_path / "none", log_enabled=False)
    clf.classify("hello")
    assert not (tmp_path / "none").exists()


def test_a_failing_write_is_counted_not_raised(make_classifier: Make, tmp_path) -> None:
    directory = tmp_path / "logs"
    clf = make_classifier(log_dir=directory)
    directory.rmdir()
    assert clf.classify("still answers").emotion
    clf.close()
    assert clf.stats()["log_write_failures"] == 1
    directory.mkdir()
    clf.classify("logging resumes")
    clf.close()
    assert [line["text"] for line in log_lines(directory)] == ["logging resumes"]
    assert (clf.stats()["logged"], clf.stats()["log_write_failures"]) == (1, 1)


def test_eight_threads_give_exactly_1600_well_formed_lines(make_classifier: Make, tmp_path) -> None:
    directory = tmp_path / "logs"
    clf = make_classifier(log_dir=directory)
    texts = [f"turn number {i}, thanks a lot" for i in range(40)]

    def worker(offset: int) -> None:
        for i in range(200):
            clf.classify(texts[(i + offset) % len(texts)])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clf.close()
    raw = b"".join(p.read_bytes() for p in directory.glob("*.jsonl"))
    assert raw.endswith(b"\n")
    lines = [json.loads(x) for x in raw.decode().splitlines()]
    assert len(lines) == 1600
    assert all(set(line) == LOGGED_FIELDS for line in lines)
    stats = clf.stats()
    assert (stats["predictions"], stats["logged"], stats["log_dropped"]) == (1600, 1600, 0)


def test_log_directory_is_private(make_classifier: Make, tmp_path) -> None:
    with make_classifier(log_dir=tmp_path / "private") as clf:
        clf.classify("hi")
    assert os.stat(tmp_path / "private").st_mode & 0o077 == 0


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jeffrey-affect-log"]


def test_close_writes_out_every_queued_line_and_stops_the_writer(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, 50)
    for i in range(500):
        log.write([(RESULT, f"line {i}")])
    log.close()
    assert [line["text"] for line in log_lines(tmp_path)] == [f"line {i}" for i in range(500)]
    assert (log.written, log.failures, log.dropped) == (500, 0, 0)
    assert writer_threads() == []
    log.close()  # idempotent
    log.write([(RESULT, "after close")])  # starts a writer again
    log.close()
    assert log_lines(tmp_path)[-1]["text"] == "after close"


def test_stats_add_up_once_closed(make_classifier: Make, tmp_path: Path) -> None:
    clf = make_classifier(log_dir=tmp_path / "logs", encoder_override=RaisingEncoder())
    clf.classify_batch([f"turn {i}" for i in range(300)])
    clf.close()
    stats = clf.stats()
    assert stats["predictions"] == 300
    assert stats["logged"] + stats["log_write_failures"] + stats["log_dropped"] == 300
    assert len(log_lines(tmp_path / "logs")) == stats["logged"]


def test_a_classifier_collected_without_close_writes_out_its_log(
    make_classifier: Make, tmp_path: Path
) -> None:
    clf = make_classifier(log_dir=tmp_path / "logs", encoder_override=RaisingEncoder())
    clf.classify_batch(["one", "two", "three"])
    del clf
    gc.collect()
    assert [line["text"] for line in log_lines(tmp_path / "logs")] == ["one", "two", "three"]
    assert writer_threads() == []


_EXITING = """
import sys
from pathlib import Path
from jeffrey_affect import AffectClassifier, AffectConfig
from jeffrey_affect._log import PredictionLog

class Raising:
    name, dimension = "sentence-transformers/all-MiniLM-L6-v2", 384
    def encode(self, texts):
        raise RuntimeError("the regex route is enough here")

clf = AffectClassifier(AffectConfig(log_dir=Path(sys.argv[1]) / "clf"), encoder=Raising())
results = clf.classify_batch([f"turn {i}" for i in range(1000)])
log = PredictionLog(Path(sys.argv[1]) / "log", 50)
for i in range(1000):
    log.write([(results[0], f"line {i}")])
"""


def test_lines_still_queued_at_exit_are_written(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _EXITING, str(tmp_path)],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert [line["text"] for line in log_lines(tmp_path / "clf")] == [
        f"turn {i}" for i in range(1000)
    ]
    assert [line["text"] for line in log_lines(tmp_path / "log")] == [
        f"line {i}" for i in range(1000)
    ]


def test_the_redactor_sees_only_the_window(make_classifier: Make, tmp_path: Path) -> None:
    seen: list[str] = []

    def recording(text: str) -> str:
        seen.append(text)
        return redact(text)

    turns = ["short turn", "x" * 50 + " 4111 1111 1111 1111" * 50, "word " * 400]
    logs = tmp_path / "logs"
    with make_classifier(
        log_dir=logs, encoder_override=RaisingEncoder(), redactor=recording
    ) as clf:
        for turn in turns:
            clf.classify(turn)
    window = 50 + 2 * MARGIN
    assert seen == [turns[0], turns[1][:window], turns[2][:window]]


def _today_file(directory: Path) -> Path:
    """The name this process takes in ``directory``: it holds the host's lock there."""
    return directory / f"predictions_{datetime.now(UTC):%Y-%m-%d}_{log_host()}.jsonl"


def test_a_link_planted_under_todays_name_is_never_written_through(tmp_path: Path) -> None:
    directory, target = tmp_path / "logs", tmp_path / "bashrc"
    directory.mkdir(mode=0o700)
    target.write_text("alias ls='ls -F'\n")
    _today_file(directory).symlink_to(target)
    log = PredictionLog(directory, 50)
    log.write([(RESULT, "hello")])
    log.close()
    assert target.read_text() == "alias ls='ls -F'\n"
    assert (log.written, log.failures) == (0, 1)


def test_a_fifo_planted_under_todays_name_cannot_hang_the_writer(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    directory.mkdir(mode=0o700)
    os.mkfifo(_today_file(directory))
    log = PredictionLog(directory, 50)
    log.write([(RESULT, "hello")])
    log.close()  # returns: the open does not wait for a reader
    assert (log.written, log.failures) == (0, 1)


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_group_or_world_writable_directory_is_refused_and_counted(
    make_classifier: Make, tmp_path: Path, mode: int
) -> None:
    directory = tmp_path / "shared-logs"
    directory.mkdir()
    directory.chmod(mode)
    with make_classifier(log_dir=directory) as clf:
        results = clf.classify_batch(["where is my parcel?", "thanks!"])
    stats = clf.stats()
    assert [r.route for r in results] == ["linear_head"] * 2  # classification goes on
    assert "chmod go-w" in stats["log_refused"]
    assert (stats["logged"], stats["log_write_failures"]) == (0, 2)
    assert list(directory.iterdir()) == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o606])
def test_a_day_file_open_to_others_is_made_private_before_the_first_append(
    tmp_path: Path, mode: int
) -> None:
    """A day-file restored from a backup or made by logrotate may be readable by others."""
    day_file = tmp_path / f"predictions_{datetime.now(UTC):%Y-%m-%d}_{log_host()}.jsonl"
    day_file.write_text('{"restored": true}\n')
    day_file.chmod(mode)
    log = PredictionLog(tmp_path, text_chars=50)
    log.write([(RESULT, "where is my parcel?")])
    log.close()
    assert day_file.stat().st_mode & 0o777 == 0o600
    assert day_file.read_text().splitlines()[0] == '{"restored": true}'
    assert (log.written, log.failures) == (1, 0)


@pytest.mark.parametrize(("mode", "warned"), [(0o777, True), (0o775, True), (0o1777, False)])
def test_a_parent_others_can_write_to_is_warned_of_and_logging_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, warned: bool
) -> None:
    """Another user could swap the log directory from such a parent: the log could be lost, not
    read (day-files are private), so it is a warning; a sticky parent such as /tmp is safe."""
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(mode)
    log = PredictionLog(parent / "logs", text_chars=50)
    log.write([(RESULT, "where is my parcel?")])
    log.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "jeffrey_affect._log"]
    expected = f"the prediction log under {parent / 'logs'} can be lost: {parent} is group- or"
    assert [w.startswith(expected) for w in warnings] == ([True] if warned else [])
    assert (log.refused, log.written) == (None, 1)


def test_a_log_path_that_is_a_file_is_refused_with_one_warning(
    make_classifier: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "logs"
    path.write_text("not a directory")
    with make_classifier(log_dir=path) as clf:
        clf.classify_batch(["where is my parcel?", "thanks!"])
        clf.classify("my dog died")
    stats = clf.stats()
    assert stats["log_refused"] == f"log directory {path} is not a directory"
    assert (stats["logged"], stats["log_write_failures"]) == (0, 3)
    warnings = [r.getMessage() for r in caplog.records if r.name == "jeffrey_affect._log"]
    assert warnings == [
        f"prediction log lines are not being written under {path}: log directory {path} is not "
        "a directory; each is counted in stats()['log_write_failures']"
    ]


def test_a_redactor_that_raises_loses_its_lines_with_one_warning_that_names_it(
    make_classifier: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def picky(text: str) -> str:
        if "parcel" in text:
            raise LookupError(text)  # quotes the user: the warning must not
        return text

    turns = ["where is my parcel?", "thanks!"] * 3
    with make_classifier(log_dir=tmp_path / "logs", redactor=picky) as clf:
        for turn in turns:
            clf.classify(turn)
    stats = clf.stats()
    assert (stats["logged"], stats["log_write_failures"]) == (3, 3)
    messages = [r.getMessage() for r in caplog.records if r.name == "jeffrey_affect._log"]
    assert messages == [
        "the log's redactor raised LookupError: each line it fails on is not logged, and "
        "counted in stats()['log_write_failures']"
    ]  # once, naming no text, and not blaming the directory


NOT_STRS = pytest.mark.parametrize(
    ("returned", "named"),
    [(None, "NoneType"), (b"bytes", "bytes"), (["a"], "list")],
    ids=["None", "bytes", "list"],
)


@NOT_STRS
def test_a_redactor_that_returns_no_str_is_warned_of_as_such_and_its_lines_counted(
    make_classifier: Make,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    returned: object,
    named: str,
) -> None:
    with make_classifier(log_dir=tmp_path / "logs", redactor=lambda text: returned) as clf:
        clf.classify_batch(["where is my parcel?", "thanks!"])
        clf.classify("bye")
    stats = clf.stats()
    assert (stats["logged"], stats["log_write_failures"], stats["log_dropped"]) == (0, 3, 0)
    messages = [r.getMessage() for r in caplog.records if r.name == "jeffrey_affect._log"]
    assert messages == [
        f"the log's redactor returned {named} instead of a str: each line it fails on is not "
        "logged, and counted in stats()['log_write_failures']"
    ]


@NOT_STRS
def test_a_trace_of_a_redactor_that_returns_no_str_is_empty_and_says_why(
    caplog: pytest.LogCaptureFixture, returned: object, named: str
) -> None:
    assert traced_text("where is my parcel?", 50, lambda text: returned) == ""  # type: ignore[arg-type, return-value]
    messages = [r.getMessage() for r in caplog.records if r.name == "jeffrey_affect._log"]
    assert messages == [f"the redactor returned {named} instead of a str; no text is traced"]


def test_a_trace_of_a_redactor_that_raises_names_the_exception_type_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(text: str) -> str:
        raise LookupError(text)

    assert traced_text("where is my parcel?", 50, broken) == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "jeffrey_affect._log"]
    assert messages == ["the redactor raised LookupError; no text is traced"]


def test_the_sweep_skips_what_is_not_a_regular_file(tmp_path: Path) -> None:
    directory, target = tmp_path / "logs", tmp_path / "precious.txt"
    directory.mkdir(mode=0o700)
    target.write_text("keep me\n")
    (directory / "predictions_2020-01-01.jsonl").symlink_to(target)
    os.mkfifo(directory / "predictions_2020-01-02.jsonl")
    log = PredictionLog(directory, 50, retention_days=1, compress_after_days=1)
    log.close()
    assert target.read_text() == "keep me\n"
    assert sorted(p.name for p in directory.iterdir()) == [
        "predictions_2020-01-01.jsonl",
        "predictions_2020-01-02.jsonl",
    ]
    assert log.sweep_failures == 0


def test_a_configured_redactor_replaces_the_built_in_one(
    make_classifier: Make, tmp_path: Path
) -> None:
    with make_classifier(log_dir=tmp_path / "logs", redactor=str.upper) as clf:
        clf.classify("my order 1234 is late")
    (line,) = log_lines(tmp_path / "logs")
    assert line["text"] == "MY ORDER 1234 IS LATE"


def test_logged_text_normalises_before_it_redacts() -> None:
    """A span or a trace gets the caller's raw turn: a zero-width space must not hide an address
    from the redactor there, as ``classify``'s normalisation keeps it from the log's."""
    assert logged_text("mail jo\u200b@example.com now", 50) == "mail <EMAIL> now"
