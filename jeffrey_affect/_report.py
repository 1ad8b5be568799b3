"""Monitoring report over the engine's prediction logs.

The engine appends one JSON object per prediction to ``predictions_YYYY-MM-DD.jsonl`` (UTC date);
older files may be gzipped. The report streams every file line by line, so memory does not grow
with the number of lines: counts are tallied as they go and latency percentiles come from a fixed
histogram rather than a list of every value. Days are the files' dates, which is also what
--since/--until select on. Any line that is not a valid ``LogRecord`` (bad JSON, missing or wrongly
typed field, a blank line, a last line cut mid-write) is counted as malformed and skipped.

Latency resolution: 100 log-spaced bins per decade from 0.01 ms to 60 s (678 bins, plus one below
and one above). A percentile is the nearest-rank value's bin, reported as the bin's geometric
midpoint clamped to the observed min and max, so it is within ``PERCENTILE_RELATIVE_ERROR``
(about 1.2%) of the exact nearest-rank value. Below 0.01 ms the min observed is reported (absolute
error < 0.01 ms); above 60 s the max observed is reported. Means are exact.
"""

import argparse
import bisect
import gzip
import io
import itertools
import math
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ValidationError, computed_field

from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._log import LogRecord, day_of
from jeffrey_affect._result import Route

ROUTES: tuple[Route, ...] = get_args(Route)
Format = Literal["text", "markdown", "json"]

_LOW_MS = 0.01
_HIGH_MS = 60_000.0
_BINS_PER_DECADE = 100
_N_BINS = math.ceil(math.log10(_HIGH_MS / _LOW_MS) * _BINS_PER_DECADE)
PERCENTILE_RELATIVE_ERROR = 10 ** (0.5 / _BINS_PER_DECADE) - 1

MAX_LINE_BYTES = 64 * 1024
"""A logged line is well under 1 KiB: longer is not ours, and is counted malformed unread."""
MAX_FILE_BYTES = 2 * 1024**3
"""About seven million predictions: a day-file that decompresses past this is not ours."""
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (terminal escapes) and bidi overrides, replaced before printing."""


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


class DayStats(BaseModel):
    day: date
    n: int
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    low_confidence_rate: float | None
    fallback_rate: float | None
    routes: dict[Route, int]


class FileStats(BaseModel):
    """One file read; ``error`` says why it could not be read to the end (e.g. truncated gzip)."""

    path: str
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


def _ratio(count: int, total: int) -> float | None:
    return count / total if total else None


def _percent(count: int, total: int) -> float | None:
    return 100 * count / total if total else None


def _edge(k: int) -> float:
    return _LOW_MS * 10 ** (k / _BINS_PER_DECADE)


class _Histogram:
    """Latency counts in fixed log-spaced bins; index 0 is below 0.01 ms, the last above 60 s."""

    def __init__(self) -> None:
        self.counts = [0] * (_N_BINS + 2)
        self.n = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, ms: float) -> None:
        if ms < _LOW_MS:
            k = 0
        else:
            k = min(math.floor(math.log10(ms / _LOW_MS) * _BINS_PER_DECADE) + 1, _N_BINS + 1)
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
        return min(max(_LOW_MS * 10 ** ((k - 0.5) / _BINS_PER_DECADE), self.min), self.max)

    def bins(self) -> list[HistogramBin]:
        last = _N_BINS + 1
        return [
            HistogramBin(
                low_ms=self.min if k == 0 else _edge(k - 1),
                high_ms=self.max if k == last else _edge(k),
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

    def day_stats(self, day: date) -> DayStats:
        return DayStats(
            day=day,
            n=self.n,
            mean_latency_ms=self.latency.mean(),
            p95_latency_ms=self.latency.percentile(95),
            low_confidence_rate=_ratio(self.low_confidence, self.n),
            fallback_rate=_ratio(self.fallback, self.n),
            routes={route: self.routes[route] for route in ROUTES},
        )


def _log_files(log_dir: Path, since: date | None, until: date | None) -> list[tuple[date, Path]]:
    found = []
    for path in log_dir.iterdir():
        if (found_day := day_of(path.name)) is None:
            continue
        day = found_day[0]
        if (since is None or day >= since) and (until is None or day <= until):
            found.append((day, path))
    return sorted(found)


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


def _read(path: Path, day: date, tallies: tuple[_Tally, _Tally]) -> FileStats:
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
        path=str(path), day=day, records=records, malformed_lines=malformed, error=error
    )


def build_report(log_dir: Path, since: date | None = None, until: date | None = None) -> Report:
    """Read every log file dated within [since, until]; raise FileNotFoundError without log_dir."""
    if not log_dir.is_dir():
        raise FileNotFoundError(f"no log directory at {log_dir}")
    overall = _Tally()
    days: dict[date, _Tally] = {}
    files = [
        _read(path, day, (overall, days.setdefault(day, _Tally())))
        for day, path in _log_files(log_dir, since, until)
    ]
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
        days=[tally.day_stats(day) for day, tally in sorted(days.items())],
    )


# Rendering: text and markdown share the same sections (title, header, rows).

_Section = tuple[str, list[str], list[list[str]]]


def _fmt_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _fmt_percent(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.1f}%"


def _fmt_ms(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.2f} ms"


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} ({count})" for key, count in counts.items()) or "-"


def _range(since: date | None, until: date | None) -> str:
    return f"{since or 'first'} .. {until or 'last'}"


def _sections(report: Report) -> list[_Section]:
    damaged = [f for f in report.files if f.damaged]
    summary = [
        ["Log directory", report.log_dir],
        ["Dates", _range(report.since, report.until)],
        ["Files read", str(len(report.files))],
        ["Damaged files", str(len(damaged))],
        ["Malformed lines skipped", str(report.malformed_lines)],
        ["Predictions", str(report.total)],
        ["Fallback rate", _fmt_rate(report.fallback_rate)],
        ["Low-confidence rate", _fmt_rate(report.low_confidence_rate)],
        ["Cache hit rate", _fmt_rate(report.cache_hit_rate)],
        [
            "Mean confidence",
            "-" if report.mean_confidence is None else f"{report.mean_confidence:.3f}",
        ],
        ["Latency mean", _fmt_ms(report.latency.mean_ms)],
        ["Latency p50", _fmt_ms(report.latency.p50_ms)],
        ["Latency p95", _fmt_ms(report.latency.p95_ms)],
        ["Latency p99", _fmt_ms(report.latency.p99_ms)],
        ["Class priors", _fmt_counts(report.class_priors)],
        ["Model versions", _fmt_counts(report.model_versions)],
    ]
    routes = [
        [route, str(s.count), _fmt_percent(s.percent), _fmt_counts(s.fallback_reasons)]
        for route, s in report.routes.items()
    ]
    emotions = [
        [emotion, str(s.count), _fmt_percent(s.percent)] for emotion, s in report.emotions.items()
    ]
    days = [
        [
            d.day.isoformat(),
            str(d.n),
            _fmt_ms(d.mean_latency_ms),
            _fmt_ms(d.p95_latency_ms),
            _fmt_rate(d.low_confidence_rate),
            _fmt_rate(d.fallback_rate),
            *(str(d.routes[route]) for route in ROUTES),
        ]
        for d in report.days
    ]
    files = [
        [f.path, str(f.records), str(f.malformed_lines), f.error or "ok"] for f in report.files
    ]
    return [
        ("Summary", ["Metric", "Value"], summary),
        ("Routes", ["Route", "N", "%", "Fallback reasons"], routes),
        ("Emotions", ["Emotion", "N", "%"], emotions),
        (
            "Per day",
            ["Date", "N", "Mean latency", "p95 latency", "Low-conf", "Fallback", *ROUTES],
            days,
        ),
        ("Files", ["File", "Records", "Malformed", "Status"], files),
    ]


def _printable(cell: str) -> str:
    """Log fields are written by whoever can write the log directory: never echo their escapes."""
    return _UNPRINTABLE.sub("\ufffd", cell)


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to width; right-aligned where every cell is a number (or "-")."""
    rows = [[_printable(cell) for cell in row] for row in rows]
    columns = list(zip(header, *rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    numeric = [all(cell[:1].isdigit() or cell == "-" for cell in column[1:]) for column in columns]
    return [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in [header, *rows]
    ]


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(_printable(c).replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def render(report: Report, fmt: Format) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2)
    out = ["# Prediction report" if fmt == "markdown" else "Prediction report"]
    for title, header, rows in _sections(report):
        out += ["", f"## {title}" if fmt == "markdown" else f"{title}\n{'-' * len(title)}"]
        if fmt == "markdown":
            out += ["", *_markdown_table(header, rows)]
        else:
            out += _text_table(header, rows)
    return "\n".join(out) + "\n"


def plot(report: Report, path: Path) -> None:
    """Write a PNG: emotion distribution, latency histogram, routes per day."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise RuntimeError("plotting needs matplotlib: pip install 'jeffrey-affect[plot]'") from exc

    fig = Figure(figsize=(16, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax_emotions, ax_latency, ax_days = fig.subplots(1, 3)

    ax_emotions.bar(list(report.emotions), [s.count for s in report.emotions.values()])
    ax_emotions.set_title(f"Emotions (n={report.total})")
    ax_emotions.tick_params(axis="x", labelrotation=45)

    # Regroup the fine bins to 10 per decade for display, clipping the out-of-range ends.
    mids = [
        min(max((b.low_ms + b.high_ms) / 2, _LOW_MS), _HIGH_MS) for b in report.latency_histogram
    ]
    if mids:
        first, last = (math.floor(10 * math.log10(ms / _LOW_MS)) for ms in (min(mids), max(mids)))
        ax_latency.hist(
            mids,
            bins=[_edge(10 * j) for j in range(first, last + 2)],
            weights=[b.count for b in report.latency_histogram],
        )
        ax_latency.set_xscale("log")
    ax_latency.set_title("Latency")
    ax_latency.set_xlabel("ms")

    labels = [d.day.isoformat() for d in report.days]
    bottom = [0] * len(report.days)
    for route in ROUTES:
        counts = [d.routes[route] for d in report.days]
        ax_days.bar(labels, counts, bottom=bottom, label=route)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax_days.set_title("Routes per day")
    ax_days.tick_params(axis="x", labelrotation=45)
    ax_days.legend()

    fig.savefig(path, format="png")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"not a rate between 0 and 1: {text!r}")
    return rate


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path("logs/predictions"),
        metavar="DIR",
        help="directory of predictions_YYYY-MM-DD.jsonl[.gz] (default: %(default)s)",
    )
    parser.add_argument(
        "--since", type=_day, metavar="DATE", help="first file date, YYYY-MM-DD, inclusive"
    )
    parser.add_argument(
        "--until", type=_day, metavar="DATE", help="last file date, YYYY-MM-DD, inclusive"
    )
    parser.add_argument("--format", choices=get_args(Format), default="text")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="also write a PNG")
    parser.add_argument(
        "--max-low-confidence-rate",
        type=_rate,
        metavar="R",
        help="exit 2 when the low-confidence rate is above R (0..1)",
    )
    parser.add_argument(
        "--max-fallback-rate",
        type=_rate,
        metavar="R",
        help="exit 2 when the fallback rate (route other than linear_head) is above R (0..1)",
    )


def run_report(args: argparse.Namespace) -> int:
    """Print the report; 1 when there is nothing to read, 2 when a --max-* rate is exceeded."""
    try:
        report = build_report(args.logs, args.since, args.until)
    except FileNotFoundError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    if not report.files:
        print(
            f"report: no predictions_YYYY-MM-DD.jsonl[.gz] in {args.logs} "
            f"for dates {_range(args.since, args.until)}",
            file=sys.stderr,
        )
        return 1
    print(render(report, args.format), end="")
    if args.plot is not None:
        try:
            plot(report, args.plot)
        except (RuntimeError, OSError) as exc:
            print(f"report: cannot write the plot: {exc}", file=sys.stderr)
            return 1
    exceeded = [
        (name, rate, limit)
        for name, rate, limit in (
            ("low-confidence rate", report.low_confidence_rate, args.max_low_confidence_rate),
            ("fallback rate", report.fallback_rate, args.max_fallback_rate),
        )
        if rate is not None and limit is not None and rate > limit
    ]
    for name, rate, limit in exceeded:
        print(f"report: {name} {rate:.4f} exceeds the maximum {limit:.4f}", file=sys.stderr)
    return 2 if exceeded else 0
