"""The HTML report: one self-contained page that escapes what the log holds, rendered by a real
headless Chromium without errors."""

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from matplotlib import image

from jeffrey_affect._render import render
from jeffrey_affect._report import Limits, build_report, parse_bound
from jeffrey_affect.cli import main
from tests.synthetic_logs import write_logs

HOSTILE = '<script>document.title="pwned"</script><img src="https://example.com/x.png">&amp;'
"""A logged text (the log keeps what users type) that must stay text on the page."""

PATIENCE_S = 120


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a day of the synthetic incident, with a hostile turn among the fallbacks."""
    root = tmp_path_factory.mktemp("logs")
    (path, *_) = write_logs(root, turns_per_day=4_000)
    bad = {
        "timestamp": "2026-11-27T15:59:59.000000Z",
        "text": HOSTILE,
        "emotion": "anger",
        "confidence": 0.3,
        "route": "regex",
        "fallback_reason": "encoder failed: <b>RuntimeError</b>",
        "latency_ms": 0.1,
        "cache_hit": False,
        "low_confidence": True,
        "model_version": "9f33e774bfcd",
        "class_prior": "tempered",
    }
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(bad) + "\n")
    report = build_report(
        root,
        since=parse_bound("2026-11-27T14:00"),
        until=parse_bound("2026-11-27T16:00"),
        limits=Limits(max_fallback_rate=0.05),
    )
    out = root / "report.html"
    out.write_text(render(report, "html"), encoding="utf-8")
    return out


class _Page(HTMLParser):
    """Tags with their attributes, and the text, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(markup: str) -> _Page:
    page = _Page()
    page.feed(markup)
    return page


def test_the_page_is_self_contained_and_escapes_the_log(page: Path) -> None:
    markup = page.read_text(encoding="utf-8")
    found = parsed(markup)
    tags = [tag for tag, _ in found.tags]

    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    images = [attrs for tag, attrs in found.tags if tag == "img"]
    assert len(images) == 1
    assert all((attrs["src"] or "").startswith("data:image/png;base64,") for attrs in images)
    assert not re.search(r"(?:src|href)=\"(?!data:)", markup)
    assert "url(" not in markup and "@import" not in markup
    text = "".join(found.text)
    assert HOSTILE in text  # as text, escaped in the markup
    assert "encoder failed: <b>RuntimeError</b>" in text
    assert tags.count("table") >= 10
    assert "FAILED" in text and "FLAGGED" in text


def test_the_page_has_no_chart_without_matplotlib_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    write_logs(tmp_path, turns_per_day=200)
    markup = render(build_report(tmp_path), "html")
    assert "<img" not in markup
    assert "No chart: plotting needs matplotlib" in markup


def test_the_cli_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_logs(tmp_path, turns_per_day=200)
    assert main(["report", "--logs", str(tmp_path), "--format", "html"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.skip(
        "no chromium binary on PATH, so the HTML report is not rendered in a browser: "
        "apt-get install chromium (.ci/run does)"
    )


def _run_chromium(*args: str) -> subprocess.CompletedProcess[str]:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",  # as root, as CI runs
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=PATIENCE_S, check=False)


def test_chromium_renders_the_page_without_errors(page: Path, tmp_path: Path) -> None:
    # A copy with a probe that records, once loaded, whether each image decoded, and any error.
    probe = tmp_path / "probe.html"
    script = (
        "<script>window.onerror = (m) => { document.body.dataset.errors += m; };"
        'window.addEventListener("load", () => { document.body.dataset.images = '
        '[...document.images].map(i => i.complete && i.naturalWidth).join(","); });</script>'
    )
    probe.write_text(
        page.read_text(encoding="utf-8").replace("<body>", f'<body data-errors="">{script}', 1),
        encoding="utf-8",
    )
    dumped = _run_chromium("--dump-dom", probe.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    body = next(attrs for tag, attrs in parsed(dumped.stdout).tags if tag == "body")
    assert body["data-images"] == "1500"  # the chart decoded, at its width in pixels
    assert body["data-errors"] == ""
    assert not re.search(r"CONSOLE.*(?:Uncaught|Error)", dumped.stderr)
    found = parsed(dumped.stdout)
    assert HOSTILE in "".join(found.text)
    assert [tag for tag, _ in found.tags].count("script") == 1  # the probe's alone

    shot = tmp_path / "report.png"
    taken = _run_chromium(
        "--hide-scrollbars", "--window-size=1400,2400", f"--screenshot={shot}", page.as_uri()
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    pixels = image.imread(shot)
    assert pixels.shape[:2] == (2400, 1400)
    assert pixels.std() > 0.1  # not a blank page
