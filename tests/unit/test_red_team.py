"""The red-team table (``tests/red_team.py``) through the real logging path: no secret reaches the
prediction log file, and content-capturing spans carry exactly what the log keeps."""

import json
from collections import Counter

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig
from jeffrey_affect._telemetry import TEXT, Telemetry
from tests.helpers import RaisingEncoder, made_result
from tests.red_team import CASES, Case, leaked

CHARS = 1000  # every turn whole: what hides a secret must be redaction, not the cut


def test_the_table_covers_every_kind_with_secrets_that_show_unredacted() -> None:
    kinds = Counter(case.kind for case in CASES)
    assert len(CASES) >= 150 and len(kinds) >= 15 and min(kinds.values()) >= 4
    assert [case for case in CASES if not leaked(case.secret, case.turn)] == []


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each turn's text in the prediction log file, by turn."""
    log_dir = tmp_path_factory.mktemp("red-team")
    config = AffectConfig(log_dir=log_dir, log_text_chars=CHARS, cache_size=0)
    with AffectClassifier(config, encoder=RaisingEncoder()) as clf:
        for case in CASES:
            clf.classify(case.turn)
    [day_file] = log_dir.glob("predictions_*.jsonl")
    texts = [json.loads(line)["text"] for line in day_file.read_text("utf-8").splitlines()]
    assert len(texts) == len(CASES)
    return {case.turn: text for case, text in zip(CASES, texts, strict=True)}


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.kind}: {case.turn[:30]}")
def test_no_secret_reaches_the_prediction_log(logged: dict[str, str], case: Case) -> None:
    assert leaked(case.secret, logged[case.turn]) == [], logged[case.turn]


def test_content_capturing_spans_carry_what_the_log_keeps(logged: dict[str, str]) -> None:
    telemetry = Telemetry(
        AffectConfig(telemetry_capture_content=True, log_text_chars=CHARS), "test"
    )
    captured = {case.turn: telemetry._turn(made_result("anger"), case.turn)[TEXT] for case in CASES}
    assert captured == logged
