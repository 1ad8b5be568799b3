"""Fault injection for the Ray tests, run in every Ray worker process as it starts."""

import os

from jeffrey_affect import AffectClassifier

MARKER = "JEFFREY_AFFECT_TEST_CRASH_MARKER"
"""The file whose creation elects the one call that crashes: the first, across all workers."""


def crash_first_classify_batch() -> None:
    """The first ``classify_batch`` in the cluster kills its worker process, as an OOM kill or a
    lost node would; Ray restarts the worker and retries the task. Later calls run as usual."""
    marker = os.environ.get(MARKER)
    if marker is None:
        return
    original = AffectClassifier.classify_batch

    def classify_batch(self: AffectClassifier, texts: list[str]) -> object:
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return original(self, texts)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os._exit(1)

    AffectClassifier.classify_batch = classify_batch  # type: ignore[method-assign,assignment]
