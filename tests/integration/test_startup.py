"""Start-up reads the artifacts once: one parse of the manifest, one hash of the adapter."""

from collections import Counter
from pathlib import Path

import pytest

from jeffrey_affect import AffectClassifier, AffectConfig
from jeffrey_affect._artifacts import ADAPTER_DIR, MANIFEST_FILE, bundled_artifacts_dir
from jeffrey_affect._encoders.base import ADAPTER_FILES


def test_the_default_classifier_reads_the_manifest_and_the_adapter_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    artifacts = bundled_artifacts_dir()
    watched = {artifacts / MANIFEST_FILE, *(artifacts / ADAPTER_DIR / f for f in ADAPTER_FILES)}
    reads: Counter[str] = Counter()
    read_bytes = Path.read_bytes

    def counted(path: Path) -> bytes:
        if path in watched:
            reads[path.name] += 1
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", counted)
    clf = AffectClassifier(AffectConfig(log_enabled=False))
    assert reads == {name: 1 for name in (MANIFEST_FILE, *ADAPTER_FILES)}
    manifest = clf.artifacts.manifest
    assert manifest is not None
    assert getattr(clf.encoder, "adapter_sha256", None) == manifest.encoder.adapter_sha256
    assert clf.classify("the app crashed again, I'm so done").route == "linear_head"
