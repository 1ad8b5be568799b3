"""Trained artifacts on disk, and the guards that keep a mismatched encoder away from them."""

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
from pydantic import BaseModel, ValidationError

from jeffrey_affect._encoder import Encoder, adapter_digest
from jeffrey_affect._head import LinearHead
from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._prototypes import Prototypes

HEAD_FILE = "linear_head.joblib"
ADAPTER_DIR = "encoder_adapter"
"""peft's ``adapter_config.json`` and ``adapter_model.safetensors`` for the encoder."""
PROTOTYPES_FILE = "prototypes.npz"
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


class Manifest(BaseModel):
    """What made the artifacts; ``config_hash`` is the sha256 of the rest as canonical JSON.

    ``mapping`` and ``xed_mapping`` say which corpus labels became each of ours.
    ``train_class_counts`` are GoEmotions train's: the prior the calibrated head reports under
    ``class_prior="train"``. ``source_counts`` are the items fitted from each corpus.
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
    config_hash: str = ""

    def compute_hash(self) -> str:
        body = self.model_dump(exclude={"config_hash"})
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
    name = getattr(encoder, "name", None)
    if name is not None and name != manifest.encoder.name:
        return f"encoder mismatch: artifacts trained with {manifest.encoder.name}, running {name}"
    prefix = getattr(encoder, "prefix", None)
    if prefix is not None and prefix != manifest.encoder.prefix:
        return f"encoder mismatch: artifacts trained with prefix {manifest.encoder.prefix!r}"
    if hasattr(encoder, "adapter_sha256"):
        running: str | None = encoder.adapter_sha256
        trained = manifest.encoder.adapter_sha256
        if running != trained:
            return (
                f"encoder mismatch: artifacts trained with adapter {(trained or 'none')[:12]}, "
                f"running {(running or 'none')[:12]}"
            )
    if not dimension == manifest.encoder.dimension == encoder.dimension:
        return (
            f"dimension mismatch: artifact {dimension}, manifest {manifest.encoder.dimension}, "
            f"encoder {encoder.dimension}"
        )
    return None


def artifact_adapter(directory: Path, encoder_model: str) -> Path | None:
    """The encoder adapter the manifest in ``directory`` records for ``encoder_model``, if its
    files hash to what the manifest says.

    A missing or altered adapter is not applied: the guards then send the model routes' work to
    the regex route, with the reason.
    """
    try:
        manifest = Manifest.model_validate_json((directory / MANIFEST_FILE).read_bytes())
    except (OSError, ValidationError, ValueError):
        return None  # load_artifacts reports it
    expected = manifest.encoder.adapter_sha256
    adapter = directory / ADAPTER_DIR
    if expected is None or manifest.encoder.name != encoder_model:
        return None
    try:
        found = adapter_digest(adapter)
    except OSError as exc:
        logger.warning("encoder adapter unreadable in %s: %s", directory, type(exc).__name__)
        return None
    if found != expected:
        logger.warning("encoder adapter in %s does not match its manifest's sha256", directory)
        return None
    return adapter


def load_artifacts(directory: Path, encoder: Encoder) -> Artifacts:
    """Load what can; a missing, corrupt or mismatched file becomes a reason, not a crash."""
    try:
        manifest = Manifest.model_validate_json((directory / MANIFEST_FILE).read_bytes())
    except (OSError, ValidationError, ValueError) as exc:
        reason = f"{MANIFEST_FILE} unreadable in {directory}: {type(exc).__name__}"
        logger.warning("%s; only the regex route will serve", reason)
        return Artifacts(None, None, None, reason, reason)
    if manifest.labels != list(EMOTIONS):
        reason = f"{MANIFEST_FILE} labels {manifest.labels} are not {list(EMOTIONS)}"
        logger.warning("%s; only the regex route will serve", reason)
        return Artifacts(None, None, None, reason, reason)

    head: LinearHead | None = None
    head_problem: str | None
    try:
        loaded = joblib.load(directory / HEAD_FILE)
        if not isinstance(loaded, LinearHead):
            raise TypeError(f"holds a {type(loaded).__name__}, not a LinearHead")
        head_problem = encoder_problem(manifest, encoder, loaded.dimension_)
        head = None if head_problem else loaded
    except Exception as exc:  # a corrupt pickle can raise nearly anything
        head_problem = f"{HEAD_FILE} unreadable: {type(exc).__name__}: {exc}"[:200]

    prototypes: Prototypes | None = None
    prototypes_problem: str | None
    try:
        loaded_prototypes = Prototypes.load(directory / PROTOTYPES_FILE)
        prototypes_problem = encoder_problem(manifest, encoder, loaded_prototypes.dimension)
        prototypes = None if prototypes_problem else loaded_prototypes
    except Exception as exc:  # zip and numpy errors of many kinds
        prototypes_problem = f"{PROTOTYPES_FILE} unreadable: {type(exc).__name__}: {exc}"[:200]

    for problem in (head_problem, prototypes_problem):
        if problem:
            logger.warning("%s (in %s)", problem, directory)
    return Artifacts(manifest, head, prototypes, head_problem, prototypes_problem)
