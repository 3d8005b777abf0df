"""What the Compare page shows for chosen runs: summaries, curves, confusions, per-class scores and misread digits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from digitlab import data, papers, presets, registry
from digitlab.config import TrainConfig
from digitlab.metrics import misclassified
from digitlab.records import RunRecord

HISTORY_KEYS = ("accuracy", "loss", "val_accuracy", "val_loss")
PREDICT_BATCH = 500  # one fixed batch shape: the XLA-compiled predictor compiles once, memory stays small


def comparable_runs(*, root: Path | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """Names of the runs that can be compared, and (name, reason) for every run or folder skipped."""
    runs, broken = registry.list_runs(root=root)
    names, skipped = [], [(name, f"unreadable: {error}") for name, error in broken]
    for run in runs:
        if run.comparable:
            names.append(run.name)
        else:
            skipped.append((run.name, run.skip_reason))
    return names, sorted(skipped)


def reference_runs(names) -> list[str]:
    """The papers' reference runs among `names`, in the papers' order (the page's default choice)."""
    present = set(names)
    return [name for name in presets.reported() if name in present]


def summary_row(run: registry.RunInfo) -> dict:
    """One run in one flat row: what it is, what it cost, and how well it reads its test set."""
    record = run.record
    test = record.report("test")
    macro = test.get("macro") or {}
    return {
        "run": run.name,
        "arch": record.arch,
        "protocol": record.protocol,
        "status": run.status,
        "params": record.params,
        "epochs": record.epochs_run,
        "train_time_s": record.train_time_s,
        "images_per_s": record.images_per_s,
        "dtype": record.precision,  # the record's "precision" is the arithmetic, e.g. bfloat16
        "accuracy": test.get("accuracy"),
        "macro_precision": macro.get("precision"),
        "macro_recall": macro.get("recall"),
        "macro_f1": macro.get("f1"),
        "test_images": test.get("count"),
        "mnist_test_accuracy": record.mnist_test_accuracy,
    }


def scalar_history(record: RunRecord) -> dict[str, list[float]]:
    """The per-epoch scalar curves of a run's history, without extra keys (e.g. per-epoch matrices)."""
    return {key: record.curve(key) for key in HISTORY_KEYS if isinstance(record.history.get(key), list)}


def most_confused(matrix) -> tuple[int, int] | None:
    """(true, predicted) of the largest off-diagonal cell, the first in reading order on ties; None if no mistake."""
    errors = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(errors, 0)
    if errors.max(initial=0) == 0:
        return None
    true_label, predicted_label = np.unravel_index(int(errors.argmax()), errors.shape)
    return int(true_label), int(predicted_label)


@dataclass(frozen=True)
class Comparison:
    """Everything the Compare page shows about its chosen runs, each list in the order chosen."""

    rows: list[dict]
    histories: dict[str, dict[str, list[float]]]
    confusion_matrices: dict[str, np.ndarray]
    per_class: dict[str, list[dict]]
    reproduction: list[dict]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def compare(names, *, root: Path | None = None) -> Comparison:
    """Gather the chosen runs' summaries, histories, test confusion matrices and per-class reports.

    Names that are missing, unreadable or not comparable are left out and listed in `skipped`.
    """
    runs, skipped = [], []
    for name in dict.fromkeys(names):
        try:
            run = registry.get_run(name, root=root)
        except registry.RegistryError as exc:
            skipped.append((name, str(exc)))
            continue
        if run.comparable:
            runs.append(run)
        else:
            skipped.append((name, run.skip_reason))
    tests = {run.name: run.record.report("test") for run in runs}
    return Comparison(
        rows=[summary_row(run) for run in runs],
        histories={run.name: scalar_history(run.record) for run in runs},
        confusion_matrices={name: np.asarray(test["confusion_matrix"], dtype=np.int64) for name, test in tests.items()},
        per_class={name: test["per_class"] for name, test in tests.items()},
        # Only the reference runs have a paper's figure; a hand-made run without them is simply absent.
        reproduction=papers.reproduction_rows(runs),
        skipped=skipped,
    )


def run_test_set(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """The test images (n, 28, 28, 1) float32 and labels (n,) a run was scored on, rebuilt from its record.

    Paper S runs test on a 2,964-image subset of MNIST's test set, the others on all 10,000;
    the draws are fixed (seed 0), so the same images come back.
    """
    config = record.config or TrainConfig(protocol=record.protocol or "full")
    split = data.load_split(config.protocol, train_size=config.train_size, seed=config.seed)
    return split.x_test, split.y_test


def predict_in_batches(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                       batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """(n, 10) probabilities, `batch_size` images a call; the last batch is padded to the same shape."""
    parts = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        padded = np.concatenate([batch, np.zeros((batch_size - len(batch), *batch.shape[1:]), batch.dtype)])
        parts.append(np.asarray(predict(padded))[:len(batch)])
    return np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)


@dataclass(frozen=True)
class MisreadDigit:
    """One wrongly read test image: the picture, the truth, the answer and the top-3 probabilities."""

    index: int  # position in the run's test set
    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black
    true_label: int
    predicted_label: int
    top: list[tuple[int, float]]

    @property
    def confidence(self) -> float:
        return self.top[0][1]

    @property
    def caption(self) -> str:
        """e.g. "true 4 → read 9 (87 %), then 4 (12 %)"."""
        (first, p_first), *rest = self.top
        text = f"true {self.true_label} → read {first} ({share(p_first)})"
        if rest:
            second, p_second = rest[0]
            text += f", then {second} ({share(p_second)})"
        return text


def share(probability: float) -> str:
    """A probability as a short percentage that never rounds a near-certainty to 100 % or a trace to 0 %."""
    value = 100 * float(probability)
    if value < 0.05:
        text = "<0.1"
    elif value >= 99.95:
        text = "100" if probability >= 1 else ">99.9"
    else:
        text = f"{value:.1f}" if value < 1 or value > 99 else f"{value:.0f}"
    return text + "\u00a0%"  # a no-break space: a caption never wraps between the number and its %


def misclassified_examples(name: str, true_label: int | None = None, predicted_label: int | None = None,
                           limit: int | None = 24, *, root: Path | None = None,
                           predict: Callable[[np.ndarray], np.ndarray] | None = None) -> list[MisreadDigit]:
    """The run's wrongly read test images, most confident mistakes first (the hardest digits).

    `true_label` and `predicted_label` keep one cell of the confusion matrix; `limit` keeps
    the first few (None: all). The model reads its own run's test set again, through
    `predict` ((n, 28, 28, 1) -> (n, 10)) when given, else an XLA-compiled Predictor.
    """
    run = registry.get_run(name, root=root)
    if not run.comparable:
        raise registry.RegistryError(f"run {run.name!r} cannot be compared ({run.skip_reason})")
    if predict is None:
        from digitlab.inference import Predictor  # TensorFlow: only when a model must read

        predict = Predictor.load(run.name, root=root).predict
    images, labels = run_test_set(run.record)
    probabilities = predict_in_batches(predict, images)
    found = [
        MisreadDigit(row["index"], images[row["index"], ..., 0], row["true"], row["predicted"], row["top"])
        for row in misclassified(labels, probabilities, top=3)
    ]
    return pick(found, true_label, predicted_label, limit)


def pick(examples: list[MisreadDigit], true_label: int | None = None, predicted_label: int | None = None,
         limit: int | None = None) -> list[MisreadDigit]:
    """The examples of one confusion-matrix cell (either label may be None: any), the first `limit`."""
    chosen = [e for e in examples
              if (true_label is None or e.true_label == true_label)
              and (predicted_label is None or e.predicted_label == predicted_label)]
    return chosen if limit is None else chosen[:limit]
