"""The prediction log: one JSON line per classification in a UTC day-file, PII redacted first.

A day-file's name carries the host, and the process id when another process on the host holds the
directory, so no two writers ever append to one file, not even on network storage, where appends
from two clients can interleave. Day-files are gzipped after ``compress_after_days`` and deleted
after ``retention_days``, counted from the date in the file name rather than from file times,
which copies and backups change.
"""

import atexit
import contextlib
import fcntl
import gzip
import logging
import os
import queue
import re
import shutil
import socket
import stat
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from jeffrey_affect._labels import Emotion
from jeffrey_affect._redact import MARGIN, redact
from jeffrey_affect._result import AffectResult, Route
from jeffrey_affect._text import preprocess_light

logger = logging.getLogger(__name__)

_DAY_FILE = re.compile(
    r"predictions_(\d{4}-\d{2}-\d{2})(?:_([A-Za-z0-9.-]+?)(?:_(\d+))?)?\.jsonl(\.gz)?"
)
"""``predictions_DATE[_HOST[_PID]].jsonl[.gz]``; names without a host, the older form, are still
read and swept."""


class LogRecord(BaseModel):
    """One log line. Strict, so a wrongly typed field (``"12"`` for a number) marks it malformed.

    ``batch_size`` is the number of turns in the call that made the line: 1 for ``classify``, n
    for a ``classify_batch`` of n, whose ``latency_ms`` is the call's time over n, a mean rather
    than the turn's own. Lines written before it was recorded lack it and read as 1.
    ``language`` is the result's: the turn's ISO 639-1 code, or None where it could not be told;
    lines written before it was recorded lack it and read as None, unknown.
    """

    model_config = ConfigDict(strict=True, allow_inf_nan=False, frozen=True)

    timestamp: datetime
    text: str
    emotion: Emotion
    confidence: float = Field(ge=0.0, le=1.0)
    route: Route
    fallback_reason: str | None
    latency_ms: float = Field(ge=0.0)
    batch_size: int = Field(default=1, ge=1)
    cache_hit: bool
    low_confidence: bool
    model_version: str
    class_prior: str
    language: str | None = None


_RESULT_FIELDS = set(LogRecord.model_fields) - {"timestamp", "text", "batch_size"}

QUEUE_SIZE = 4096
"""Lines waiting for the writer thread. A call's lines are queued together while fewer wait, and
dropped together, counted, once as many wait: a slow disk cannot grow the backlog much past this,
and one big batch is never cut short."""

_Call = tuple[datetime, list[tuple[AffectResult, str]]]
"""One ``classify`` or ``classify_batch`` call's lines: its time, then each result and turn."""

LineOutcome = Literal["written", "failed", "dropped"]
"""What became of a line: counted in ``written``, ``failures`` or ``dropped``."""


class PredictionLog:
    """Appends to ``<directory>/predictions_YYYY-MM-DD_<host>[_<pid>].jsonl``; every line is
    written or counted.

    ``write`` only queues a call's lines: a writer thread, started on the first call, redacts
    them, makes their JSON and appends them, so classification never waits on the disk. Lines
    that find the queue full are dropped and counted in ``dropped``; those the disk refuses are
    counted in ``failures``; ``written`` counts the rest. ``close()`` writes out the queue and
    stops the thread (a later ``write`` starts another), and it runs at exit for every log still
    open, so once closed, ``written + failures + dropped`` is the number of lines asked for.

    A call's lines go out in one ``write`` on an ``O_APPEND`` descriptor under a lock, so lines
    never interleave, across threads or processes. The file is opened per call: a removed or
    read-only directory shows up at once as a counted failure, and logging resumes when it is
    back. A write cut short, by a full disk or by a writer killed before this log was opened, is
    ended before the next one goes out, so only the lines it cut are lost (a killed process also
    loses the lines still queued).

    A file is swept once its date is more than N days before today, so the file swept was last
    written at least a day ago, whatever N >= 1. The sweep runs at construction and, in a thread so
    that no line waits on gzip, on the first line of each UTC day; its failures are counted in
    ``sweep_failures``, never raised.
    """

    def __init__(
        self,
        directory: Path,
        text_chars: int,
        *,
        retention_days: int | None = None,
        compress_after_days: int | None = None,
        redactor: Callable[[str], str] | None = None,
        on_lines: Callable[[LineOutcome, int], None] | None = None,
    ) -> None:
        self.directory = directory
        self.on_lines = on_lines  # told of lines as they are counted (telemetry)
        self.text_chars = text_chars
        self.redactor = redactor
        self.retention_days = retention_days
        self.compress_after_days = compress_after_days
        self.written = 0
        self.failures = 0
        self.dropped = 0
        self.sweep_failures = 0
        self._failing = False  # the disk refused the last line: warned once until one is written
        self._redactor_warned = False
        self._lock = threading.Lock()  # one call's lines at a time reach the file
        self._sweep_lock = threading.Lock()
        self._writer_lock = threading.Lock()  # guards _writer and _waiting
        self._count_lock = threading.Lock()  # guards the three line counters
        self._writer: tuple[threading.Thread, queue.SimpleQueue[_Call | None]] | None = None
        self._waiting = 0  # lines queued that the writer has not taken yet
        self._asked = 0  # lines given to write, for a forked child's count of those it lost
        with contextlib.suppress(OSError):  # counted on the first write instead
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.refused = _unsafe_directory(directory)
        if self.refused is None and (exposed := _exposed_parent(directory)):
            logger.warning("the prediction log under %s can be lost: %s", directory, exposed)
        held, self._writer_tag = _claim(directory, lock=self.refused is None)
        if held is not None:  # the lock lasts as long as this log
            weakref.finalize(self, os.close, held)
        self._lifecycle = retention_days is not None or compress_after_days is not None
        self._today = datetime.now(UTC).date()
        self._open_today()
        self.sweep(self._today)
        _LOGS.add(self)

    def _open_today(self) -> None:
        today_file = self._day_file(self._today)
        self._cut = today_file if _ends_mid_line(today_file) else None

    def _forked(self) -> None:
        """In a child forked from this log's process: the parent's name, lock, queued lines and
        writer thread stay the parent's. The child writes a file of its own, named with its pid,
        from a new queue; its counters start from the parent's at the fork, with the lines the
        parent had not yet counted (queued, or being written) counted as dropped, so that after
        ``close()`` the child's counts still add up to the lines it was asked for."""
        self.dropped = self._asked - self.written - self.failures
        self._lock, self._sweep_lock, self._writer_lock, self._count_lock = (
            threading.Lock() for _ in range(4)
        )
        self._writer, self._waiting = None, 0
        _, self._writer_tag = _claim(self.directory, lock=False)
        self._open_today()

    def line(self, result: AffectResult, text: str, now: datetime, batch_size: int = 1) -> str:
        record = LogRecord(
            timestamp=now,
            text=self._logged_text(text),
            batch_size=batch_size,
            **result.model_dump(include=_RESULT_FIELDS),
        )
        return record.model_dump_json() + "\n"

    def _logged_text(self, text: str) -> str:
        return logged_text(text, self.text_chars, self.redactor)

    def write(self, entries: Sequence[tuple[AffectResult, str]]) -> None:
        """Queue one call's lines (each result with its turn) for the writer thread, never
        waiting: a full queue drops them, counted. Each line's ``batch_size`` is the number of
        entries, the turns whose time the call's ``latency_ms`` divides."""
        if not entries:
            return
        call = (datetime.now(UTC), list(entries))
        lines = len(call[1])
        with self._writer_lock:
            self._asked += lines
            if self.refused:
                self._unwritten(lines)
                return
            try:
                if self._writer is None:
                    self._writer = self._start_writer()
            except RuntimeError:  # no thread could start: counted as a full queue is
                self._count("dropped", lines)
                return
            if self._waiting < QUEUE_SIZE:
                self._waiting += lines
                self._writer[1].put(call)
            else:
                self._count("dropped", lines)

    def _count(self, outcome: LineOutcome, lines: int = 1) -> None:
        """Every line's fate is counted here, under one lock, and told to ``on_lines``."""
        if not lines:
            return
        with self._count_lock:
            if outcome == "written":
                self.written += lines
                self._failing = False
            elif outcome == "failed":
                self.failures += lines
            else:
                self.dropped += lines
        if self.on_lines:
            self.on_lines(outcome, lines)

    def _unwritten(self, lines: int) -> None:
        """Lines the directory or the disk refused: counted as failed, and warned of once per
        run of them, so that a full disk does not flood the application's logs."""
        if not lines:
            return
        with self._count_lock:
            started, self._failing = not self._failing, True
        if started:
            logger.warning(
                "prediction log lines are not being written under %s%s; each is counted in "
                "stats()['log_write_failures']",
                self.directory,
                f": {self.refused}" if self.refused else "",
            )
        self._count("failed", lines)

    def close(self) -> None:
        """Write every queued line, then stop the writer thread; idempotent."""
        with self._writer_lock:
            writer = self._writer
            if writer is None or writer[0] is threading.current_thread():
                return  # a finalizer that the writer thread happens to run cannot wait for it
            self._writer = None
        thread, lines = writer
        lines.put(None)  # behind the queued lines
        thread.join()

    def _start_writer(self) -> tuple[threading.Thread, queue.SimpleQueue[_Call | None]]:
        # A SimpleQueue is C code end to end: the caller's put never waits on the writer's lock.
        calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        thread = threading.Thread(
            target=self._drain, args=(calls,), name="jeffrey-affect-log", daemon=True
        )
        thread.start()
        return thread, calls

    def _drain(self, calls: queue.SimpleQueue[_Call | None]) -> None:
        while (call := calls.get()) is not None:
            now, entries = call
            with self._writer_lock:
                self._waiting -= len(entries)
            lines = []
            for result, text in entries:
                try:
                    lines.append(self.line(result, text, now, len(entries)).encode("utf-8"))
                except Exception as exc:  # a redactor that fails loses its own line only
                    if not self._redactor_warned:
                        self._redactor_warned = True
                        logger.warning(
                            "the log's redactor %s: each line it fails on is not "
                            "logged, and counted in stats()['log_write_failures']",
                            _redactor_failure(exc),
                        )
                    self._count("failed")
            try:
                self._append(now, lines)
            except Exception:  # the writer must live on: close() waits for it
                self._unwritten(len(lines))

    def _append(self, now: datetime, lines: list[bytes]) -> None:
        if not lines:
            return
        data = b"".join(lines)
        path = self._day_file(now.date())
        with self._lock:
            cut = path == self._cut
            if cut:
                data = b"\n" + data
            try:
                fd = os.open(path, _APPEND, 0o600)
                try:
                    found = os.fstat(fd)
                    if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
                        raise PermissionError(f"{path} is not a regular file of this user")
                    if found.st_mode & 0o077:  # restored from a backup, or made by logrotate
                        os.fchmod(fd, 0o600)
                    written = os.write(fd, data)
                finally:
                    os.close(fd)
            except OSError:
                written = 0
            if written:
                self._cut = None if data[written - 1] == ord("\n") else path
            whole = data.count(b"\n", 0, written) - (cut and written > 0)  # lines wholly out
            self._count("written", whole)
            self._unwritten(len(lines) - whole)
            new_day = now.date() > self._today
            if new_day:
                self._today = now.date()
        if new_day and self._lifecycle:
            sweeper = threading.Thread(
                target=self.sweep, args=(now.date(),), name="jeffrey-affect-log-sweep", daemon=True
            )
            try:
                sweeper.start()
            except RuntimeError:  # no thread could start (at exit, or out of threads)
                self.sweep_failures += 1

    def sweep(self, today: date) -> None:
        """Gzip or delete the day-files old enough; one failure does not stop the rest."""
        if not self._lifecycle:
            return
        with self._sweep_lock:
            try:
                names = sorted(os.listdir(self.directory))
            except OSError:
                self.sweep_failures += 1
                return
            for name in names:
                found = day_of(name)
                if found is None:
                    continue
                age = (today - found.day).days
                path = self.directory / name
                try:
                    if not stat.S_ISREG(path.lstat().st_mode):
                        continue  # a link, FIFO or directory under a day-file's name
                    if self.retention_days is not None and age > self.retention_days:
                        path.unlink()
                    elif (
                        self.compress_after_days is not None
                        and age > self.compress_after_days
                        and not found.gzipped
                    ):
                        self._compress(path)
                except FileNotFoundError:
                    pass  # another process swept it first
                except Exception:  # a sweep must never break logging
                    self.sweep_failures += 1

    def _compress(self, path: Path) -> None:
        """The .gz is written under a temporary name and renamed: a crash leaves the original."""
        with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                raise PermissionError(f"{path} is not a regular file")
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as raw:  # mkstemp made it 0o600
                    with gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw) as gz:
                        shutil.copyfileobj(source, gz)
                    raw.flush()
                    os.fsync(raw.fileno())
                os.replace(tmp, path.with_name(path.name + ".gz"))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        path.unlink()

    def _day_file(self, day: date) -> Path:
        return self.directory / f"predictions_{day:%Y-%m-%d}_{self._writer_tag}.jsonl"


class _NotAStr(TypeError):
    """The redactor returned something other than a str; the message names its type only."""


def _redactor_failure(exc: Exception) -> str:
    """What a warning says went wrong in ``logged_text``: what the redactor returned instead of a
    str, or the type of what it raised, never an exception's message (which may quote the turn).
    """
    return str(exc) if isinstance(exc, _NotAStr) else f"raised {type(exc).__name__}"


def logged_text(text: str, chars: int, redactor: Callable[[str], str] | None = None) -> str:
    """What the log keeps of a turn: redacted and cut to ``chars``, redacting only the window
    that can reach it; ``redactor`` None is the built-in ``redact``. Tracers get the same (the
    LangChain runnable).

    The window is ``chars + 2 * MARGIN`` characters. Where it cuts the text, a PII cut short can
    survive only in its last MARGIN characters (after redaction, at most as many), so those are
    left out; the other MARGIN make room for replacements, shorter than what they replace, to
    pull text forward. The result is a prefix of the whole text's redaction, all of its first
    ``chars`` unless replacements shortened the window by more than MARGIN.

    The text is normalised first, as ``classify`` normalises a turn: a zero-width character
    inside an address must not hide it from the redactor on a span or a trace.

    Raises:
        TypeError: the redactor returned something other than a str.
    """
    if not chars:
        return ""
    text = preprocess_light(text)
    window = text[: chars + 2 * MARGIN]
    redacted = (redactor or redact)(window)
    if not isinstance(redacted, str):
        raise _NotAStr(f"returned {type(redacted).__name__} instead of a str")
    if len(window) < len(text):
        redacted = redacted[: max(len(redacted) - MARGIN, 0)]
    return redacted[:chars]


def traced_text(text: str, chars: int, redactor: Callable[[str], str] | None = None) -> str:
    """``logged_text`` for spans and tracers, which must not fail a classification: "" when the
    redactor fails, with a warning that says how (``_redactor_failure``)."""
    try:
        return logged_text(text, chars, redactor)
    except Exception as exc:
        logger.warning("the redactor %s; no text is traced", _redactor_failure(exc))
        return ""


def _unsafe_directory(directory: Path) -> str | None:
    """Why ``directory`` must not receive the log, if it must not: another user could plant a
    link under a day-file's name there, or read what it holds."""
    try:
        found = os.stat(directory)
    except OSError as exc:
        return None if isinstance(exc, FileNotFoundError) else f"log directory: {exc.strerror}"
    if not stat.S_ISDIR(found.st_mode):
        return f"log directory {directory} is not a directory"
    if found.st_uid != os.geteuid():
        return f"log directory {directory} belongs to another user"
    if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"log directory {directory} is group- or world-writable: chmod go-w it"
    return None


def _exposed_parent(directory: Path) -> str | None:
    """Which folder above ``directory`` another user could replace it from, if one: writable by
    group or others without the sticky bit (as /tmp has), or theirs. Warned of, not refused: the
    day-files are readable by their owner only and written only if this user's, so a swapped
    directory can lose the log but not show it, and volumes such as a Kubernetes emptyDir are
    world-writable."""
    for parent in Path(os.path.realpath(directory)).parents:
        try:
            found = os.stat(parent)
        except OSError:
            continue
        if found.st_uid not in (0, os.geteuid()):
            return f"{parent} belongs to another user"
        if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not found.st_mode & stat.S_ISVTX:
            return f"{parent} is group- or world-writable"
    return None


_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
"""O_NOFOLLOW: a link planted under today's name is refused, never written through; O_NONBLOCK:
a FIFO planted there cannot hang the writer (fstat then refuses it)."""


class DayFile(NamedTuple):
    """What a day-file's name says: its UTC date, the writer's host and process (None in the
    older names, and the process None where the writer held the directory), and gzip."""

    day: date
    host: str | None
    process: int | None
    gzipped: bool


def day_of(name: str) -> DayFile | None:
    """What a day-file's name says; None for any other name."""
    match = _DAY_FILE.fullmatch(name)
    if match is None:
        return None
    try:
        day = date.fromisoformat(match[1])
    except ValueError:  # predictions_2024-13-45.jsonl
        return None
    return DayFile(day, match[2], None if match[3] is None else int(match[3]), bool(match[4]))


def log_host() -> str:
    """This host's name as day-file names carry it: no ``_``, which separates the name's parts."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", socket.gethostname()).strip(".-") or "host"


def _claim(directory: Path, *, lock: bool) -> tuple[int | None, str]:
    """This writer's tag in day-file names, and the descriptor that holds it: the host alone
    while this log holds a lock on ``directory`` (released when the log is collected or the
    process ends, so a restarted replica takes its name back), else the host and the process id:
    another process on the host writes there, or the file system cannot lock a directory (NFS)."""
    host = log_host()
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY) if lock else None
    except OSError:
        fd = None
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd, host
        except OSError:
            os.close(fd)
    return None, f"{host}_{os.getpid()}"


def _ends_mid_line(path: Path) -> bool:
    """Whether the last line lacks its newline, as a writer killed mid-line can leave it."""
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:  # no file, or an empty one
        return False


_LOGS: weakref.WeakSet[PredictionLog] = weakref.WeakSet()
"""Every log alive, for the exit hook; weak, so that it keeps no log, nor its owner, alive."""


def _after_fork_in_child() -> None:
    for log in list(_LOGS):
        log._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_logs() -> None:
    """Write out the lines still queued when the interpreter exits."""
    for log in list(_LOGS):
        log.close()
