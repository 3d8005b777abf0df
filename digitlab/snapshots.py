"""Per-epoch snapshots of a training run (first-layer filters, readings of a fixed probe set) for the Learn page's replay.

Keras' own callbacks save whole models (ModelCheckpoint: megabytes per epoch) or scalars
(History); a replay needs a few kB per epoch of exactly what a class looks at, hence this
callback. It keeps the snapshots in memory and `save` writes them into the run folder once
the run is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

SNAPSHOT_FILE = "snapshots.npz"
PROBE_PER_DIGIT = 2  # the probe set: the first two test images of each digit, 20 in all


def probe_indices(labels: np.ndarray, per_digit: int = PROBE_PER_DIGIT) -> np.ndarray:
    """Indices of the first `per_digit` images of each digit 0–9, digit by digit: a fixed, balanced probe set."""
    labels = np.asarray(labels)
    return np.concatenate([np.flatnonzero(labels == d)[:per_digit] for d in range(10)])


class EpochSnapshots(keras.callbacks.Callback):
    """Before training and after every epoch: conv1's kernel (k, k, 1, filters) and the probe set's (n, 10)
    probabilities, as float16."""

    def __init__(self, probe_images: np.ndarray, probe_labels: np.ndarray):
        super().__init__()
        self.probe_images = np.asarray(probe_images, np.float32).reshape(-1, 28, 28, 1)
        self.probe_labels = np.asarray(probe_labels, np.int64)
        self.filters: list[np.ndarray] = []
        self.probabilities: list[np.ndarray] = []

    @classmethod
    def from_test_set(cls, images: np.ndarray, labels: np.ndarray) -> "EpochSnapshots":
        index = probe_indices(labels)
        return cls(images[index], labels[index])

    def _first_kernel(self) -> np.ndarray:
        return np.asarray(self.model.get_layer("conv1").kernel.numpy(), np.float16)

    def _snapshot(self) -> None:
        self.filters.append(self._first_kernel())
        self.probabilities.append(np.asarray(self.model(self.probe_images, training=False), np.float16))

    def on_train_begin(self, logs=None):
        self._snapshot()  # epoch 0: the random start

    def on_epoch_end(self, epoch, logs=None):
        self._snapshot()

    def save(self, run_folder: Path) -> Path | None:
        """Write snapshots.npz into `run_folder` (nothing when no epoch finished); returns its path."""
        if len(self.filters) < 2:
            return None
        path = Path(run_folder) / SNAPSHOT_FILE
        np.savez_compressed(
            path, filters=np.stack(self.filters),
            probabilities=np.stack(self.probabilities), probe_images=(self.probe_images[..., 0] * 255).astype(np.uint8),
            probe_labels=self.probe_labels,
        )
        return path


@dataclass(frozen=True)
class Replay:
    """A run's snapshots as stored: epoch 0 is the random start, epoch e the end of epoch e."""

    filters: np.ndarray  # (epochs + 1, k, k, 1, filters) float32
    probabilities: np.ndarray  # (epochs + 1, n, 10) float32, the probe set's readings at each snapshot
    probe_images: np.ndarray  # (n, 28, 28) float32 in [0, 1]
    probe_labels: np.ndarray  # (n,) int64

    @property
    def epochs(self) -> int:
        return len(self.probabilities) - 1

    def probe_accuracy(self) -> np.ndarray:
        """(epochs + 1,) share of probe digits read right at the start and after each epoch."""
        return (self.probabilities.argmax(axis=2) == self.probe_labels[None]).mean(axis=1)


def load_replay(run_folder: Path) -> Replay | None:
    """The run's snapshots, or None for runs trained before snapshots existed."""
    path = Path(run_folder) / SNAPSHOT_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return Replay(data["filters"].astype(np.float32), data["probabilities"].astype(np.float32),
                      data["probe_images"].astype(np.float32) / 255, data["probe_labels"].astype(np.int64))
