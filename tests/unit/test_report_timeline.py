"""The report over time: buckets, the comparison with a baseline, last-seen replicas, samples of bad
turns, checks in the body, and what it counts apart (empty turns, batched lines)."""

import json
import re
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect import AffectClassifier, AffectConfig
from jeffrey_affect._render import render
from jeffrey_affect._report import (
    MAX_BUCKETS,
    SAMPLE_SIZE,
    SAMPLE_TEXT_CHARS,
    Limits,
    Period,
    Report,
    build_report,
    default_bucket,
    parse_bound,
    parse_range,
    parse_width,
)
from jeffrey_affect.cli import main
from tests.helpers import FakeEncoder
from tests.synthetic_logs import DAY, INCIDENT_QUIET, write_logs

T0 = datetime(2026, 11, 27, tzinfo=UTC)


def line(at: datetime, **fields: Any) -> str:
    record = {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "text": "where is my order?",
        "emotion": "neutral",
        "confidence": 0.8,
        "route": "linear_head",
        "fallback_reason": None,
        "latency_ms": 5.0,
        "cache_hit": False,
        "low_confidence": False,
        "model_version": "9f33e774bfcd",
        "class_prior": "tempered",
    }
    return json.dumps(record | fields) + "\n"


def fallback(at: datetime, **fields: Any) -> str:
    fields = {"route": "regex", "fallback_reason": "encoder failed: RuntimeError"} | fields
    return line(at, **fields)


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


def day_file(root: Path, day: date, host: str = "web-1") -> Path:
    return root / f"predictions_{day.isoformat()}_{host}.jsonl"


def test_empty_turns_are_counted_apart_and_not_as_fallbacks(tmp_path: Path) -> None:
    """Issue 24: `classify "hello" "" "" "where is my order"` is no 50% fallback rate."""
    logs = tmp_path / "logs"
    with AffectClassifier(AffectConfig(log_dir=logs), encoder=FakeEncoder()) as clf:
        results = [clf.classify(t) for t in ("hello", "", "", "where is my order")]
    assert [r.fallback_reason for r in results][1:3] == ["empty text", "empty text"]

    report = build_report(logs, limits=Limits(max_fallback_rate=0.2))

    assert (report.total, report.empty_turns, report.fallback_rate) == (4, 2, 0.0)
    assert report.routes["regex"].fallback_reasons == {"empty text": 2}
    assert report.checks[0].passed
    assert main(["report", "--logs", str(logs), "--max-fallback-rate", "0.2"]) == 0


def test_the_fallback_rate_is_over_non_empty_turns(tmp_path: Path) -> None:
    empty = {"route": "regex", "fallback_reason": "empty text", "text": ""}
    write(
        day_file(tmp_path, DAY),
        [line(T0), fallback(T0), line(T0, **empty), line(T0, **empty), line(T0)],
    )
    report = build_report(tmp_path)

    assert report.fallback_rate == pytest.approx(1 / 3)
    assert report.days[0].fallback_rate == pytest.approx(1 / 3)
    assert report.replicas[0].empty_turns == 2
    assert report.buckets[0].fallback_rate == pytest.approx(1 / 3)


def test_batched_lines_stay_out_of_per_turn_latency(tmp_path: Path) -> None:
    old = line(T0, latency_ms=5.0)  # an older line, without batch_size: one turn
    singles = [old, line(T0, latency_ms=6.0, batch_size=1), line(T0, latency_ms=7.0)]
    batch = [line(T0, latency_ms=0.5, batch_size=4)] * 4 + [line(T0, latency_ms=2.0, batch_size=2)]
    write(day_file(tmp_path, DAY), singles + batch)
    report = build_report(tmp_path)

    assert report.total == 8
    assert report.latency.mean_ms == pytest.approx(6.0)
    assert report.latency.p50_ms == pytest.approx(6.0, rel=0.02)
    assert sum(b.count for b in report.latency_histogram) == 3
    assert report.batched.lines == 5
    assert report.batched.mean_ms == pytest.approx((4 * 0.5 + 2.0) / 5)
    assert report.batched.max_batch_size == 4
    assert report.days[0].mean_latency_ms == pytest.approx(6.0)


def test_a_batch_size_below_one_is_malformed(tmp_path: Path) -> None:
    write(day_file(tmp_path, DAY), [line(T0, batch_size=0), line(T0)])
    report = build_report(tmp_path)
    assert (report.total, report.malformed_lines) == (1, 1)


def test_buckets_cover_the_period_gaps_included(tmp_path: Path) -> None:
    hours = [0, 0, 1, 3, 3, 3]
    lines = [line(T0 + timedelta(hours=h, minutes=10)) for h in hours]
    lines.append(fallback(T0 + timedelta(hours=3, minutes=59), low_confidence=True))
    lines.append(line(T0 + timedelta(hours=3, minutes=20), emotion="anger"))
    lines.append(line(T0 + timedelta(hours=3, minutes=21), emotion="anger", low_confidence=True))
    lines.append(line(T0 + timedelta(hours=3, minutes=22), emotion="frustration"))
    write(day_file(tmp_path, DAY), lines)
    report = build_report(tmp_path, bucket_s=parse_width("1h"))

    assert report.bucket_s == 3600
    assert [b.start.hour for b in report.buckets] == [0, 1, 2, 3]
    assert [b.n for b in report.buckets] == [2, 1, 0, 7]
    last = report.buckets[-1]
    assert last.fallback_rate == pytest.approx(1 / 7)
    assert last.low_confidence_rate == pytest.approx(2 / 7)
    assert last.heated_share == pytest.approx(3 / 7)
    assert last.anger_turns == 1  # the low-confidence anger is no escalation signal
    assert last.emotions["anger"] == 2
    assert last.replicas == {"web-1": 7}
    assert report.buckets[2].fallback_rate is None
    text = render(report, "text")
    assert "Over time (1h buckets, UTC)" in text
    assert re.search(r"\n2026-11-27 02:00 +0 +- +- +- +0 +- +- +0\n", text)


def test_the_default_bucket_follows_the_span() -> None:
    assert default_bucket(24 * 3600) == 3600
    assert default_bucket(2 * 3600) == 300
    assert default_bucket(7 * 24 * 3600) == 6 * 3600
    assert default_bucket(30 * 24 * 3600) == 24 * 3600
    assert default_bucket(365 * 24 * 3600) == 11 * 24 * 3600
    assert default_bucket(6181 * 24 * 3600) == 172 * 24 * 3600  # whole days past the ladder


@pytest.mark.parametrize("text", ["7m", "0h", "1w", "h", "25h"])
def test_widths_that_do_not_tile_a_day_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a width|divides a day"):
        parse_width(text)


def test_widths_and_bounds_parse() -> None:
    assert [parse_width(w) for w in ("5m", "15m", "1h", "6h", "1d", "2d")] == [
        300,
        900,
        3600,
        21600,
        86400,
        172800,
    ]
    assert parse_bound("2026-11-27") == date(2026, 11, 27)
    assert parse_bound("2026-11-27T14:30") == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert parse_bound("2026-11-27T15:30+01:00") == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert parse_range("2026-11-20..2026-11-26") == (date(2026, 11, 20), date(2026, 11, 26))
    for bad in ("27/11/2026", "2026-11-27T25:00", "9999-12-31", "9999-12-31T20:00-05:00"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_bound(bad)
    with pytest.raises(ValueError, match=r"FROM\.\.TO"):
        parse_range("2026-11-20")
    with pytest.raises(ValueError, match="FROM is not before TO"):
        parse_range("2026-12-07..2026-12-01")


def test_a_stray_day_file_years_old_widens_the_default_buckets(tmp_path: Path) -> None:
    """It must not refuse a width nobody asked for."""
    write(day_file(tmp_path, DAY), [line(T0)])
    write(day_file(tmp_path, date(2010, 1, 5)), [line(datetime(2010, 1, 5, 12, tzinfo=UTC))])
    assert main(["report", "--logs", str(tmp_path)]) == 0


def test_too_many_buckets_is_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for offset in range(12):
        write(day_file(tmp_path, DAY - timedelta(days=offset)), [line(T0)])
    assert MAX_BUCKETS < 12 * 24 * 12
    assert main(["report", "--logs", str(tmp_path), "--bucket", "5m"]) == 1
    assert "more than 3000 buckets" in capsys.readouterr().err


def test_a_time_bound_selects_lines_and_a_date_bound_whole_files(tmp_path: Path) -> None:
    write(day_file(tmp_path, DAY), [line(T0 + timedelta(hours=h)) for h in range(24)])
    assert build_report(tmp_path, since=DAY, until=DAY).total == 24
    afternoon = build_report(
        tmp_path, since=parse_bound("2026-11-27T12:00"), until=parse_bound("2026-11-27T18:00")
    )
    assert afternoon.total == 6  # 12:00 in, 18:00 out
    assert afternoon.files[0].records == 6
    assert render(afternoon, "text").count("2026-11-27T12:00Z .. 2026-11-27T18:00Z") == 1


def test_a_time_given_from_python_in_another_zone_or_naive_is_read_as_utc(tmp_path: Path) -> None:
    write(day_file(tmp_path, DAY), [line(T0 + timedelta(hours=h)) for h in range(24)])
    paris = timezone(timedelta(hours=1))
    zoned = build_report(tmp_path, since=datetime(2026, 11, 27, 13, tzinfo=paris))
    naive = build_report(tmp_path, since=datetime(2026, 11, 27, 12))
    assert zoned.total == naive.total == 12
    assert zoned.since == naive.since == T0 + timedelta(hours=12)
    assert "2026-11-27T12:00Z .. last" in render(zoned, "text")


def test_the_previous_period_of_whole_days(tmp_path: Path) -> None:
    before = [line(T0 - timedelta(days=1, hours=-h)) for h in range(200)]
    after = [fallback(T0 + timedelta(minutes=m)) for m in range(40)]
    after += [line(T0 + timedelta(minutes=m)) for m in range(40, 200)]
    write(day_file(tmp_path, DAY - timedelta(days=1)), before[: 24 * 8])
    write(day_file(tmp_path, DAY), after)
    write(day_file(tmp_path, DAY - timedelta(days=5)), [fallback(T0 - timedelta(days=5))])

    report = build_report(tmp_path, since=DAY)

    comparison = report.comparison
    assert comparison is not None
    assert (comparison.since, comparison.until) == (DAY - timedelta(days=1),) * 2
    assert not comparison.explicit and comparison.files == 1
    assert comparison.total == 24 * 8
    changes = {c.metric: c for c in comparison.changes}
    fallbacks = changes["Fallback rate"]
    assert (fallbacks.current, fallbacks.baseline) == (pytest.approx(0.2), 0.0)
    assert fallbacks.flagged and fallbacks.why is not None and "+20.0 points" in fallbacks.why
    assert not changes["Low-confidence rate"].flagged
    assert [f.day for f in report.files] == [DAY]  # the baseline's files are not the period's
    text = render(report, "text")
    assert "Compared with 2026-11-26 .. 2026-11-26 (the previous period, 192 predictions)" in text
    assert "FLAGGED +20.0 points" in text


def test_a_change_of_a_few_turns_is_not_flagged(tmp_path: Path) -> None:
    write(day_file(tmp_path, DAY - timedelta(days=1)), [line(T0 - timedelta(hours=3))] * 5)
    write(day_file(tmp_path, DAY), [fallback(T0)] + [line(T0)] * 4)
    comparison = build_report(tmp_path, since=DAY).comparison
    assert comparison is not None
    fallbacks = next(c for c in comparison.changes if c.metric == "Fallback rate")
    assert (fallbacks.current, fallbacks.baseline, fallbacks.flagged) == (0.2, 0.0, False)


def test_the_previous_period_of_a_time_range_and_an_explicit_baseline(tmp_path: Path) -> None:
    slow = [line(T0 + timedelta(hours=10, seconds=s), latency_ms=20.0) for s in range(300)]
    fast = [line(T0 + timedelta(hours=8, seconds=s), latency_ms=5.0) for s in range(300)]
    early = [line(T0 + timedelta(hours=1, seconds=s), latency_ms=19.0) for s in range(300)]
    write(day_file(tmp_path, DAY), early + fast + slow)
    since, until = parse_bound("2026-11-27T10:00"), parse_bound("2026-11-27T12:00")

    report = build_report(tmp_path, since=since, until=until)
    assert report.comparison is not None
    assert report.comparison.since == parse_bound("2026-11-27T08:00")
    assert report.comparison.until == since
    latency = {c.metric: c for c in report.comparison.changes}["Latency p50"]
    assert latency.flagged and latency.why == "x4.00"

    given = build_report(
        tmp_path,
        since=since,
        until=until,
        baseline=parse_range("2026-11-27T00:00..2026-11-27T02:00"),
    )
    assert given.comparison is not None and given.comparison.explicit
    assert given.comparison.total == 300
    assert not {c.metric: c for c in given.comparison.changes}["Latency p50"].flagged


def test_without_since_or_a_baseline_there_is_no_comparison_and_it_says_how(logs: Path) -> None:
    report = build_report(logs)
    assert report.comparison is None
    assert "none: give --since" in render(report, "text")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    write(day_file(tmp_path, DAY), [line(T0)])
    return tmp_path


def test_last_seen_and_a_quiet_replica(tmp_path: Path) -> None:
    minutes = range(0, 24 * 60, 2)
    write(day_file(tmp_path / "eu-1", DAY), [line(T0 + timedelta(minutes=m)) for m in minutes])
    stops = [line(T0 + timedelta(minutes=m)) for m in minutes if m < 12 * 60]
    write(day_file(tmp_path / "eu-2", DAY, "web-2"), stops)
    write(day_file(tmp_path / "eu-3", DAY, "web-3"), [line(T0 + timedelta(hours=1))])

    replicas = {r.replica: r for r in build_report(tmp_path).replicas}

    steady, stopped, once = replicas["eu-1/web-1"], replicas["eu-2/web-2"], replicas["eu-3/web-3"]
    assert steady.last_seen == T0 + timedelta(minutes=24 * 60 - 2)
    assert (steady.silent_s, steady.quiet) == (0.0, False)
    assert stopped.last_seen == T0 + timedelta(minutes=12 * 60 - 2)
    assert stopped.silent_s == pytest.approx(12 * 3600)
    assert stopped.quiet
    assert not once.quiet  # one line tells no rate
    text = render(build_report(tmp_path), "text")
    assert re.search(r"\neu-2/web-2 .* 2026-11-27 11:58:00 +12h +QUIET\n", text)


def test_samples_are_the_most_recent_bad_turns_as_logged(tmp_path: Path) -> None:
    low = [
        line(T0 + timedelta(minutes=m), low_confidence=True, confidence=0.2, text=f"low {m}")
        for m in range(15)
    ]
    long_text = "x" * (SAMPLE_TEXT_CHARS + 50)
    bad = [fallback(T0 + timedelta(hours=1), text=long_text)]
    empty = [line(T0 + timedelta(hours=2), route="regex", fallback_reason="empty text", text="")]
    write(day_file(tmp_path, DAY), low + bad + empty)
    report = build_report(tmp_path)

    assert len(report.recent_low_confidence) == SAMPLE_SIZE
    assert [s.text for s in report.recent_low_confidence][:3] == ["low 14", "low 13", "low 12"]
    (sample,) = report.recent_fallbacks  # the empty turn is no fallback sample
    assert sample.text == long_text[:SAMPLE_TEXT_CHARS]
    assert sample.fallback_reason == "encoder failed: RuntimeError"
    assert sample.replica == "web-1"
    text = render(report, "text")
    assert "Recent low-confidence turns" in text and "low 14" in text


def test_a_sample_never_shows_more_than_the_log_kept(tmp_path: Path) -> None:
    """The classifier's own lines: the sample is the logged (redacted, cut) text."""
    logs = tmp_path / "logs"
    turn = "my card 4111 1111 1111 1111 was charged twice and nobody answers my e-mails!!"
    config = AffectConfig(log_dir=logs, log_text_chars=30, low_confidence_threshold=1.0)
    with AffectClassifier(config, encoder=FakeEncoder()) as clf:
        clf.classify(turn)
    (sample,) = build_report(logs).recent_low_confidence
    assert sample.text == "my card <CARD> was charged twi"
    for fmt in ("text", "markdown", "json", "html"):
        assert "4111" not in render(build_report(logs), fmt)  # type: ignore[arg-type]


def test_checks_are_in_the_report_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(day_file(tmp_path, DAY), [fallback(T0), line(T0), line(T0, low_confidence=True)])
    limits = Limits(max_low_confidence_rate=0.5, max_fallback_rate=0.25)
    report = build_report(tmp_path, limits=limits)

    assert [(c.name, c.passed) for c in report.checks] == [
        ("low-confidence rate", True),
        ("fallback rate", False),
    ]
    text = render(report, "text")
    assert re.search(r"\nfallback rate +33.3% +--max-fallback-rate 0.25 +FAILED\n", text)
    assert re.search(r"\nlow-confidence rate +33.3% +--max-low-confidence-rate 0.5 +ok\n", text)
    assert Report.model_validate_json(render(report, "json")) == report
    code = main(["report", "--logs", str(tmp_path), "--max-fallback-rate", "0.25"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "FAILED" in out and "report: fallback rate 0.3333 exceeds the maximum 0.2500" in err
    assert "Checks" not in render(build_report(tmp_path), "text")


def test_lines_off_their_files_day_count_but_fall_in_no_bucket(tmp_path: Path) -> None:
    far = datetime(2031, 1, 1, tzinfo=UTC)
    write(day_file(tmp_path, DAY), [line(T0), line(far), line(far + timedelta(days=300))])
    report = build_report(tmp_path)
    assert (report.total, report.off_day_lines) == (3, 2)
    assert len(report.buckets) == 1
    assert report.replicas[0].last_seen == T0
    assert "Off-day lines            2 (in no time bucket)" in render(report, "text")


@pytest.mark.parametrize(
    "stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00"]
)
def test_a_timestamp_at_the_ends_of_time_is_counted_not_raised(tmp_path: Path, stamp: str) -> None:
    extreme = json.loads(fallback(T0, low_confidence=True)) | {"timestamp": stamp}
    write(day_file(tmp_path, DAY), [line(T0), json.dumps(extreme) + "\n"])
    report = build_report(tmp_path, since=DAY, until=DAY)
    assert (report.total, report.off_day_lines) == (2, 1)
    assert len(report.recent_fallbacks) == len(report.recent_low_confidence) == 1
    assert "Recent fallback turns" in render(report, "text")
    assert report.replicas[0].last_seen == T0


def test_a_period_knows_its_days_and_the_one_before() -> None:
    days = Period(date(2026, 11, 25), date(2026, 11, 27))
    assert days.previous(date(2026, 11, 27)) == Period(date(2026, 11, 22), date(2026, 11, 24))
    open_ended = Period(date(2026, 11, 27), None)
    assert open_ended.previous(date(2026, 11, 28)) == Period(date(2026, 11, 25), date(2026, 11, 26))
    afternoon = Period(parse_bound("2026-11-27T12:00"), None)
    assert afternoon.previous(date(2026, 11, 27)) == Period(
        parse_bound("2026-11-27T00:00"), parse_bound("2026-11-27T12:00")
    )
    assert Period(None, None).holds_day(date(1, 1, 1))
    assert Period(None, None).previous(DAY) is None
    midnight = Period(None, parse_bound("2026-11-28T00:00"))
    assert midnight.holds_day(DAY) and not midnight.holds_day(DAY + timedelta(days=1))


def test_a_day_of_two_replicas_answers_the_nights_questions(tmp_path: Path) -> None:
    """The synthetic incident: when it started, that it is not normal, which replica went quiet,
    what the bad turns look like, which check failed."""
    write_logs(tmp_path, turns_per_day=8_000)
    since, until = parse_bound("2026-11-27T14:00"), parse_bound("2026-11-27T16:00")
    report = build_report(
        tmp_path, since=since, until=until, bucket_s=parse_width("5m"), limits=Limits(None, 0.05)
    )

    onset = next(b for b in report.buckets if (b.fallback_rate or 0) > 0.1)
    assert onset.start == parse_bound("2026-11-27T14:10")
    assert report.comparison is not None
    flagged = {c.metric for c in report.comparison.changes if c.flagged}
    assert {"Fallback rate", "Low-confidence rate", "Anger + frustration"} <= flagged
    assert {s.replica for s in report.recent_fallbacks} == {"eu-2/web-2"}
    assert [c.passed for c in report.checks] == [False]

    day = build_report(tmp_path)
    quiet = {r.replica: r for r in day.replicas}
    assert quiet["eu-2/web-2"].quiet and not quiet["eu-1/web-1"].quiet
    last_seen = quiet["eu-2/web-2"].last_seen
    assert last_seen is not None
    assert last_seen < T0 + timedelta(minutes=INCIDENT_QUIET) <= last_seen + timedelta(minutes=5)


@settings(max_examples=40)
@given(
    seconds=st.lists(st.integers(-2 * 86_400, 3 * 86_400), min_size=1, max_size=60),
    width=st.sampled_from(["5m", "1h", "6h", "1d"]),
    cut=st.integers(1, 86_399),
)
def test_buckets_lines_and_periods_add_up(seconds: list[int], width: str, cut: int) -> None:
    """Every line of the period is in one bucket or off its day; a time inside the file's day
    splits its lines (a time bound picks files by date too, so one at midnight would not)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(day_file(root, DAY), [line(T0 + timedelta(seconds=s)) for s in seconds])
        whole = build_report(root, bucket_s=parse_width(width))
        split = T0 + timedelta(seconds=cut)
        before = build_report(root, until=split)
        after = build_report(root, since=split, until=DAY)

    on_day = [s for s in seconds if 0 <= s < 86_400]
    assert whole.total == len(seconds)
    assert sum(b.n for b in whole.buckets) == len(on_day) == whole.total - whole.off_day_lines
    assert all(b.start.timestamp() % parse_width(width) == 0 for b in whole.buckets)
    assert before.total + after.total == len(seconds)
    assert before.total == sum(s < cut for s in seconds)
    assert after.comparison is not None and after.comparison.total == sum(
        cut - (86_400 - cut) <= s < cut for s in seconds
    )
