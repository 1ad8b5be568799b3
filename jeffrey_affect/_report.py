"""Monitoring report over the engine's prediction logs.

The engine appends one JSON object per prediction to ``predictions_YYYY-MM-DD_HOST[_PID].jsonl``
(UTC date); older files may be gzipped. The report reads a directory or a tree of replica
directories (links are not followed) and breaks the figures down by replica: a file's folder
under the root and the host in its name, so one replica's restarts (a new process id each) stay
one replica. It streams every file line by line, so memory does not grow with the number of
lines: counts are tallied as they go and latency percentiles come from a fixed histogram rather
than a list of every value. Days are the files' dates, which is also what
--since/--until select on. Any line that is not a valid ``LogRecord`` (bad JSON, missing or wrongly
typed field, a blank line, a last line cut mid-write) is counted as malformed and skipped.

Latency resolution: 100 log-spaced bins per decade from 0.01 ms to 60 s (678 bins, plus one below
and one above). A percentile is the nearest-rank value's bin, reported as the bin's geometric
midpoint clamped to the observed min and max, so it is within ``PERCENTILE_RELATIVE_ERROR``
(about 1.2%) of the exact nearest-rank value. Below 0.01 ms the min observed is reported (absolute
error < 0.01 ms); above 60 s the max observed is reported. Means are exact.
"""

import bisect
import gzip
import io
import itertools
import math
import os
import stat
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError, computed_field

from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._log import LogRecord, day_of
from jeffrey_affect._result import Route

ROUTES: tuple[Route, ...] = get_args(Route)

LOW_MS = 0.01
HIGH_MS = 60_000.0
_BINS_PER_DECADE = 100
_N_BINS = math.ceil(math.log10(HIGH_MS / LOW_MS) * _BINS_PER_DECADE)
PERCENTILE_RELATIVE_ERROR = 10 ** (0.5 / _BINS_PER_DECADE) - 1

MAX_LINE_BYTES = 64 * 1024
"""A logged line is well under 1 KiB: longer is not ours, and is counted malformed unread."""
MAX_FILE_BYTES = 2 * 1024**3
"""About seven million predictions: a day-file that decompresses past this is not ours."""


class Share(BaseModel):
    count: int
    percent: float | None


class RouteStats(Share):
    fallback_reasons: dict[str, int]


class LatencyStats(BaseModel):
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class HistogramBin(BaseModel):
    """A non-empty latency bin; the outermost bins are closed by the observed min and max."""

    low_ms: float
    high_ms: float
    count: int


class GroupStats(BaseModel):
    """The figures of one day or one replica."""

    n: int
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    low_confidence_rate: float | None
    fallback_rate: float | None
    routes: dict[Route, int]


class DayStats(GroupStats):
    day: date


class ReplicaStats(GroupStats):
    """``replica`` is the folder under the root, then the host the files name."""

    replica: str
    files: int


class FileStats(BaseModel):
    """One file read; ``error`` says why it could not be read to the end (e.g. truncated gzip)."""

    path: str
    replica: str
    day: date
    records: int
    malformed_lines: int
    error: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def damaged(self) -> bool:
        return self.error is not None


class Report(BaseModel):
    """Everything the monitoring report says; rates are 0..1, percents 0..100, None when n is 0."""

    log_dir: str
    since: date | None
    until: date | None
    files: list[FileStats]
    malformed_lines: int
    total: int
    routes: dict[Route, RouteStats]
    fallback_rate: float | None
    low_confidence_rate: float | None
    cache_hit_rate: float | None
    mean_confidence: float | None
    latency: LatencyStats
    latency_histogram: list[HistogramBin]
    emotions: dict[Emotion, Share]
    class_priors: dict[str, int]
    model_versions: dict[str, int]
    days: list[DayStats]
    replicas: list[ReplicaStats]


def _ratio(count: int, total: int) -> float | None:
    return count / total if total else None


def _percent(count: int, total: int) -> float | None:
    return 100 * count / total if total else None


def bin_edge(k: int) -> float:
    return LOW_MS * 10 ** (k / _BINS_PER_DECADE)


class _Histogram:
    """Latency counts in fixed log-spaced bins; index 0 is below 0.01 ms, the last above 60 s."""

    def __init__(self) -> None:
        self.counts = [0] * (_N_BINS + 2)
        self.n = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, ms: float) -> None:
        if ms < LOW_MS:
            k = 0
        else:
            k = min(math.floor(math.log10(ms / LOW_MS) * _BINS_PER_DECADE) + 1, _N_BINS + 1)
        self.counts[k] += 1
        self.n += 1
        self.sum += ms
        self.min = min(self.min, ms)
        self.max = max(self.max, ms)

    def mean(self) -> float | None:
        return self.sum / self.n if self.n else None

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile, to the histogram's resolution."""
        if not self.n:
            return None
        rank = max(1, math.ceil(q / 100 * self.n))
        k = bisect.bisect_left(list(itertools.accumulate(self.counts)), rank)
        if k == 0:
            return self.min
        if k == _N_BINS + 1:
            return self.max
        return min(max(LOW_MS * 10 ** ((k - 0.5) / _BINS_PER_DECADE), self.min), self.max)

    def bins(self) -> list[HistogramBin]:
        last = _N_BINS + 1
        return [
            HistogramBin(
                low_ms=self.min if k == 0 else bin_edge(k - 1),
                high_ms=self.max if k == last else bin_edge(k),
                count=count,
            )
            for k, count in enumerate(self.counts)
            if count
        ]


class _Tally:
    """Running counts over a stream of records, for the whole range or one day."""

    def __init__(self) -> None:
        self.n = 0
        self.latency = _Histogram()
        self.confidence_sum = 0.0
        self.low_confidence = 0
        self.fallback = 0
        self.cache_hits = 0
        self.routes: Counter[Route] = Counter()
        self.reasons: dict[Route, Counter[str]] = {route: Counter() for route in ROUTES}
        self.emotions: Counter[Emotion] = Counter()
        self.priors: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()

    def add(self, record: LogRecord) -> None:
        self.n += 1
        self.latency.add(record.latency_ms)
        self.confidence_sum += record.confidence
        self.low_confidence += record.low_confidence
        self.fallback += record.route != "linear_head"
        self.cache_hits += record.cache_hit
        self.routes[record.route] += 1
        if record.fallback_reason is not None:
            self.reasons[record.route][record.fallback_reason] += 1
        self.emotions[record.emotion] += 1
        self.priors[record.class_prior] += 1
        self.versions[record.model_version] += 1

    def figures(self) -> dict[str, Any]:
        """The fields of ``GroupStats``: what the per-day and per-replica tables show."""
        return {
            "n": self.n,
            "mean_latency_ms": self.latency.mean(),
            "p95_latency_ms": self.latency.percentile(95),
            "low_confidence_rate": _ratio(self.low_confidence, self.n),
            "fallback_rate": _ratio(self.fallback, self.n),
            "routes": {route: self.routes[route] for route in ROUTES},
        }


def _log_files(
    log_dir: Path, since: date | None, until: date | None
) -> list[tuple[date, str, Path]]:
    """Each day-file under ``log_dir`` dated within [since, until], with its replica.

    Links are not followed (a linked file would be counted twice), and a ``.gz`` beside its plain
    file, left by a sweep that stopped between the two, is the same lines again.
    """
    found = []
    for folder, _, names in os.walk(log_dir):
        where = Path(folder).relative_to(log_dir)
        for name in names:
            if (day_file := day_of(name)) is None or not _regular(Path(folder) / name):
                continue
            if name.endswith(".gz") and name.removesuffix(".gz") in names:
                continue
            if (since is None or day_file.day >= since) and (
                until is None or day_file.day <= until
            ):
                parts = [*where.parts, day_file.host or ""]
                replica = "/".join(p for p in parts if p) or "."
                found.append((day_file.day, replica, Path(folder) / name))
    return sorted(found)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _open(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _lines(stream: io.BufferedIOBase) -> Iterator[bytes | None]:
    """Each line, or None for one longer than ``MAX_LINE_BYTES``, whose rest is read and
    dropped in bounded pieces; a file with no newlines cannot exhaust memory."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass
        yield None


def _read(path: Path, replica: str, day: date, tallies: tuple[_Tally, ...]) -> FileStats:
    """Tally one file's valid lines; a read error, or more than ``MAX_FILE_BYTES`` (a gzip
    bomb), ends the file but keeps what was read."""
    records = malformed = 0
    error = None
    try:
        with _open(path) as stream:
            for line in _lines(stream):
                if stream.tell() > MAX_FILE_BYTES:
                    error = f"stopped after {MAX_FILE_BYTES:,} bytes (decompressed)"
                    break
                try:
                    if line is None:
                        raise ValueError("overlong line")
                    record = LogRecord.model_validate_json(line)
                except (ValidationError, ValueError):
                    malformed += 1
                    continue
                records += 1
                for tally in tallies:
                    tally.add(record)
    except (OSError, EOFError, zlib.error) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return FileStats(
        path=str(path),
        replica=replica,
        day=day,
        records=records,
        malformed_lines=malformed,
        error=error,
    )


def build_report(log_dir: Path, since: date | None = None, until: date | None = None) -> Report:
    """Read every log file under log_dir dated within [since, until]; raise FileNotFoundError
    without log_dir."""
    if not log_dir.is_dir():
        raise FileNotFoundError(f"no log directory at {log_dir}")
    overall = _Tally()
    days: dict[date, _Tally] = {}
    replicas: dict[str, _Tally] = {}
    files = [
        _read(
            path,
            replica,
            day,
            (overall, days.setdefault(day, _Tally()), replicas.setdefault(replica, _Tally())),
        )
        for day, replica, path in _log_files(log_dir, since, until)
    ]
    file_counts = Counter(f.replica for f in files)
    n = overall.n
    return Report(
        log_dir=str(log_dir),
        since=since,
        until=until,
        files=files,
        malformed_lines=sum(f.malformed_lines for f in files),
        total=n,
        routes={
            route: RouteStats(
                count=overall.routes[route],
                percent=_percent(overall.routes[route], n),
                fallback_reasons=dict(overall.reasons[route].most_common()),
            )
            for route in ROUTES
        },
        fallback_rate=_ratio(overall.fallback, n),
        low_confidence_rate=_ratio(overall.low_confidence, n),
        cache_hit_rate=_ratio(overall.cache_hits, n),
        mean_confidence=overall.confidence_sum / n if n else None,
        latency=LatencyStats(
            mean_ms=overall.latency.mean(),
            p50_ms=overall.latency.percentile(50),
            p95_ms=overall.latency.percentile(95),
            p99_ms=overall.latency.percentile(99),
        ),
        latency_histogram=overall.latency.bins(),
        emotions={
            emotion: Share(
                count=overall.emotions[emotion], percent=_percent(overall.emotions[emotion], n)
            )
            for emotion in EMOTIONS
        },
        class_priors=dict(overall.priors.most_common()),
        model_versions=dict(overall.versions.most_common()),
        days=[DayStats(day=day, **t.figures()) for day, t in sorted(days.items())],
        replicas=[
            ReplicaStats(replica=r, files=file_counts[r], **t.figures())
            for r, t in sorted(replicas.items())
        ],
    )
