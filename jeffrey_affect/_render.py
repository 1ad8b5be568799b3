"""The monitoring report rendered: text and markdown tables, JSON, and a PNG plot."""

import math
import re
from datetime import date
from pathlib import Path
from typing import Literal

from jeffrey_affect._report import HIGH_MS, LOW_MS, ROUTES, GroupStats, Report, bin_edge

Format = Literal["text", "markdown", "json"]

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (terminal escapes) and bidi overrides, replaced before printing."""


# Text and markdown share the same sections (title, header, rows).
_Section = tuple[str, list[str], list[list[str]]]


def _fmt_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _fmt_percent(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.1f}%"


def _fmt_ms(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.2f} ms"


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} ({count})" for key, count in counts.items()) or "-"


def range_text(since: date | None, until: date | None) -> str:
    return f"{since or 'first'} .. {until or 'last'}"


def _group_cells(g: GroupStats) -> list[str]:
    return [
        str(g.n),
        _fmt_ms(g.mean_latency_ms),
        _fmt_ms(g.p95_latency_ms),
        _fmt_rate(g.low_confidence_rate),
        _fmt_rate(g.fallback_rate),
        *(str(g.routes[route]) for route in ROUTES),
    ]


def _days_read(report: Report) -> str:
    days = [f.day for f in report.files]
    return f"{min(days)} .. {max(days)}" if days else "-"


def _sections(report: Report) -> list[_Section]:
    damaged = [f for f in report.files if f.damaged]
    summary = [
        ["Log directory", report.log_dir],
        ["Dates asked for", range_text(report.since, report.until)],
        ["Dates read", _days_read(report)],
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
    days = [[d.day.isoformat(), *_group_cells(d)] for d in report.days]
    replicas = [[r.replica, str(r.files), *_group_cells(r)] for r in report.replicas]
    figures = ["N", "Mean latency", "p95 latency", "Low-conf", "Fallback", *ROUTES]
    files = [
        [f.path, str(f.records), str(f.malformed_lines), f.error or "ok"] for f in report.files
    ]
    return [
        ("Summary", ["Metric", "Value"], summary),
        ("Routes", ["Route", "N", "%", "Fallback reasons"], routes),
        ("Emotions", ["Emotion", "N", "%"], emotions),
        ("Per day", ["Date", *figures], days),
        ("Per replica", ["Replica", "Files", *figures], replicas),
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
    mids = [min(max((b.low_ms + b.high_ms) / 2, LOW_MS), HIGH_MS) for b in report.latency_histogram]
    if mids:
        first, last = (math.floor(10 * math.log10(ms / LOW_MS)) for ms in (min(mids), max(mids)))
        ax_latency.hist(
            mids,
            bins=[bin_edge(10 * j) for j in range(first, last + 2)],
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
