"""The release gate on the committed artifacts, and on an artifact made to miss."""

import json
import shutil
from pathlib import Path

import pytest

from jeffrey_affect._artifacts import MANIFEST_FILE, bundled_artifacts_dir
from jeffrey_affect._validate import (
    BRIGHTER_TARGETS,
    UNSUPPORTED_SET,
    default_chat_sets,
    default_language_sets,
)
from jeffrey_affect.cli import main
from tests.helpers import BRIGHTER


def run_validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["validate", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_validate_reports_every_check_and_writes_the_report(
    goemotions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_validate(
        capsys,
        "--data",
        str(goemotions),
        "--report-dir",
        str(tmp_path),
        "--cache-dir",
        str(tmp_path),
    )
    checks = {c["name"]: c for c in out["checks"]}  # type: ignore[attr-defined]
    # GoEmotions 6, each chat set 3, situations 1, hard turns' 4 kinds and their celebrations 1,
    # each language's chat set 3 and the unsupported set 1, BRIGHTER's languages where it lies
    # beside the checkout, the artifacts 3
    languages = default_language_sets()
    brighter = len(BRIGHTER_TARGETS) if BRIGHTER.is_dir() else 0
    assert len(languages) == 7
    assert len(checks) == 6 + 3 * len(default_chat_sets()) + 1 + 4 + 1 + 3 * 6 + 1 + brighter + 3
    assert checks[f"flagged as unsupported, {UNSUPPORTED_SET}"]["passed"]
    assert code == (0 if all(c["passed"] for c in checks.values()) else 1)
    for name in (
        "fallback available (prototypes load, match encoder)",
        "real-data training (manifest sha256 = GoEmotions files)",
        "encoder alignment (manifest = running encoder)",
    ):
        assert checks[name]["passed"], name
    report = Path(str(out["report"]))
    text = report.read_text()
    assert "## Confusion matrix: router, GoEmotions test, prior=train" in text
    assert text.count("| frustration |") >= 6  # per-class rows for each route, and the matrices
    png = report.with_name(report.stem + "-confusion.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validate_fails_on_artifacts_trained_on_other_data(
    goemotions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = tmp_path / "artifacts"
    shutil.copytree(bundled_artifacts_dir(), artifacts)
    manifest = json.loads((artifacts / MANIFEST_FILE).read_text())
    manifest["data_sha256"]["goemotions/train.tsv"] = "0" * 64
    (artifacts / MANIFEST_FILE).write_text(json.dumps(manifest))
    (artifacts / "prototypes.npz").unlink()
    # every turn labelled neutral: accuracy falls to the share the router calls neutral
    chat = tmp_path / "my_chat.tsv"
    chat.write_text(
        "".join(f"neutral\t{t}\n" for t in ["I LOVE THIS!!!", "ugh, broken AGAIN", "ok"])
    )
    code, out = run_validate(
        capsys,
        "--chat-set",
        str(chat),
        "--data",
        str(goemotions),
        "--artifacts",
        str(artifacts),
        "--report-dir",
        str(tmp_path),
        "--cache-dir",
        str(tmp_path),
    )
    failed = {c["name"] for c in out["checks"] if not c["passed"]}  # type: ignore[attr-defined]
    assert code == 1
    assert "real-data training (manifest sha256 = GoEmotions files)" in failed
    assert "fallback available (prototypes load, match encoder)" in failed
    assert "prototypes macro-F1, GoEmotions test, prior=train" in failed
    assert "router accuracy, chat set my_chat.tsv, default prior" in failed
