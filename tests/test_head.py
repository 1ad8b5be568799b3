"""The linear head: the committed artifacts keep their scores, whatever their file format."""

import json
from collections.abc import Callable
from pathlib import Path

from jeffrey_affect import EMOTIONS, AffectClassifier

Make = Callable[..., AffectClassifier]
COMMITTED_SCORES = Path(__file__).parent / "fixtures" / "committed_scores.json"
"""Router scores of the committed artifacts on hand-written turns (the torch encoder, the default
prior), recorded from linear_head.joblib before the head left pickle."""


def test_committed_artifacts_reproduce_their_recorded_scores(make_classifier: Make) -> None:
    recorded = json.loads(COMMITTED_SCORES.read_text(encoding="utf-8"))
    clf = make_classifier(log_enabled=False)
    assert (clf.model_version, clf.class_prior, clf.encoder.backend) == (  # type: ignore[attr-defined]
        recorded["model_version"],
        recorded["class_prior"],
        recorded["encoder_backend"],
    )
    cases = recorded["cases"]
    assert len(cases) >= 60
    results = clf.classify_batch([case["text"] for case in cases])
    for case, r in zip(cases, results, strict=True):
        assert (r.route, r.emotion) == ("linear_head", case["emotion"]), case["text"]
        assert max(abs(r.scores[e] - case["scores"][e]) for e in EMOTIONS) <= 1e-9, case["text"]
