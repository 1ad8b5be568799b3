"""The committed artifacts stay small enough to live in the repository and the wheel."""

from jeffrey_affect._artifacts import bundled_artifacts_dir

MAX_BYTES = 5 * 2**20


def test_every_committed_model_file_is_under_5_mib() -> None:
    files = [path for path in bundled_artifacts_dir().rglob("*") if path.is_file()]
    assert len(files) >= 8
    sizes = {path.name: path.stat().st_size for path in files}
    assert max(sizes.values()) <= MAX_BYTES, sizes
