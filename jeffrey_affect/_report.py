"""Monitoring report over the engine's prediction logs: the one owner of what it counts, of its
time buckets, of the comparison's thresholds and of the --max-* checks.

The engine appends one JSON object per prediction to ``predictions_YYYY-MM-DD_HOST[_PID].jsonl``
(UTC date); older files may be gzipped. The report reads a directory or a tree of replica
directories (links are not followed) and breaks the figures down by replica: a file's folder
under the root and the host in its name, so one replica's restarts (a new process id each) stay
one replica. It streams every file line by line, so memory does not grow with the number of
lines: each file's lines are tallied into one small cell per time bucket (counts by a key of the
line's categorical fields, a fixed latency histogram), merged into the day, replica, bucket and
overall figures when the file ends. Any line that is not a valid ``LogRecord`` (bad JSON, missing
or wrongly typed field, a blank line, a last line cut mid-write) is counted as malformed and
skipped.

Periods: a date bound selects day-files by the date in their names (as it always has); a time
bound (``2026-11-27T14:00``, UTC unless it says otherwise) also selects lines by timestamp.
``until`` is inclusive as a date (the whole day) and exclusive as a time.

What is counted apart:

- empty turns (``fallback_reason`` "empty text"): served by the regex route by design, not a
  model failure, so they are left out of the fallback rate (numerator and denominator) and its
  check; they count everywhere else;
- batched lines (``batch_size`` > 1): each carries its ``classify_batch`` call's mean time per
  turn, so latency percentiles are over single-turn lines only, and batched lines get their own
  count and mean.

Languages: each line's ``language`` (the turn's ISO 639-1 code, null where it could not be told,
absent from lines written before the log kept it) is one more categorical field, so the
per-language table is read off the same counts; null and absent are one row, unknown. It has no
latency: a language is any string a line holds, and a histogram per value would let odd lines
grow the report's memory.

Escalation: the tracker's rule follows one conversation's frustration-plus-anger scores over its
last turns; a log line has no conversation id and only its top emotion, so the report cannot
count escalations. It shows what a line can: the share of heated turns (anger or frustration, the
tracker's set) and the confident anger turns (anger, not low-confidence), per bucket.

Latency resolution: 100 log-spaced bins per decade from 0.01 ms to 60 s (678 bins, plus one below
and one above). A percentile is the nearest-rank value's bin, reported as the bin's geometric
midpoint clamped to the observed min and max, so it is within ``PERCENTILE_RELATIVE_ERROR``
(about 1.2%) of the exact nearest-rank value. Below 0.01 ms the min observed is reported (absolute
error < 0.01 ms); above 60 s the max observed is reported. Means are exact.
"""

import bisect
import gzip
import heapq
import io
import itertools
import math
import os
import re
import stat
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from pydantic import BaseModel, ValidationError, computed_field

from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._log import LogRecord, day_of
from jeffrey_affect._result import EMPTY_TEXT, Route
from jeffrey_affect._tracker import _HEATED as HEATED

ROUTES: tuple[Route, ...] = get_args(Route)
HEAD: Route = "linear_head"

LOW_MS = 0.01
HIGH_MS = 60_000.0
_BINS_PER_DECADE = 100
_N_BINS = math.ceil(math.log10(HIGH_MS / LOW_MS) * _BINS_PER_DECADE)
PERCENTILE_RELATIVE_ERROR = 10 ** (0.5 / _BINS_PER_DECADE) - 1

MAX_LINE_BYTES = 64 * 1024
"""A logged line is well under 1 KiB: longer is not ours, and is counted malformed unread."""
MAX_FILE_BYTES = 2 * 1024**3
"""About seven million predictions: a day-file that decompresses past this is not ours."""

DAY_S = 86_400
BUCKET_LADDER = (300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, DAY_S)
"""The widths a default bucket is chosen from: the narrowest giving at most ``TARGET_BUCKETS``."""
TARGET_BUCKETS = 36
MAX_BUCKETS = 3000
"""A --bucket narrower than span / MAX_BUCKETS is refused: the table would not be read."""

SAMPLE_SIZE = 10
"""Most recent low-confidence and fallback turns shown, each kind."""
SAMPLE_TEXT_CHARS = 200
"""A sample shows the line's text as logged, never more, and at most this much of it (a line not
written by the engine could hold far more than ``log_text_chars``)."""

QUIET_EXPECTED_LINES = 10
"""A replica is quiet when, at its own average rate, it would have written this many lines since
its last one, by the newest line of any replica (no line in that time has odds below 1 in 20,000
if its traffic were steady)."""

# The comparison with a baseline period: a change is flagged when it crosses these.
RATE_CHANGE = 0.02
"""A rate (fallback, low-confidence, heated share...) moved by 2 points or more, ..."""
SHARE_CHANGE = 0.05
"""... an emotion's share by 5 points or more, ..."""
MIN_Z = 3.0
"""... either by at least 3 standard errors (two-proportion z-test): a few turns cannot flag it."""
LATENCY_RATIO = 1.5
"""A latency percentile 1.5 times higher, or lower, ..."""
MIN_LATENCY_TURNS = 100
"""... over at least this many single turns on each side."""
VOLUME_RATIO = 2.0
"""Turns per hour doubled, or halved."""

Bound = datetime | date
"""A --since/--until/--baseline end: a date (whole UTC days) or a time."""


class Share(BaseModel):
    count: int
    percent: float | None


class RouteStats(Share):
    fallback_reasons: dict[str, int]


class LatencyStats(BaseModel):
    """Over single-turn lines: a batched line carries its batch's mean, not a turn's time."""

    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class BatchStats(BaseModel):
    """Lines with ``batch_size`` > 1: ``mean_ms`` is their mean time per turn."""

    lines: int
    mean_ms: float | None
    max_batch_size: int | None


class HistogramBin(BaseModel):
    """A non-empty latency bin; the outermost bins are closed by the observed min and max."""

    low_ms: float
    high_ms: float
    count: int


class GroupStats(BaseModel):
    """The figures of one day or one replica; the fallback rate leaves empty turns out."""

    n: int
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    low_confidence_rate: float | None
    fallback_rate: float | None
    empty_turns: int
    routes: dict[Route, int]


class DayStats(GroupStats):
    day: date


class ReplicaStats(GroupStats):
    """``replica`` is the folder under the root, then the host the files name. ``silent_s`` is
    the time from its last line to the newest line of any replica; ``quiet`` says that is long
    for its traffic (``QUIET_EXPECTED_LINES``)."""

    replica: str
    files: int
    first_seen: datetime | None
    last_seen: datetime | None
    silent_s: float | None
    quiet: bool


class BucketStats(BaseModel):
    """One time bucket (``start``, UTC, for the report's ``bucket_s``) of the period."""

    start: datetime
    n: int
    empty_turns: int
    fallback_rate: float | None
    low_confidence_rate: float | None
    heated_share: float | None
    """Anger plus frustration: the emotions the tracker's escalation rule follows."""
    anger_turns: int
    """Anger that is not low-confidence: what a line shows of an escalation."""
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    emotions: dict[Emotion, int]
    replicas: dict[str, int]


class LanguageStats(BaseModel):
    """The turns of one language (``language`` None: not told, or a line written before the log
    kept it), with their share of all turns; the fallback rate leaves empty turns out."""

    language: str | None
    n: int
    percent: float | None
    low_confidence_rate: float | None
    fallback_rate: float | None
    empty_turns: int
    emotions: dict[Emotion, int]


class Sample(BaseModel):
    """A turn as its log line keeps it; ``text`` is never longer than the line's."""

    timestamp: datetime
    replica: str
    emotion: Emotion
    confidence: float
    route: Route
    fallback_reason: str | None
    language: str | None
    text: str


class Change(BaseModel):
    """One figure in the period and in the baseline; ``flagged`` when the change crosses its
    threshold (the module's constants), ``why`` says how."""

    metric: str
    kind: Literal["rate", "ms", "per_hour"]
    current: float | None
    baseline: float | None
    flagged: bool
    why: str | None


class Comparison(BaseModel):
    """The period against a baseline: the previous period of the same length, or one given."""

    since: Bound
    until: Bound
    explicit: bool
    files: int
    total: int
    changes: list[Change]


class Check(BaseModel):
    """A --max-* limit and whether the period kept to it."""

    name: str
    option: str
    value: float | None
    limit: float
    passed: bool


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
    since: Bound | None
    until: Bound | None
    files: list[FileStats]
    malformed_lines: int
    total: int
    empty_turns: int
    off_day_lines: int
    """Lines whose timestamp is not on their file's date: in every figure but the buckets."""
    routes: dict[Route, RouteStats]
    fallback_rate: float | None
    low_confidence_rate: float | None
    heated_share: float | None
    cache_hit_rate: float | None
    mean_confidence: float | None
    latency: LatencyStats
    latency_histogram: list[HistogramBin]
    batched: BatchStats
    emotions: dict[Emotion, Share]
    class_priors: dict[str, int]
    model_versions: dict[str, int]
    first_line: datetime | None
    last_line: datetime | None
    bucket_s: int
    buckets: list[BucketStats]
    days: list[DayStats]
    replicas: list[ReplicaStats]
    languages: list[LanguageStats]
    """Most turns first."""
    comparison: Comparison | None
    recent_low_confidence: list[Sample]
    recent_fallbacks: list[Sample]
    checks: list[Check]


class Limits(NamedTuple):
    """The --max-* options; None is no check."""

    max_low_confidence_rate: float | None = None
    max_fallback_rate: float | None = None


def _ratio(count: int, total: int) -> float | None:
    return count / total if total else None


def _percent(count: int, total: int) -> float | None:
    return 100 * count / total if total else None


def bin_edge(k: int) -> float:
    return LOW_MS * 10 ** (k / _BINS_PER_DECADE)


def width_text(seconds: int) -> str:
    """A bucket width as --bucket takes it: 1d, 6h, 15m."""
    for unit, size in (("d", DAY_S), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_width(text: str) -> int:
    """``15m``, ``1h``, ``1d``: seconds, aligned to UTC midnight (a width that divides a day, or
    whole days)."""
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if match is None:
        raise ValueError(f"not a width such as 15m, 1h or 1d: {text!r}")
    seconds = int(match[1]) * {"m": 60, "h": 3600, "d": DAY_S}[match[2]]
    if not seconds or (DAY_S % seconds and seconds % DAY_S):
        raise ValueError(f"{text!r} neither divides a day nor is whole days")
    return seconds


def parse_bound(text: str) -> Bound:
    """``2026-11-27`` (a UTC day) or ``2026-11-27T14:00`` (UTC unless an offset is given)."""
    try:
        bound = date.fromisoformat(text) if len(text) == 10 else _utc(datetime.fromisoformat(text))
        _end_of(bound)  # the calendar's last day has no end to read up to
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not YYYY-MM-DD or YYYY-MM-DDTHH:MM: {text!r}") from exc
    return bound


def parse_range(text: str) -> tuple[Bound, Bound]:
    """``FROM..TO``, each a date or a time as for --since and --until."""
    start, sep, end = text.partition("..")
    if not sep:
        raise ValueError(f"not FROM..TO: {text!r}")
    bounds = parse_bound(start), parse_bound(end)
    if _start_of(_as_utc(bounds[0])) >= _end_of(_as_utc(bounds[1])):
        raise ValueError(f"FROM is not before TO: {text!r}")
    return bounds


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _as_utc(bound: Bound) -> Bound:
    """A time bound in UTC (a naive one read as UTC), so that it reads and prints as UTC."""
    return _utc(bound) if isinstance(bound, datetime) else bound


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _start_of(bound: Bound) -> datetime:
    return bound if isinstance(bound, datetime) else _midnight(bound)


def _end_of(bound: Bound) -> datetime:
    return bound if isinstance(bound, datetime) else _midnight(bound + timedelta(days=1))


@dataclass(frozen=True)
class Period:
    """Day-files by their date and, where a bound is a time, lines by their timestamp."""

    since: Bound | None
    until: Bound | None

    @property
    def first_day(self) -> date | None:
        return None if self.since is None else _start_of(self.since).date()

    @property
    def last_day(self) -> date | None:
        return None if self.until is None else (_end_of(self.until) - timedelta.resolution).date()

    def holds_day(self, day: date) -> bool:
        first, last = self.first_day, self.last_day
        return (first is None or day >= first) and (last is None or day <= last)

    def line_bounds(self) -> tuple[float, float]:
        """Epoch seconds [start, end) that a line's timestamp must fall in: unbounded on a side
        given as a date, which the file's date already decides."""
        start = self.since.timestamp() if isinstance(self.since, datetime) else -math.inf
        end = self.until.timestamp() if isinstance(self.until, datetime) else math.inf
        return start, end

    def previous(self, last_day: date) -> "Period | None":
        """The period of the same length just before this one, which ends at ``until`` or, open,
        at the end of ``last_day`` (the last day-file's): whole days when both ends are dates."""
        if self.since is None:
            return None
        start = _start_of(self.since)
        end = _end_of(self.until if self.until is not None else last_day)
        if end <= start:
            return None
        if not isinstance(self.since, datetime) and not isinstance(self.until, datetime):
            days = (end - start).days
            return Period(self.since - timedelta(days=days), self.since - timedelta(days=1))
        return Period(start - (end - start), start)


class _Histogram:
    """Latency counts in fixed log-spaced bins; index 0 is below 0.01 ms, the last above 60 s."""

    __slots__ = ("counts", "max", "min", "n", "sum")

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
            k = math.floor(math.log10(ms / LOW_MS) * _BINS_PER_DECADE) + 1
            if k > _N_BINS:
                k = _N_BINS + 1
        self.counts[k] += 1
        self.n += 1
        self.sum += ms
        if ms < self.min:
            self.min = ms
        if ms > self.max:
            self.max = ms

    def merge(self, other: "_Histogram") -> None:
        if other.n:
            self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
            self.n += other.n
            self.sum += other.sum
            self.min = min(self.min, other.min)
            self.max = max(self.max, other.max)

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


_Key = tuple[Emotion, Route, str | None, bool, bool, str, str, str | None]
"""A line's categorical fields: emotion, route, fallback reason, low-confidence, cache hit,
class prior, model version, language. Few distinct keys occur, so counting them costs one dict
entry each and every count the report shows is read off them."""


class _Cell:
    """Running counts over some lines: one time bucket of one file, or a merge of many."""

    __slots__ = ("batch_lines", "batch_max", "batch_sum", "confidence", "keys", "latency", "n")

    def __init__(self) -> None:
        self.n = 0
        self.keys: Counter[_Key] = Counter()
        self.latency = _Histogram()
        self.confidence = 0.0
        self.batch_lines = 0
        self.batch_sum = 0.0
        self.batch_max = 0

    def add(self, r: LogRecord) -> None:
        self.n += 1
        self.keys[
            (
                r.emotion,
                r.route,
                r.fallback_reason,
                r.low_confidence,
                r.cache_hit,
                r.class_prior,
                r.model_version,
                r.language,
            )
        ] += 1
        self.confidence += r.confidence
        if r.batch_size == 1:
            self.latency.add(r.latency_ms)
        else:
            self.batch_lines += 1
            self.batch_sum += r.latency_ms
            self.batch_max = max(self.batch_max, r.batch_size)

    def merge(self, other: "_Cell") -> None:
        self.n += other.n
        self.keys.update(other.keys)
        self.latency.merge(other.latency)
        self.confidence += other.confidence
        self.batch_lines += other.batch_lines
        self.batch_sum += other.batch_sum
        self.batch_max = max(self.batch_max, other.batch_max)

    def counts(self) -> "_Counts":
        return _counts(self.keys)

    def group(self) -> GroupStats:
        """What the per-day and per-replica tables show."""
        c = self.counts()
        return GroupStats(
            n=self.n,
            mean_latency_ms=self.latency.mean(),
            p95_latency_ms=self.latency.percentile(95),
            low_confidence_rate=_ratio(c.low, self.n),
            fallback_rate=_ratio(c.fallback, self.n - c.empty),
            empty_turns=c.empty,
            routes={route: c.routes[route] for route in ROUTES},
        )


class _Counts:
    """What a cell's keys add up to."""

    def __init__(self) -> None:
        self.emotions: Counter[Emotion] = Counter()
        self.routes: Counter[Route] = Counter()
        self.reasons: dict[Route, Counter[str]] = {route: Counter() for route in ROUTES}
        self.priors: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.empty = self.fallback = self.low = self.cache_hits = 0
        self.anger_turns = self.heated = 0


def _counts(keys: Counter[_Key]) -> _Counts:
    """What the lines of these keys add up to."""
    c = _Counts()
    for (emotion, route, reason, low, hit, prior, version, _), k in keys.items():
        c.emotions[emotion] += k
        c.routes[route] += k
        c.priors[prior] += k
        c.versions[version] += k
        if reason is not None:
            c.reasons[route][reason] += k
        empty = reason == EMPTY_TEXT
        c.empty += empty * k
        c.fallback += (route != HEAD and not empty) * k
        c.low += low * k
        c.cache_hits += hit * k
        c.anger_turns += (emotion == "anger" and not low) * k
    c.heated = sum(c.emotions[e] for e in HEATED)
    return c


def _language_rows(cell: _Cell) -> list[LanguageStats]:
    """One row per language among the cell's lines, most turns first, unknown last of equals."""
    by_language: dict[str | None, Counter[_Key]] = {}
    for key, k in cell.keys.items():
        by_language.setdefault(key[-1], Counter())[key] = k
    rows = []
    for language, keys in by_language.items():
        n = keys.total()
        c = _counts(keys)
        rows.append(
            LanguageStats(
                language=language,
                n=n,
                percent=_percent(n, cell.n),
                low_confidence_rate=_ratio(c.low, n),
                fallback_rate=_ratio(c.fallback, n - c.empty),
                empty_turns=c.empty,
                emotions={e: c.emotions[e] for e in EMOTIONS},
            )
        )
    return sorted(rows, key=lambda r: (-r.n, r.language is None, r.language or ""))


def _merged(cells: Iterable[_Cell]) -> _Cell:
    total = _Cell()
    for cell in cells:
        total.merge(cell)
    return total


class _Span:
    """First and last timestamp (epoch seconds) seen, and the lines between."""

    __slots__ = ("first", "last", "n")

    def __init__(self) -> None:
        self.first, self.last, self.n = math.inf, -math.inf, 0

    def merge(self, other: "_Span") -> None:
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        self.n += other.n


def _when(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if math.isfinite(seconds) else None


class _Samples:
    """The ``SAMPLE_SIZE`` most recent lines offered, in bounded memory."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Sample]] = []
        self._seen = 0

    def offer(self, t: float, replica: str, r: LogRecord) -> None:
        if len(self._heap) == SAMPLE_SIZE and t <= self._heap[0][0]:
            return
        self._seen += 1
        try:
            when = _utc(r.timestamp)
        except OverflowError:  # a hostile line's year 1 with an offset has no UTC
            when = r.timestamp
        sample = Sample(
            timestamp=when,
            replica=replica,
            emotion=r.emotion,
            confidence=r.confidence,
            route=r.route,
            fallback_reason=r.fallback_reason,
            language=r.language,
            text=r.text[:SAMPLE_TEXT_CHARS],
        )
        entry = (t, self._seen, sample)
        if len(self._heap) < SAMPLE_SIZE:
            heapq.heappush(self._heap, entry)
        else:
            heapq.heapreplace(self._heap, entry)

    def newest_first(self) -> list[Sample]:
        return [s for _, _, s in sorted(self._heap, reverse=True)]


def _log_files(log_dir: Path) -> list[tuple[date, str, Path]]:
    """Each day-file under ``log_dir``, with its replica, by date.

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


@dataclass
class _FileTally:
    """What one file adds: its period lines by bucket, those off its day, its baseline lines."""

    buckets: dict[int, _Cell]
    off_day: _Cell
    span: _Span
    baseline: _Cell
    baseline_span: _Span

    def total(self) -> _Cell:
        return _merged([*self.buckets.values(), self.off_day])


class _Reader:
    """Reads the day-files once, sending each line to the period, the baseline, or both."""

    def __init__(self, current: Period, baseline: Period | None, bucket_s: int) -> None:
        self.current, self.baseline, self.bucket_s = current, baseline, bucket_s
        self.low_confidence, self.fallbacks = _Samples(), _Samples()

    def _offer(self, t: float, replica: str, r: LogRecord) -> None:
        if r.low_confidence:
            self.low_confidence.offer(t, replica, r)
        if r.route != HEAD:
            self.fallbacks.offer(t, replica, r)

    def read(self, path: Path, replica: str, day: date) -> tuple[FileStats, _FileTally]:
        """Tally one file's valid lines; a read error, or more than ``MAX_FILE_BYTES`` (a gzip
        bomb), ends the file but keeps what was read."""
        tally = _FileTally({}, _Cell(), _Span(), _Cell(), _Span())
        current = self.current.holds_day(day)
        base = self.baseline is not None and self.baseline.holds_day(day)
        start, end = self.current.line_bounds() if current else (math.inf, -math.inf)
        b_start, b_end = self.baseline.line_bounds() if base and self.baseline else (1.0, 0.0)
        day_start = _midnight(day).timestamp()
        day_end = day_start + DAY_S
        width, buckets, span = self.bucket_s, tally.buckets, tally.span
        parse = LogRecord.__pydantic_validator__.validate_json  # model_validate_json, unwrapped
        records = malformed = consumed = 0
        error = None
        try:
            with _open(path) as stream:
                for line in _lines(stream):
                    consumed = consumed + len(line) if line is not None else stream.tell()
                    if consumed > MAX_FILE_BYTES:
                        error = f"stopped after {MAX_FILE_BYTES:,} bytes (decompressed)"
                        break
                    try:
                        if line is None:
                            raise ValueError("overlong line")
                        r: LogRecord = parse(line)
                    except (ValidationError, ValueError):
                        malformed += 1
                        continue
                    stamp = r.timestamp
                    t = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
                    if b_start <= t < b_end:
                        tally.baseline.add(r)
                        _see(tally.baseline_span, t)
                    if not start <= t < end:
                        continue
                    records += 1
                    if day_start <= t < day_end:
                        key = int(t // width)
                        if (cell := buckets.get(key)) is None:
                            cell = buckets[key] = _Cell()
                        span.n += 1
                        span.first = min(span.first, t)
                        span.last = max(span.last, t)
                    else:
                        cell = tally.off_day
                    cell.add(r)
                    if r.fallback_reason != EMPTY_TEXT and (r.low_confidence or r.route != HEAD):
                        self._offer(t, replica, r)
        except (OSError, EOFError, zlib.error) as exc:
            error = f"{type(exc).__name__}: {exc}"
        stats = FileStats(
            path=str(path),
            replica=replica,
            day=day,
            records=records,
            malformed_lines=malformed,
            error=error,
        )
        return stats, tally


def _see(span: _Span, t: float) -> None:
    span.n += 1
    if t < span.first:
        span.first = t
    if t > span.last:
        span.last = t


def default_bucket(span_s: float) -> int:
    """The narrowest width of ``BUCKET_LADDER`` that cuts the span into ``TARGET_BUCKETS`` or
    fewer; past the ladder, whole days (a stray day-file years old widens the span)."""
    fitting = (w for w in BUCKET_LADDER if span_s / w <= TARGET_BUCKETS)
    return next(fitting, math.ceil(span_s / TARGET_BUCKETS / DAY_S) * DAY_S)


def _proportion_change(metric: str, x1: int, n1: int, x0: int, n0: int, threshold: float) -> Change:
    """x1 of n1 in the period against x0 of n0 in the baseline."""
    p1, p0 = _ratio(x1, n1), _ratio(x0, n0)
    flagged, why = False, None
    if p1 is not None and p0 is not None:
        pooled = (x1 + x0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = abs(p1 - p0) / se if se else (math.inf if p1 != p0 else 0.0)
        flagged = abs(p1 - p0) >= threshold and z >= MIN_Z
        why = f"{100 * (p1 - p0):+.1f} points, z={z:.1f}" if flagged else None
    return Change(metric=metric, kind="rate", current=p1, baseline=p0, flagged=flagged, why=why)


def _ratio_change(
    metric: str,
    kind: Literal["ms", "per_hour"],
    current: float | None,
    baseline: float | None,
    threshold: float,
    enough: bool,
) -> Change:
    flagged, why = False, None
    if current and baseline and enough:
        ratio = current / baseline
        flagged = ratio >= threshold or ratio <= 1 / threshold
        why = f"x{ratio:.2f}" if flagged else None
    return Change(
        metric=metric, kind=kind, current=current, baseline=baseline, flagged=flagged, why=why
    )


def _per_hour(n: int, span: _Span, period: Period) -> float | None:
    """Turns per hour from the period's start (or its first line) to its last line, or its end
    if that comes first: a period still being written is not diluted by hours yet to come."""
    start, end = period.since, period.until
    begin = _start_of(start).timestamp() if start is not None else span.first
    stop = min(_end_of(end).timestamp(), span.last) if end is not None else span.last
    hours = (stop - begin) / 3600
    return n / hours if n and hours > 0 else None


def _compare(
    now: _Cell, now_span: _Span, period: Period, base: _Cell, base_span: _Span, baseline: Period
) -> list[Change]:
    c, b = now.counts(), base.counts()
    single = min(now.latency.n, base.latency.n) >= MIN_LATENCY_TURNS
    changes = [
        _ratio_change(
            "Turns per hour",
            "per_hour",
            _per_hour(now.n, now_span, period),
            _per_hour(base.n, base_span, baseline),
            VOLUME_RATIO,
            True,
        ),
        _proportion_change(
            "Fallback rate", c.fallback, now.n - c.empty, b.fallback, base.n - b.empty, RATE_CHANGE
        ),
        _proportion_change("Low-confidence rate", c.low, now.n, b.low, base.n, RATE_CHANGE),
        _proportion_change("Anger + frustration", c.heated, now.n, b.heated, base.n, RATE_CHANGE),
        _proportion_change(
            "Confident anger", c.anger_turns, now.n, b.anger_turns, base.n, RATE_CHANGE
        ),
        _proportion_change("Empty turns", c.empty, now.n, b.empty, base.n, RATE_CHANGE),
        _proportion_change(
            "Cache hit rate", c.cache_hits, now.n, b.cache_hits, base.n, RATE_CHANGE
        ),
    ]
    for q in (50, 95):
        changes.append(
            _ratio_change(
                f"Latency p{q}",
                "ms",
                now.latency.percentile(q),
                base.latency.percentile(q),
                LATENCY_RATIO,
                single,
            )
        )
    for emotion in EMOTIONS:
        changes.append(
            _proportion_change(
                f"Share {emotion}",
                c.emotions[emotion],
                now.n,
                b.emotions[emotion],
                base.n,
                SHARE_CHANGE,
            )
        )
    return changes


def _checks(limits: Limits, low_confidence: float | None, fallback: float | None) -> list[Check]:
    asked = (
        (
            "low-confidence rate",
            "--max-low-confidence-rate",
            low_confidence,
            limits.max_low_confidence_rate,
        ),
        ("fallback rate", "--max-fallback-rate", fallback, limits.max_fallback_rate),
    )
    return [
        Check(
            name=name,
            option=option,
            value=value,
            limit=limit,
            passed=value is None or value <= limit,
        )
        for name, option, value, limit in asked
        if limit is not None
    ]


def build_report(
    log_dir: Path,
    since: Bound | None = None,
    until: Bound | None = None,
    *,
    bucket_s: int | None = None,
    baseline: tuple[Bound, Bound] | None = None,
    limits: Limits | None = None,
) -> Report:
    """Read every log file under log_dir in [since, until] (and in the baseline: ``baseline`` if
    given, else the previous period of the same length when ``since`` is given).

    Raises:
        FileNotFoundError: log_dir is not a directory.
        ValueError: ``bucket_s`` would cut the period into more than ``MAX_BUCKETS``.
    """
    if not log_dir.is_dir():
        raise FileNotFoundError(f"no log directory at {log_dir}")
    since = None if since is None else _as_utc(since)
    until = None if until is None else _as_utc(until)
    if baseline is not None:
        baseline = (_as_utc(baseline[0]), _as_utc(baseline[1]))
    current = Period(since, until)
    every = _log_files(log_dir)
    chosen = [f for f in every if current.holds_day(f[0])]
    compared: Period | None = None
    if baseline is not None:
        compared = Period(*baseline)
    elif chosen:
        compared = current.previous(chosen[-1][0])
    if chosen:
        span_start = _start_of(since) if since is not None else _midnight(chosen[0][0])
        span_end = _end_of(until) if until is not None else _midnight(chosen[-1][0]) + timedelta(1)
        span_s = max((span_end - span_start).total_seconds(), 1.0)
    else:
        span_s = DAY_S
    width = bucket_s or default_bucket(span_s)
    if span_s / width > MAX_BUCKETS:
        raise ValueError(
            f"--bucket {width_text(width)} cuts {span_s / DAY_S:.1f} days into more than "
            f"{MAX_BUCKETS} buckets; give a wider one"
        )

    reader = _Reader(current, compared, width)
    files: list[FileStats] = []
    overall, overall_span = _Cell(), _Span()
    base, base_span, base_files = _Cell(), _Span(), 0
    days: dict[date, _Cell] = {}
    replicas: dict[str, tuple[_Cell, _Span]] = {}
    replica_files: Counter[str] = Counter()
    buckets: dict[int, tuple[_Cell, Counter[str]]] = {}
    for day, replica, path in every:
        if not current.holds_day(day) and not (compared and compared.holds_day(day)):
            continue
        stats, tally = reader.read(path, replica, day)
        if compared is not None and compared.holds_day(day):
            base.merge(tally.baseline)
            base_span.merge(tally.baseline_span)
            base_files += 1
        if not current.holds_day(day):
            continue
        files.append(stats)
        replica_files[replica] += 1
        total = tally.total()
        overall.merge(total)
        overall_span.merge(tally.span)
        days.setdefault(day, _Cell()).merge(total)
        cell, span = replicas.setdefault(replica, (_Cell(), _Span()))
        cell.merge(total)
        span.merge(tally.span)
        for key, bucket in tally.buckets.items():
            merged, by_replica = buckets.setdefault(key, (_Cell(), Counter()))
            merged.merge(bucket)
            by_replica[replica] += bucket.n

    c = overall.counts()
    n = overall.n
    fallback_rate = _ratio(c.fallback, n - c.empty)
    low_confidence_rate = _ratio(c.low, n)
    comparison = None
    if compared is not None and compared.since is not None and compared.until is not None:
        comparison = Comparison(
            since=compared.since,
            until=compared.until,
            explicit=baseline is not None,
            files=base_files,
            total=base.n,
            changes=_compare(overall, overall_span, current, base, base_span, compared),
        )
    return Report(
        log_dir=str(log_dir),
        since=since,
        until=until,
        files=files,
        malformed_lines=sum(f.malformed_lines for f in files),
        total=n,
        empty_turns=c.empty,
        off_day_lines=n - overall_span.n,
        routes={
            route: RouteStats(
                count=c.routes[route],
                percent=_percent(c.routes[route], n),
                fallback_reasons=dict(c.reasons[route].most_common()),
            )
            for route in ROUTES
        },
        fallback_rate=fallback_rate,
        low_confidence_rate=low_confidence_rate,
        heated_share=_ratio(c.heated, n),
        cache_hit_rate=_ratio(c.cache_hits, n),
        mean_confidence=overall.confidence / n if n else None,
        latency=LatencyStats(
            mean_ms=overall.latency.mean(),
            p50_ms=overall.latency.percentile(50),
            p95_ms=overall.latency.percentile(95),
            p99_ms=overall.latency.percentile(99),
        ),
        latency_histogram=overall.latency.bins(),
        batched=BatchStats(
            lines=overall.batch_lines,
            mean_ms=_mean(overall.batch_sum, overall.batch_lines),
            max_batch_size=overall.batch_max or None,
        ),
        emotions={
            emotion: Share(count=c.emotions[emotion], percent=_percent(c.emotions[emotion], n))
            for emotion in EMOTIONS
        },
        class_priors=dict(c.priors.most_common()),
        model_versions=dict(c.versions.most_common()),
        first_line=_when(overall_span.first),
        last_line=_when(overall_span.last),
        bucket_s=width,
        buckets=_bucket_rows(buckets, width),
        days=[DayStats(day=day, **t.group().model_dump()) for day, t in sorted(days.items())],
        replicas=[
            _replica_row(r, replica_files[r], cell, span, overall_span.last)
            for r, (cell, span) in sorted(replicas.items())
        ],
        languages=_language_rows(overall),
        comparison=comparison,
        recent_low_confidence=reader.low_confidence.newest_first(),
        recent_fallbacks=reader.fallbacks.newest_first(),
        checks=_checks(limits or Limits(), low_confidence_rate, fallback_rate),
    )


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def _bucket_rows(buckets: dict[int, tuple[_Cell, Counter[str]]], width: int) -> list[BucketStats]:
    """Every bucket from the first with a line to the last, the empty ones too: a gap in the
    traffic is what the table must show."""
    if not buckets:
        return []
    rows = []
    for key in range(min(buckets), max(buckets) + 1):
        cell, by_replica = buckets.get(key, (_Cell(), Counter()))
        c = cell.counts()
        rows.append(
            BucketStats(
                start=datetime.fromtimestamp(key * width, UTC),
                n=cell.n,
                empty_turns=c.empty,
                fallback_rate=_ratio(c.fallback, cell.n - c.empty),
                low_confidence_rate=_ratio(c.low, cell.n),
                heated_share=_ratio(c.heated, cell.n),
                anger_turns=c.anger_turns,
                p50_latency_ms=cell.latency.percentile(50),
                p95_latency_ms=cell.latency.percentile(95),
                emotions={e: c.emotions[e] for e in EMOTIONS},
                replicas=dict(sorted(by_replica.items())),
            )
        )
    return rows


def _replica_row(replica: str, files: int, cell: _Cell, span: _Span, newest: float) -> ReplicaStats:
    silent = newest - span.last if span.n else None
    rate = (span.n - 1) / (span.last - span.first) if span.n > 1 and span.last > span.first else 0
    return ReplicaStats(
        replica=replica,
        files=files,
        first_seen=_when(span.first),
        last_seen=_when(span.last),
        silent_s=silent,
        quiet=silent is not None and rate * silent >= QUIET_EXPECTED_LINES,
        **cell.group().model_dump(),
    )
