"""The prediction log: one JSON line per classification in a UTC day-file, PII redacted first."""

import contextlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from jeffrey_affect._redact import redact
from jeffrey_affect._result import AffectResult


class PredictionLog:
    """Appends to ``<directory>/predictions_YYYY-MM-DD.jsonl``; a failed write is counted.

    Each line goes out in one ``write`` on an ``O_APPEND`` descriptor under a lock, so lines never
    interleave, across threads or processes. The file is opened per line: a removed or read-only
    directory shows up at once as a counted failure, and logging resumes when it is back.
    """

    def __init__(self, directory: Path, text_chars: int) -> None:
        self.directory = directory
        self.text_chars = text_chars
        self.failures = 0
        self._lock = threading.Lock()
        with contextlib.suppress(OSError):  # counted on the first write instead
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def line(self, result: AffectResult, text: str, now: datetime) -> str:
        record = {
            "timestamp": now.isoformat(),
            "text": redact(text)[: self.text_chars] if self.text_chars else "",
            **result.model_dump(include=_LOGGED_FIELDS),
        }
        return json.dumps(record, ensure_ascii=False) + "\n"

    def write(self, result: AffectResult, text: str) -> bool:
        now = datetime.now(UTC)
        data = self.line(result, text, now).encode("utf-8")
        path = self.directory / f"predictions_{now:%Y-%m-%d}.jsonl"
        with self._lock:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    written = os.write(fd, data)
                finally:
                    os.close(fd)
                if written == len(data):
                    return True
            except OSError:
                pass
            self.failures += 1
            return False


_LOGGED_FIELDS = {
    "emotion",
    "confidence",
    "route",
    "fallback_reason",
    "latency_ms",
    "cache_hit",
    "low_confidence",
    "model_version",
    "class_prior",
}
