"""The monitoring report over prediction logs: figures, damaged input, CLI exit codes, plot."""

import argparse
import gzip
import json
import math
import random
import sys
import tempfile
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect import _report as report_module
from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._log import PredictionLog
from jeffrey_affect._render import plot, render
from jeffrey_affect._report import (
    MAX_LINE_BYTES,
    PERCENTILE_RELATIVE_ERROR,
    Report,
    build_report,
)
from jeffrey_affect.cli import build_parser
from tests.helpers import made_result
from tests.synthetic_logs import write_logs

D25, D26, D27 = date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)


def _record(
    emotion: str = "joy",
    confidence: float = 0.9,
    route: str = "linear_head",
    reason: str | None = None,
    latency: float = 10.0,
    cache: bool = False,
    low: bool = False,
    prior: str = "uniform",
) -> dict[str, Any]:
    return {
        "timestamp": "2026-11-27T07:30:01.123456+00:00",
        "text": "some text",
        "emotion": emotion,
        "confidence": confidence,
        "route": route,
        "fallback_reason": reason,
        "latency_ms": latency,
        "cache_hit": cache,
        "low_confidence": low,
        "model_version": "a1b2c3d4e5f6",
        "class_prior": prior,
    }


def _write(path: Path, lines: list[str], final_newline: bool = True) -> None:
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def _lines(records: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in records]


DAY25 = [
    _record("joy", 0.9, latency=10.0),
    _record("joy", 0.8, latency=20.0, cache=True),
    _record("anger", 0.3, "prototypes", "encoder unavailable", 30.0, low=True),
    _record("neutral", 0.5, "regex", "encoder unavailable", 40.0, low=True),
]
DAY26 = [
    _record("fear", 0.6, latency=5.0, prior="goemotions"),
    _record("fear", 0.7, "prototypes", "head missing", 15.0, cache=True, prior="goemotions"),
    _record("sadness", 0.2, latency=100.0, low=True, prior="goemotions"),
]
DAY27 = [
    _record("frustration", 0.4, "regex", "text too short", 1.0, low=True),
    {**_record("joy", 1.0, latency=2.0, cache=True), "user": "extra fields are ignored"},
    _record("joy", 0.6, latency=3.0),
]
MALFORMED_27 = [
    "not json at all",
    json.dumps({k: v for k, v in _record().items() if k != "route"}),
    json.dumps({**_record(), "confidence": "high"}),
    json.dumps({**_record(), "latency_ms": "12"}),
    json.dumps({**_record(), "route": "gpu"}),
]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    _write(tmp_path / "predictions_2026-11-25.jsonl", _lines(DAY25))
    _write(tmp_path / "predictions_2026-11-26.jsonl.gz", _lines(DAY26))
    partial = json.dumps(_record())[:40]
    lines = [*_lines(DAY27[:2]), *MALFORMED_27, *_lines(DAY27[2:]), partial]
    _write(tmp_path / "predictions_2026-11-27.jsonl", lines, final_newline=False)
    (tmp_path / "notes.txt").write_text("not a log\n")
    (tmp_path / "predictions_latest.jsonl").write_text(json.dumps(_record()) + "\n")
    return tmp_path


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def _within_resolution(estimate: float | None, exact: float) -> bool:
    return estimate is not None and abs(estimate - exact) <= PERCENTILE_RELATIVE_ERROR * exact


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["report", *argv])


def run_report(args: argparse.Namespace) -> int:
    code: int = args.run(args)
    return code


def test_reads_what_the_engine_logs(tmp_path: Path) -> None:
    result = made_result(
        "fear",
        0.55,
        route="prototypes",
        fallback_reason="encoder unavailable",
        low_confidence=True,
        latency_ms=3.5,
        model_version="a1b2c3d4e5f6",
    )
    line = PredictionLog(tmp_path, text_chars=40).line(
        result, "I'm scared", datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    )
    (tmp_path / "predictions_2026-11-25.jsonl").write_text(line)
    report = build_report(tmp_path)

    assert (report.total, report.malformed_lines) == (1, 0)
    assert report.routes["prototypes"].fallback_reasons == {"encoder unavailable": 1}
    assert report.emotions["fear"].count == 1
    assert report.latency.mean_ms == 3.5


def test_reads_the_language_the_engine_logs(tmp_path: Path) -> None:
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    log = PredictionLog(tmp_path, text_chars=40)
    lines = [
        log.line(made_result("joy", language="de"), "danke", when),
        log.line(made_result("sadness", 0.3, language=None), "...", when),
    ]
    (tmp_path / "predictions_2026-11-25.jsonl").write_text("".join(lines))
    report = build_report(tmp_path)

    assert [(row.language, row.n) for row in report.languages] == [("de", 1), (None, 1)]
    assert [s.language for s in report.recent_low_confidence] == [None]


LANGUAGE_LINES = [
    {**_record("joy", latency=1.0), "language": "fr"},
    {**_record("anger", 0.3, "regex", "encoder failed: OSError", low=True), "language": "fr"},
    {**_record("joy"), "language": "fr"},
    {**_record("neutral", 0.5, "regex", "empty text"), "language": None},
    {**_record("sadness"), "language": "en"},
    _record("fear", 0.2, low=True),  # written before the log kept the language
]


@pytest.fixture
def languages(tmp_path: Path) -> Path:
    _write(tmp_path / "predictions_2026-11-27.jsonl", _lines(LANGUAGE_LINES))
    return tmp_path


def test_per_language_table(languages: Path) -> None:
    rows = build_report(languages).languages

    assert [(r.language, r.n) for r in rows] == [("fr", 3), (None, 2), ("en", 1)]
    fr, unknown, en = rows
    assert fr.percent == pytest.approx(50.0)
    assert fr.low_confidence_rate == pytest.approx(1 / 3)
    assert fr.fallback_rate == pytest.approx(1 / 3)
    assert (fr.emotions["joy"], fr.emotions["anger"], fr.emotions["fear"]) == (2, 1, 0)
    assert set(fr.emotions) == set(EMOTIONS)
    assert (unknown.empty_turns, unknown.fallback_rate) == (1, 0.0)  # the empty turn is left out
    assert unknown.low_confidence_rate == pytest.approx(0.5)
    assert en.percent == pytest.approx(100 / 6)
    assert (en.fallback_rate, en.emotions["sadness"]) == (0.0, 1)
    assert sum(r.n for r in rows) == build_report(languages).total


def test_a_language_equal_in_turns_sorts_by_code_and_unknown_last(tmp_path: Path) -> None:
    records = [{**_record(), "language": code} for code in ("it", None, "de")]
    _write(tmp_path / "predictions_2026-11-27.jsonl", _lines(records))
    assert [r.language for r in build_report(tmp_path).languages] == ["de", "it", None]


def test_the_language_table_renders_in_every_format(languages: Path) -> None:
    report = build_report(languages)
    text, markdown, page = (render(report, fmt) for fmt in ("text", "markdown", "html"))

    assert "Per language\n------------\nLanguage" in text
    assert "fr        3  50.0%     33.3%     33.3%      0  joy 66.7%, anger 33.3%" in text
    assert "| unknown | 2 | 33.3% | 50.0% | 0.0% | 1 | fear 50.0%, neutral 50.0% |" in markdown
    assert "## Per language" in markdown
    assert "<h2>Per language</h2>" in page
    assert "<td>unknown</td>" in page
    dumped = json.loads(render(report, "json"))
    assert [row["language"] for row in dumped["languages"]] == ["fr", None, "en"]
    assert dumped["recent_low_confidence"][0]["language"] is None


def test_the_synthetic_fleet_logs_both_line_formats(tmp_path: Path) -> None:
    (path, *_) = write_logs(tmp_path, turns_per_day=2_000)
    keys = [set(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
    assert any("language" in k for k in keys) and any("language" not in k for k in keys)
    rows = build_report(tmp_path).languages
    assert {"en", "de", "fr", None} <= {r.language for r in rows}
    assert rows[0].language == "en"


def test_resolution_is_better_than_two_percent() -> None:
    assert 0 < PERCENTILE_RELATIVE_ERROR < 0.02


def test_totals_and_rates(logs: Path) -> None:
    report = build_report(logs)

    assert report.total == 10
    assert len(report.files) == 3
    assert report.malformed_lines == 6  # five bad lines and the partial last one
    assert [f.malformed_lines for f in report.files] == [0, 0, 6]
    assert [f.records for f in report.files] == [4, 3, 3]
    assert not any(f.damaged for f in report.files)
    assert report.fallback_rate == pytest.approx(0.4)
    assert report.low_confidence_rate == pytest.approx(0.4)
    assert report.cache_hit_rate == pytest.approx(0.3)
    assert report.mean_confidence == pytest.approx(0.6)
    assert report.latency.mean_ms == pytest.approx(22.6)
    assert report.class_priors == {"uniform": 7, "goemotions": 3}
    assert report.model_versions == {"a1b2c3d4e5f6": 10}


def test_routes_and_fallback_reasons(logs: Path) -> None:
    routes = build_report(logs).routes

    assert {r: s.count for r, s in routes.items()} == {
        "linear_head": 6,
        "prototypes": 2,
        "regex": 2,
    }
    assert routes["linear_head"].percent == pytest.approx(60.0)
    assert routes["regex"].percent == pytest.approx(20.0)
    assert routes["linear_head"].fallback_reasons == {}
    assert routes["prototypes"].fallback_reasons == {"encoder unavailable": 1, "head missing": 1}
    assert routes["regex"].fallback_reasons == {"encoder unavailable": 1, "text too short": 1}


def test_emotion_distribution_lists_all_eight(logs: Path) -> None:
    emotions = build_report(logs).emotions

    assert {e: s.count for e, s in emotions.items()} == {
        "joy": 4,
        "fear": 2,
        "frustration": 1,
        "sadness": 1,
        "anger": 1,
        "surprise": 0,
        "disgust": 0,
        "neutral": 1,
    }
    assert emotions["joy"].percent == pytest.approx(40.0)
    assert emotions["surprise"].percent == 0.0


def test_latency_percentiles_within_resolution(logs: Path) -> None:
    latency = build_report(logs).latency
    values = [r["latency_ms"] for r in DAY25 + DAY26 + DAY27]

    assert _within_resolution(latency.p50_ms, 10.0)
    assert _within_resolution(latency.p95_ms, 100.0)
    assert _within_resolution(latency.p99_ms, 100.0)
    for q, estimate in ((50, latency.p50_ms), (95, latency.p95_ms), (99, latency.p99_ms)):
        assert _within_resolution(estimate, _nearest_rank(values, q))


def test_per_day_table(logs: Path) -> None:
    days = build_report(logs).days

    assert [d.day for d in days] == [D25, D26, D27]
    assert [d.n for d in days] == [4, 3, 3]
    assert [d.mean_latency_ms for d in days] == pytest.approx([25.0, 40.0, 2.0])
    assert [d.low_confidence_rate for d in days] == pytest.approx([0.5, 1 / 3, 1 / 3])
    assert [d.fallback_rate for d in days] == pytest.approx([0.5, 1 / 3, 1 / 3])
    assert [d.routes for d in days] == [
        {"linear_head": 2, "prototypes": 1, "regex": 1},
        {"linear_head": 2, "prototypes": 1, "regex": 0},
        {"linear_head": 2, "prototypes": 0, "regex": 1},
    ]
    for day, exact in zip(days, (40.0, 100.0, 3.0), strict=True):
        assert _within_resolution(day.p95_latency_ms, exact)


def test_percentiles_over_a_wide_spread() -> None:
    rng = random.Random(7)
    values = [10 ** rng.uniform(-2, 4.7) for _ in range(3000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions_2026-11-25.jsonl"
        _write(path, _lines([_record(latency=v) for v in values]))
        latency = build_report(Path(tmp)).latency

    assert latency.mean_ms == pytest.approx(sum(values) / len(values))
    for q, estimate in ((50, latency.p50_ms), (95, latency.p95_ms), (99, latency.p99_ms)):
        assert _within_resolution(estimate, _nearest_rank(values, q))


def test_latencies_outside_the_bins_report_observed_extremes(tmp_path: Path) -> None:
    values = [0.0] * 60 + [0.004] * 30 + [90_000.0] * 10
    _write(tmp_path / "predictions_2026-11-25.jsonl", _lines([_record(latency=v) for v in values]))
    latency = build_report(tmp_path).latency

    assert latency.p50_ms == 0.0
    assert latency.p95_ms == 90_000.0
    assert latency.p99_ms == 90_000.0


@pytest.mark.parametrize(
    ("since", "until", "days", "total"),
    [
        (D26, None, [D26, D27], 6),
        (None, D25, [D25], 4),
        (D26, D26, [D26], 3),
        (D25, D27, [D25, D26, D27], 10),
        (date(2026, 12, 1), None, [], 0),
    ],
)
def test_since_until_select_files_by_date(
    logs: Path, since: date | None, until: date | None, days: list[date], total: int
) -> None:
    report = build_report(logs, since, until)

    assert [f.day for f in report.files] == days
    assert [d.day for d in report.days] == days
    assert report.total == total


def test_no_predictions_gives_empty_rates(tmp_path: Path) -> None:
    _write(tmp_path / "predictions_2026-11-25.jsonl", ["garbage", "{}"])
    report = build_report(tmp_path)

    assert (report.total, report.malformed_lines) == (0, 2)
    assert report.fallback_rate is None
    assert report.latency.p95_ms is None
    assert report.routes["regex"].percent is None
    assert report.days[0].n == 0
    assert "Fallback rate            -" in render(report, "text")
    plot(report, tmp_path / "empty.png")
    assert (tmp_path / "empty.png").read_bytes().startswith(b"\x89PNG")


def test_linked_files_and_a_gzip_beside_its_plain_file_are_not_counted_twice(
    tmp_path: Path,
) -> None:
    eu = tmp_path / "eu-1"
    eu.mkdir()
    _write(eu / "predictions_2026-11-27.jsonl", _lines(DAY27))
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "predictions_2026-11-27.jsonl").symlink_to(
        eu / "predictions_2026-11-27.jsonl"
    )
    _write(eu / "predictions_2026-11-27.jsonl.gz", _lines(DAY27))  # a sweep stopped midway

    report = build_report(tmp_path)

    assert [f.path for f in report.files] == [str(eu / "predictions_2026-11-27.jsonl")]
    assert report.total == len(DAY27)


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    full = tmp_path / "full.gz"
    records = [_record(latency=float(i % 50), emotion="fear") for i in range(5000)]
    _write(full, _lines(records))
    data = full.read_bytes()
    (tmp_path / "predictions_2026-11-25.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "predictions_2026-11-26.jsonl.gz").write_bytes(b"plain text, not gzip\n")
    _write(tmp_path / "predictions_2026-11-27.jsonl", _lines(DAY27))

    report = build_report(tmp_path)

    truncated, not_gzip, fine = report.files
    assert truncated.damaged and truncated.error is not None
    assert 0 < truncated.records < len(records)
    assert not_gzip.damaged and not_gzip.records == 0
    assert not fine.damaged and fine.records == 3
    assert report.total == truncated.records + 3
    assert report.emotions["fear"].count == truncated.records
    assert "Damaged files" in render(report, "text")


def test_the_header_says_which_dates_were_asked_for_and_which_were_read(logs: Path) -> None:
    everything = render(build_report(logs), "text")
    assert "Dates asked for          first .. last" in everything
    assert "Dates read               2026-11-25 .. 2026-11-27" in everything
    later = render(build_report(logs, since=date(2026, 11, 26)), "text")
    assert "Dates asked for          2026-11-26 .. last" in later
    assert "Dates read               2026-11-26 .. 2026-11-27" in later


def test_render_json_round_trips(logs: Path) -> None:
    report = build_report(logs)
    text = render(report, "json")

    assert json.loads(text) == report.model_dump(mode="json")
    assert json.loads(text)["files"][2]["damaged"] is False
    assert Report.model_validate_json(text) == report


def test_render_text_and_markdown(logs: Path) -> None:
    report = build_report(logs)
    text = render(report, "text")
    markdown = render(report, "markdown")

    for out in (text, markdown):
        assert "Malformed lines skipped" in out
        assert "2026-11-26" in out
        assert "22.60 ms" in out
        assert "encoder unavailable (1), head missing (1)" in out
    assert "| linear_head | 6 | 60.0% | - |" in markdown
    assert "| 2026-11-25 | 4 | 25.00 ms |" in markdown
    assert "## Per day" in markdown
    assert "|" not in text


def test_plot_writes_a_png(logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.png"
    plot(build_report(logs), out)

    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000


def test_plot_without_matplotlib_says_what_to_install(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(RuntimeError, match=r"pip install 'jeffrey-affect\[plot\]'"):
        plot(build_report(logs), tmp_path / "report.png")


def test_run_report_prints_and_plots(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plot.png"
    code = run_report(_parse("--logs", str(logs), "--format", "json", "--plot", str(out)))

    assert code == 0
    assert json.loads(capsys.readouterr().out)["total"] == 10
    assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("argv", "code", "named"),
    [
        (["--max-fallback-rate", "0.4", "--max-low-confidence-rate", "0.4"], 0, []),
        (["--max-fallback-rate", "0.39"], 2, ["fallback rate"]),
        (["--max-low-confidence-rate", "0.3"], 2, ["low-confidence rate"]),
        (
            ["--max-fallback-rate", "0", "--max-low-confidence-rate", "0"],
            2,
            ["fallback rate", "low-confidence rate"],
        ),
        (["--since", "2026-11-27", "--max-fallback-rate", "0.34"], 0, []),
    ],
)
def test_thresholds(
    logs: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, named: list[str]
) -> None:
    assert run_report(_parse("--logs", str(logs), *argv)) == code
    err = capsys.readouterr().err
    for name in ("fallback rate", "low-confidence rate"):
        assert (f"report: {name}" in err) == (name in named)


def test_missing_dir_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(_parse("--logs", str(tmp_path / "nope"))) == 1
    captured = capsys.readouterr()
    assert "no log directory" in captured.err
    assert captured.out == ""


def test_no_files_in_range_exits_1(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(_parse("--logs", str(logs), "--until", "2026-01-01")) == 1
    assert "no predictions_" in capsys.readouterr().err


def test_arguments_defaults_and_validation() -> None:
    args = _parse()
    assert args.logs == Path("logs/predictions")
    assert (args.since, args.until, args.format, args.plot) == (None, None, "text", None)
    for bad in (["--since", "27/11/2026"], ["--max-fallback-rate", "1.5"], ["--format", "csv"]):
        with pytest.raises(SystemExit):
            _parse(*bad)


_GARBAGE: st.SearchStrategy[bytes] = st.one_of(
    st.binary(),
    st.text().map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    ).map(lambda v: json.dumps(v).encode()),
    st.sets(st.sampled_from(sorted(_record())), min_size=1).map(
        lambda missing: json.dumps(
            {k: v for k, v in _record().items() if k not in missing}
        ).encode()
    ),
)


@settings(max_examples=100)
@given(
    lines=st.lists(
        st.tuples(st.booleans(), _GARBAGE.map(lambda g: g.replace(b"\n", b" ")).filter(bool)),
        min_size=1,
    ),
    final_newline=st.booleans(),
)
def test_garbage_lines_are_counted_never_raised(
    lines: list[tuple[bool, bytes]], final_newline: bool
) -> None:
    valid = json.dumps(_record()).encode()
    body = b"\n".join(valid if keep else garbage for keep, garbage in lines)
    expected_valid = sum(keep for keep, _ in lines)
    with tempfile.TemporaryDirectory() as tmp:
        data = body + (b"\n" if final_newline else b"")
        (Path(tmp) / "predictions_2026-11-25.jsonl").write_bytes(data)
        (Path(tmp) / "predictions_2026-11-26.jsonl.gz").write_bytes(gzip.compress(data))
        report = build_report(Path(tmp))

    assert report.total == 2 * expected_valid
    assert report.malformed_lines == 2 * (len(lines) - expected_valid)


_CYCLE = [
    _record("joy", 0.9, latency=1.5),
    _record("fear", 0.5, "prototypes", "encoder unavailable", 40.0, low=True),
    _record("anger", 0.7, latency=12.25, cache=True),
    _record("neutral", 0.4, "regex", "text too short", 0.25, low=True),
]


def _write_cycles(log_dir: Path, repeats: int) -> None:
    """repeats x the four _CYCLE records, then one garbage line."""
    chunk = "".join(json.dumps(r) + "\n" for r in _CYCLE)
    with (log_dir / "predictions_2026-11-25.jsonl").open("w") as f:
        for _ in range(repeats):
            f.write(chunk)
        f.write("garbage\n")


def test_streams_200k_lines(tmp_path: Path) -> None:
    _write_cycles(tmp_path, 50_000)
    report = build_report(tmp_path)

    assert report.total == 200_000
    assert report.malformed_lines == 1
    assert {r: s.count for r, s in report.routes.items()} == {
        "linear_head": 100_000,
        "prototypes": 50_000,
        "regex": 50_000,
    }
    assert report.emotions["fear"].count == 50_000
    assert report.cache_hit_rate == pytest.approx(0.25)
    assert report.low_confidence_rate == pytest.approx(0.5)
    assert report.mean_confidence == pytest.approx(0.625)
    assert report.latency.mean_ms == pytest.approx((1.5 + 40.0 + 12.25 + 0.25) / 4)
    assert report.days[0].n == 200_000


def test_memory_does_not_grow_with_lines(tmp_path: Path) -> None:
    _write_cycles(tmp_path, 5_000)
    tracemalloc.start()
    try:
        report = build_report(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.total == 20_000
    # Keeping the 20k latencies as a list of floats alone would take about 640 kB.
    assert peak < 300_000


def test_an_overlong_line_is_malformed_and_the_next_line_still_counts(tmp_path: Path) -> None:
    good = json.dumps(_record())
    overlong = json.dumps({**_record(), "text": "x" * (MAX_LINE_BYTES * 3)})
    _write(tmp_path / "predictions_2026-11-27.jsonl", [good, overlong, good, "y" * MAX_LINE_BYTES])
    report = build_report(tmp_path)
    assert (report.total, report.malformed_lines) == (2, 2)


def test_a_file_with_no_newline_is_read_in_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "predictions_2026-11-27.jsonl").write_bytes(b"{" * (64 * MAX_LINE_BYTES))
    tracemalloc.start()
    report = build_report(tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (report.total, report.malformed_lines) == (0, 1)
    assert peak < 8 * MAX_LINE_BYTES  # the line itself is 64 times that


def test_a_gzip_bomb_stops_at_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_module, "MAX_FILE_BYTES", 100 * 1024)
    line = json.dumps(_record()) + "\n"
    bomb = gzip.compress(line.encode() * (1024 * 1024 // len(line)))  # 1 MiB in ~5 KiB
    (tmp_path / "predictions_2026-11-27.jsonl.gz").write_bytes(bomb)
    (file_stats,) = build_report(tmp_path).files
    assert file_stats.error is not None and "stopped after" in file_stats.error
    assert 0 < file_stats.records * len(line) <= 100 * 1024


@settings(max_examples=30)
@given(hostile=st.text(alphabet=st.characters(categories=["Cc", "Cf"]), min_size=1, max_size=20))
def test_report_never_prints_control_characters_from_a_log(hostile: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        record = {
            **_record(reason=f"reason {hostile}", low=True),
            "model_version": hostile,
            "language": hostile,
        }
        _write(Path(tmp) / "predictions_2026-11-27.jsonl", _lines([record]))
        for fmt in ("text", "markdown"):
            rendered = render(build_report(Path(tmp)), fmt)
            assert not any(c in rendered for c in hostile if c not in "\n" and ord(c) < 0xA0)
            assert "\x1b" not in rendered and "\u202e" not in rendered
