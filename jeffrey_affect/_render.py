"""The monitoring report rendered: text, markdown and HTML tables, JSON, and the chart (PNG).

Every logged string (texts, reasons, versions, replica names) is written by whoever can write the
log directory: text and markdown replace its control characters, HTML escapes it.
"""

import base64
import html
import io
import math
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from jeffrey_affect._report import (
    HIGH_MS,
    LOW_MS,
    ROUTES,
    Bound,
    Change,
    GroupStats,
    LanguageStats,
    Report,
    Sample,
    bin_edge,
    width_text,
)
from jeffrey_affect._result import UNKNOWN_LANGUAGE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Format = Literal["text", "markdown", "json", "html"]

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (terminal escapes) and bidi overrides, replaced before printing."""

TOP_EMOTIONS = 3
"""The emotions a language's row names, most frequent first."""

_ALARM_WORDS = frozenset({"FAILED", "FLAGGED", "QUIET"})
"""A cell that starts with one of these is shown in red in HTML."""

# Text, markdown and HTML share the same sections (title, header, rows).
_Section = tuple[str, list[str], list[list[str]]]


def _fmt_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _fmt_percent(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.1f}%"


def _fmt_ms(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.2f} ms"


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} ({count})" for key, count in counts.items()) or "-"


def _fmt_time(when: datetime | None) -> str:
    return "-" if when is None else when.strftime("%Y-%m-%d %H:%M:%S")


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f}s"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = (
        [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes)
    )
    return " ".join(parts or ["0m"])


def _fmt_bound(bound: Bound | None, missing: str) -> str:
    if bound is None:
        return missing
    if isinstance(bound, datetime):
        return bound.strftime("%Y-%m-%dT%H:%M") + "Z"
    return bound.isoformat()


def range_text(since: Bound | None, until: Bound | None) -> str:
    return f"{_fmt_bound(since, 'first')} .. {_fmt_bound(until, 'last')}"


def _group_cells(g: GroupStats) -> list[str]:
    return [
        str(g.n),
        _fmt_ms(g.mean_latency_ms),
        _fmt_ms(g.p95_latency_ms),
        _fmt_rate(g.low_confidence_rate),
        _fmt_rate(g.fallback_rate),
        str(g.empty_turns),
        *(str(g.routes[route]) for route in ROUTES),
    ]


def _language(language: str | None) -> str:
    return UNKNOWN_LANGUAGE if language is None else language


def _language_cells(row: LanguageStats) -> list[str]:
    top = sorted(row.emotions.items(), key=lambda item: -item[1])[:TOP_EMOTIONS]
    return [
        _language(row.language),
        str(row.n),
        _fmt_percent(row.percent),
        _fmt_rate(row.low_confidence_rate),
        _fmt_rate(row.fallback_rate),
        str(row.empty_turns),
        ", ".join(f"{emotion} {_fmt_rate(count / row.n)}" for emotion, count in top if count),
    ]


def _days_read(report: Report) -> str:
    days = [f.day for f in report.files]
    return f"{min(days)} .. {max(days)}" if days else "-"


def alarms(report: Report) -> str:
    """The first thing to read: failed checks, flagged changes and quiet replicas, counted."""
    failed = [c.name for c in report.checks if not c.passed]
    flagged = (
        [c.metric for c in report.comparison.changes if c.flagged] if report.comparison else []
    )
    quiet = [r.replica for r in report.replicas if r.quiet]
    parts = [
        "no --max-* check"
        if not report.checks
        else f"{len(failed)} check(s) failed" + (f" ({', '.join(failed)})" if failed else ""),
        "no baseline"
        if report.comparison is None
        else f"{len(flagged)} change(s) flagged" + (f" ({', '.join(flagged)})" if flagged else ""),
        f"{len(quiet)} replica(s) quiet" + (f" ({', '.join(quiet)})" if quiet else ""),
    ]
    return "; ".join(parts)


def _summary(report: Report) -> list[list[str]]:
    damaged = [f for f in report.files if f.damaged]
    batched = report.batched
    rows = [
        ["Alarms", alarms(report)],
        ["Log directory", report.log_dir],
        ["Dates asked for", range_text(report.since, report.until)],
        ["Dates read", _days_read(report)],
        ["Files read", str(len(report.files))],
        ["Damaged files", str(len(damaged))],
        ["Malformed lines skipped", str(report.malformed_lines)],
        ["Predictions", str(report.total)],
        ["First line (UTC)", _fmt_time(report.first_line)],
        ["Last line (UTC)", _fmt_time(report.last_line)],
        ["Empty turns", f"{report.empty_turns} (not in the fallback rate)"],
        ["Fallback rate", _fmt_rate(report.fallback_rate)],
        ["Low-confidence rate", _fmt_rate(report.low_confidence_rate)],
        ["Anger + frustration", _fmt_rate(report.heated_share)],
        ["Cache hit rate", _fmt_rate(report.cache_hit_rate)],
        [
            "Mean confidence",
            "-" if report.mean_confidence is None else f"{report.mean_confidence:.3f}",
        ],
        ["Latency mean", _fmt_ms(report.latency.mean_ms)],
        ["Latency p50", _fmt_ms(report.latency.p50_ms)],
        ["Latency p95", _fmt_ms(report.latency.p95_ms)],
        ["Latency p99", _fmt_ms(report.latency.p99_ms)],
        [
            "Batched lines",
            f"{batched.lines} (not in the latency above; {_fmt_ms(batched.mean_ms)} per turn, "
            f"batches of up to {batched.max_batch_size})"
            if batched.lines
            else "0",
        ],
        ["Class priors", _fmt_counts(report.class_priors)],
        ["Model versions", _fmt_counts(report.model_versions)],
    ]
    if report.off_day_lines:
        rows.append(["Off-day lines", f"{report.off_day_lines} (in no time bucket)"])
    return rows


def _change_cell(change: Change) -> str:
    if change.current is None or change.baseline is None:
        return "-"
    if change.kind == "rate":
        return f"{100 * (change.current - change.baseline):+.1f} pts"
    return f"x{change.current / change.baseline:.2f}" if change.baseline else "-"


def _value_cell(change: Change, value: float | None) -> str:
    if change.kind == "rate":
        return _fmt_rate(value)
    if change.kind == "ms":
        return _fmt_ms(value)
    return "-" if value is None else f"{value:.0f}"


def _comparison(report: Report) -> _Section:
    comparison = report.comparison
    if comparison is None:
        return (
            "Compared with",
            ["Baseline"],
            [["none: give --since (compared with the period before it) or --baseline FROM..TO"]],
        )
    which = "given baseline" if comparison.explicit else "the previous period"
    title = (
        f"Compared with {range_text(comparison.since, comparison.until)} ({which}, "
        f"{comparison.total} predictions)"
    )
    rows = [
        [
            c.metric,
            _value_cell(c, c.current),
            _value_cell(c, c.baseline),
            _change_cell(c),
            f"FLAGGED {c.why}" if c.flagged else "",
        ]
        for c in comparison.changes
    ]
    return title, ["Metric", "Period", "Baseline", "Change", "Flag"], rows


def _bucket_label(when: datetime, width_s: int) -> str:
    return when.strftime("%Y-%m-%d" if width_s % 86_400 == 0 else "%Y-%m-%d %H:%M")


def _samples(samples: list[Sample]) -> list[list[str]]:
    return [
        [
            _fmt_time(s.timestamp),
            s.replica,
            s.route,
            s.fallback_reason or "-",
            _language(s.language),
            s.emotion,
            f"{s.confidence:.2f}",
            s.text,
        ]
        for s in samples
    ]


def _sections(report: Report) -> list[_Section]:
    routes = [
        [route, str(s.count), _fmt_percent(s.percent), _fmt_counts(s.fallback_reasons)]
        for route, s in report.routes.items()
    ]
    emotions = [
        [emotion, str(s.count), _fmt_percent(s.percent)] for emotion, s in report.emotions.items()
    ]
    buckets = [
        [
            _bucket_label(b.start, report.bucket_s),
            str(b.n),
            _fmt_rate(b.fallback_rate),
            _fmt_rate(b.low_confidence_rate),
            _fmt_rate(b.heated_share),
            str(b.anger_turns),
            _fmt_ms(b.p50_latency_ms),
            _fmt_ms(b.p95_latency_ms),
            str(b.empty_turns),
        ]
        for b in report.buckets
    ]
    days = [[d.day.isoformat(), *_group_cells(d)] for d in report.days]
    replicas = [
        [
            r.replica,
            str(r.files),
            *_group_cells(r),
            _fmt_time(r.last_seen),
            _fmt_duration(r.silent_s),
            "QUIET" if r.quiet else "",
        ]
        for r in report.replicas
    ]
    figures = ["N", "Mean latency", "p95 latency", "Low-conf", "Fallback", "Empty", *ROUTES]
    files = [
        [f.path, str(f.records), str(f.malformed_lines), f.error or "ok"] for f in report.files
    ]
    sample_header = [
        "Time (UTC)",
        "Replica",
        "Route",
        "Reason",
        "Language",
        "Emotion",
        "Conf",
        "Text",
    ]
    sections: list[_Section] = [("Summary", ["Metric", "Value"], _summary(report))]
    if report.checks:
        checks = [
            [
                c.name,
                _fmt_rate(c.value),
                f"{c.option} {c.limit:g}",
                "ok" if c.passed else "FAILED",
            ]
            for c in report.checks
        ]
        sections.append(("Checks", ["Check", "Value", "Limit", "Result"], checks))
    return [
        *sections,
        _comparison(report),
        (
            f"Over time ({width_text(report.bucket_s)} buckets, UTC)",
            [
                "Start",
                "N",
                "Fallback",
                "Low-conf",
                "Anger+frustration",
                "Confident anger",
                "p50 latency",
                "p95 latency",
                "Empty",
            ],
            buckets,
        ),
        ("Routes", ["Route", "N", "%", "Fallback reasons"], routes),
        ("Emotions", ["Emotion", "N", "%"], emotions),
        ("Per day", ["Date", *figures], days),
        (
            "Per replica",
            ["Replica", "Files", *figures, "Last seen (UTC)", "Silent for", "Quiet"],
            replicas,
        ),
        (
            "Per language",
            ["Language", "N", "%", "Low-conf", "Fallback", "Empty", "Top emotions"],
            [_language_cells(row) for row in report.languages],
        ),
        ("Recent low-confidence turns", sample_header, _samples(report.recent_low_confidence)),
        ("Recent fallback turns", sample_header, _samples(report.recent_fallbacks)),
        ("Files", ["File", "Records", "Malformed", "Status"], files),
    ]


def _printable(cell: str) -> str:
    """Log fields are written by whoever can write the log directory: never echo their escapes."""
    return _UNPRINTABLE.sub("\ufffd", cell)


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to width; right-aligned where every cell is a number (or "-")."""
    if not rows:
        return ["(none)"]
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
    if not rows:
        return ["(none)"]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(_printable(c).replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def render(report: Report, fmt: Format) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2)
    if fmt == "html":
        return render_html(report)
    out = ["# Prediction report" if fmt == "markdown" else "Prediction report"]
    for title, header, rows in _sections(report):
        out += ["", f"## {title}" if fmt == "markdown" else f"{title}\n{'-' * len(title)}"]
        if fmt == "markdown":
            out += ["", *_markdown_table(header, rows)]
        else:
            out += _text_table(header, rows)
    return "\n".join(out) + "\n"


_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 0.4em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; }
th, td { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.alarm { color: #b00020; font-weight: 600; }
td.text { font-family: ui-monospace, monospace; white-space: pre-wrap; max-width: 40em; }
img { max-width: 100%; height: auto; }
p.note { color: #555; }
p.alarms { font-weight: 600; }
"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return '<p class="note">(none)</p>'
    numeric = [
        all(row[i][:1].isdigit() or row[i] == "-" for row in rows) for i in range(len(header))
    ]

    def cell(i: int, value: str) -> str:
        classes = [
            name
            for name, on in (
                ("num", numeric[i]),
                ("alarm", value.split(" ")[0] in _ALARM_WORDS),
                ("text", header[i] == "Text"),
            )
            if on
        ]
        attribute = f' class="{" ".join(classes)}"' if classes else ""
        return f"<td{attribute}>{html.escape(value)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS, the chart as a base64 PNG, no external URL, no
    script; every logged string escaped."""
    try:
        png = base64.b64encode(_png(report)).decode("ascii")
        chart = f'<img alt="charts of the report" src="data:image/png;base64,{png}">'
    except RuntimeError as exc:
        chart = f'<p class="note">No chart: {html.escape(str(exc))}</p>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(_title(report))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(_title(report))}</h1>",
        f'<p class="alarms">{html.escape(alarms(report))}</p>',
        chart,
    ]
    for title, header, rows in _sections(report):
        parts += [f"<h2>{html.escape(title)}</h2>", _html_table(header, rows)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _title(report: Report) -> str:
    """What, when and which model: the chart's and the page's title."""
    span = "no predictions"
    if report.first_line and report.last_line:
        span = f"{report.first_line:%Y-%m-%d %H:%M} .. {report.last_line:%Y-%m-%d %H:%M} UTC"
    versions = ", ".join(report.model_versions) or "-"
    return f"Prediction report, {span}: {report.total:,} turns, model {versions}"


def _matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("plotting needs matplotlib: pip install 'jeffrey-affect[plot]'") from exc


def plot(report: Report, path: Path) -> None:
    """Write the chart as a PNG."""
    path.write_bytes(_png(report))


def _png(report: Report) -> bytes:
    figure = _figure(report)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    return out.getvalue()


def _figure(report: Report) -> "Figure":
    """Six panels a person reads in seconds: traffic by replica, rates, latency and emotion mix
    over time, the latency distribution, and the emotion mix against the baseline."""
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 11), layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(
        f"{_title(report)}  ({width_text(report.bucket_s)} buckets)", fontsize=13, weight="bold"
    )
    axes = fig.subplots(3, 2)
    (volume, rates), (latency, mix), (histogram, shares) = axes
    _volume_panel(volume, report)
    _rates_panel(rates, report)
    _latency_panel(latency, report)
    _mix_panel(mix, report)
    _histogram_panel(histogram, report)
    _shares_panel(shares, report)
    return fig


def _days(when: datetime, plus_s: float = 0.0) -> float:
    """Matplotlib's date number (days since its default epoch, 1970-01-01 UTC)."""
    return (when.timestamp() + plus_s) / 86_400


def _midpoints(report: Report) -> list[float]:
    return [_days(b.start, report.bucket_s / 2) for b in report.buckets]


def _time_axis(ax: "Axes", report: Report) -> None:
    """Concise date ticks, never crowded, and the same range on every time panel."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator, formats=["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"], show_offset=False
    )
    ax.xaxis.set_major_formatter(formatter)  # the title gives the dates
    if report.buckets:
        ax.set_xlim(
            _days(report.buckets[0].start), _days(report.buckets[-1].start, report.bucket_s)
        )
    ax.grid(alpha=0.3)


def _legend_outside(ax: "Axes") -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")


def _no_data(ax: "Axes", title: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, "no predictions", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _volume_panel(ax: "Axes", report: Report) -> None:
    title = f"Turns per {width_text(report.bucket_s)}, by replica"
    if not report.buckets:
        _no_data(ax, title)
        return
    x = _midpoints(report)
    names = sorted({name for b in report.buckets for name in b.replicas})
    for name in names:
        ax.plot(x, [b.replicas.get(name, 0) for b in report.buckets], label=name, lw=1.5)
    ax.plot(x, [b.n for b in report.buckets], label="all", color="0.3", lw=1, ls=":")
    for replica in report.replicas:
        if replica.quiet and replica.last_seen is not None:
            ax.axvline(_days(replica.last_seen), color="C3", lw=1, ls="--")
            ax.annotate(
                f"{replica.replica} quiet since {replica.last_seen:%H:%M}",
                (_days(replica.last_seen), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-4, -4),
                textcoords="offset points",
                ha="right",
                va="top",
                color="C3",
                fontsize="small",
            )
    _finish_time_panel(ax, report, title, "turns")


def _rates_panel(ax: "Axes", report: Report) -> None:
    title = "Rates per bucket" + (" (dotted: baseline)" if report.comparison else "")
    if not report.buckets:
        _no_data(ax, title)
        return
    x = _midpoints(report)
    baseline = (
        {c.metric: c.baseline for c in report.comparison.changes} if report.comparison else {}
    )
    series = (
        ("fallback (non-empty)", "Fallback rate", [b.fallback_rate for b in report.buckets]),
        ("low-confidence", "Low-confidence rate", [b.low_confidence_rate for b in report.buckets]),
        ("anger + frustration", "Anger + frustration", [b.heated_share for b in report.buckets]),
    )
    for label, metric, values in series:
        (line,) = ax.plot(x, [math.nan if v is None else 100 * v for v in values], label=label)
        if (value := baseline.get(metric)) is not None:
            ax.axhline(100 * value, color=line.get_color(), ls=":", lw=1)
    _finish_time_panel(ax, report, title, "% of turns")


def _latency_panel(ax: "Axes", report: Report) -> None:
    title = "Latency per bucket, single turns"
    if not report.buckets:
        _no_data(ax, title)
        return
    x = _midpoints(report)
    for label, values in (
        ("p50", [b.p50_latency_ms for b in report.buckets]),
        ("p95", [b.p95_latency_ms for b in report.buckets]),
    ):
        ax.plot(x, [math.nan if v is None else v for v in values], label=label)
    _finish_time_panel(ax, report, title, "ms")


def _mix_panel(ax: "Axes", report: Report) -> None:
    title = "Emotion mix per bucket (share of turns)"
    if not report.buckets:
        _no_data(ax, title)
        return
    x = _midpoints(report)
    emotions = list(report.emotions)
    shares = [
        [100 * b.emotions[e] / b.n if b.n else math.nan for b in report.buckets] for e in emotions
    ]
    ax.stackplot(x, shares, labels=emotions, colors=_emotion_colours(len(emotions)))
    _finish_time_panel(ax, report, title, "%", top=100)


def _finish_time_panel(
    ax: "Axes", report: Report, title: str, ylabel: str, top: float | None = None
) -> None:
    """What every panel over time ends with: its labels, a y axis from 0, the report's time axis
    and the legend beside the plot."""
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top)
    _time_axis(ax, report)
    _legend_outside(ax)


def _emotion_colours(n: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i) for i in range(n)]


def _histogram_panel(ax: "Axes", report: Report) -> None:
    title = "Latency distribution, single turns"
    if not report.latency_histogram:
        _no_data(ax, title)
        return
    # Regroup the fine bins to 10 per decade for display, clipping the out-of-range ends.
    bins = report.latency_histogram
    mids = [min(max((b.low_ms + b.high_ms) / 2, LOW_MS), HIGH_MS) for b in bins]
    first, last = (math.floor(10 * math.log10(ms / LOW_MS)) for ms in (min(mids), max(mids)))
    ax.hist(
        mids,
        bins=[bin_edge(10 * j) for j in range(first, last + 2)],
        weights=[b.count for b in bins],
        color="0.55",
    )
    ax.set_xscale("log")
    for name, value, style in (
        ("p50", report.latency.p50_ms, "-"),
        ("p95", report.latency.p95_ms, "--"),
        ("p99", report.latency.p99_ms, ":"),
    ):
        if value is not None:
            ax.axvline(value, color="C3", ls=style, label=f"{name} {value:.2f} ms")
    ax.set_title(title)
    ax.set_xlabel("ms (log scale)")
    ax.set_ylabel("turns")
    _legend_outside(ax)


def _shares_panel(ax: "Axes", report: Report) -> None:
    title = "Emotion mix, period vs baseline"
    if not report.total:
        _no_data(ax, title)
        return
    emotions = list(report.emotions)
    y = range(len(emotions))
    now = [report.emotions[e].percent or 0.0 for e in emotions]
    compared = report.comparison
    height = 0.4 if compared else 0.8
    ax.barh([i - height / 2 for i in y] if compared else list(y), now, height, label="period")
    if compared:
        before = {c.metric: c.baseline for c in compared.changes}
        values = [100 * (before.get(f"Share {e}") or 0.0) for e in emotions]
        ax.barh([i + height / 2 for i in y], values, height, label="baseline", color="0.7")
    ax.set_yticks(list(y), emotions)
    ax.invert_yaxis()
    ax.set_xlabel("% of turns")
    ax.set_title(title if compared else "Emotion mix (no baseline)")
    ax.grid(axis="x", alpha=0.3)
    _legend_outside(ax)
