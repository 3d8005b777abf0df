"""MNIST loading and the data protocols of both papers (paper-h, paper-s) and our own (full, all)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "DIGITLAB_MNIST"
# Measuring sets (realistic pictures, outside writers' digits), never trained on: made by tests/realistic/make_sets.py.
REALISTIC_SETS = Path(__file__).resolve().parent.parent / "tests" / "realistic"
CLASSROOM_PROTOCOLS = ("paper-h", "paper-s", "full")  # offered on the Train page
# `all` holds nothing out to validate on, so no epoch can be chosen by it: for a recipe already fixed.
PROTOCOLS = CLASSROOM_PROTOCOLS + ("all",)

# Paper S: a 14,843-image MNIST subset, 11,879 train / 2,964 test.
PAPER_S_TRAIN = 11_879
PAPER_S_TEST = 2_964
# Paper H: 55,000 train / 5,000 validation / 10,000 test (TensorFlow's classic split).
PAPER_H_VALIDATION = 5_000
# Validation slice of the training part where a protocol does not fix one.
VALIDATION_FRACTION = 0.1


class DataUnavailableError(RuntimeError):
    """MNIST could not be found or downloaded; the message says how to provide it."""


@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays of one protocol.

    Images are (n, 28, 28, 1) float32 in [0, 1]; labels are (n,) int64 in 0..9.
    """

    protocol: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def load_mnist(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (x_train, y_train, x_test, y_test) as in `keras.datasets.mnist.load_data()`.

    x_* are (n, 28, 28) uint8, white ink on black; y_* are (n,) uint8.
    The file comes from `path`, else `$DIGITLAB_MNIST`, else Keras (its cache or a download).
    """
    path = path or os.environ.get(ENV_VAR)
    if path:
        path = Path(path)
        if not path.is_file():
            raise DataUnavailableError(f"MNIST file not found: {path} (check ${ENV_VAR})")
        try:
            with np.load(path) as f:
                return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
        except (OSError, KeyError, ValueError) as exc:
            raise DataUnavailableError(f"{path} is not an MNIST .npz file ({exc})") from None
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # urllib, SSL, HTTP and partial-file errors all end here
        raise DataUnavailableError(
            "MNIST is not in the Keras cache and could not be downloaded "
            f"({type(exc).__name__}); set {ENV_VAR}=/path/to/mnist.npz"
        ) from None
    return x_train, y_train, x_test, y_test


def stratified_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Pick `n` indices of `labels` keeping the class proportions, reproducibly for `seed`.

    Returned sorted, so the chosen images keep the order of the source file.
    """
    if not 0 < n <= len(labels):
        raise ValueError(f"cannot draw {n} images from {len(labels)}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / len(labels)
    take = np.floor(quota).astype(int)
    # Largest remainders get the images left over by rounding down.
    for i in np.argsort(take - quota)[: n - take.sum()]:
        take[i] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), size=k, replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen))


def _split_off_validation(x, y, fraction: float, seed: int):
    val_idx = stratified_indices(y, max(1, round(len(y) * fraction)), seed)
    mask = np.zeros(len(y), bool)
    mask[val_idx] = True
    return x[~mask], y[~mask], x[mask], y[mask]


def to_model_input(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 -> (n, 28, 28, 1) float32 in [0, 1]."""
    return (images.astype(np.float32) / 255.0)[..., None]


def load_split(protocol: str, *, train_size: int | None = None, seed: int = 0, path=None) -> Split:
    """Build the arrays of a data protocol.

    - `paper-h`: the first 5,000 MNIST training images validate, the other 55,000 train;
      the 10,000 MNIST test images test (Paper H).
    - `paper-s`: 11,879 training images drawn stratified from MNIST's training set and
      2,964 test images drawn stratified from MNIST's test set (Paper S's sizes, with
      writers kept apart as MNIST keeps them); 10 % of the training part validates.
    - `full`: all 60,000 training images, 10 % of them validating; the 10,000 test images.
    - `all`: all 60,000 training images train, those 10 % included; they still report each
      epoch as `full`'s validation part, but seen in training they are no held-out check.

    `train_size` then keeps a stratified subset of the training part (quick classroom runs),
    and the validation part shrinks to match (`planned_sizes` says how far): validating
    6,000 images after every epoch of 1,000 would take most of a classroom run's time.
    The subset draws use seed 0 so that every run of a protocol sees the same data;
    `seed` only picks the `train_size` subset.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    x_train, y_train, x_test, y_test = load_mnist(path)
    if protocol == "paper-h":
        x_val, y_val = x_train[:PAPER_H_VALIDATION], y_train[:PAPER_H_VALIDATION]
        x_train, y_train = x_train[PAPER_H_VALIDATION:], y_train[PAPER_H_VALIDATION:]
    elif protocol == "paper-s":
        train_idx = stratified_indices(y_train, PAPER_S_TRAIN, seed=0)
        test_idx = stratified_indices(y_test, PAPER_S_TEST, seed=0)
        x_train, y_train = x_train[train_idx], y_train[train_idx]
        x_test, y_test = x_test[test_idx], y_test[test_idx]
        x_train, y_train, x_val, y_val = _split_off_validation(x_train, y_train, VALIDATION_FRACTION, seed=0)
    elif protocol == "full":
        x_train, y_train, x_val, y_val = _split_off_validation(x_train, y_train, VALIDATION_FRACTION, seed=0)
    else:
        _, _, x_val, y_val = _split_off_validation(x_train, y_train, VALIDATION_FRACTION, seed=0)
    if train_size is not None and train_size < len(y_train):
        keep = stratified_indices(y_train, train_size, seed)
        x_train, y_train = x_train[keep], y_train[keep]
        val_size = planned_sizes(protocol, train_size)["validation"]
        if val_size < len(y_val):
            keep = stratified_indices(y_val, val_size, seed=0)
            x_val, y_val = x_val[keep], y_val[keep]
    return Split(
        protocol=protocol,
        x_train=to_model_input(x_train),
        y_train=y_train.astype(np.int64),
        x_val=to_model_input(x_val),
        y_val=y_val.astype(np.int64),
        x_test=to_model_input(x_test),
        y_test=y_test.astype(np.int64),
    )


FULL_SIZES = {
    "paper-h": {"train": 60_000 - PAPER_H_VALIDATION, "validation": PAPER_H_VALIDATION, "test": 10_000},
    "paper-s": {"train": PAPER_S_TRAIN - round(PAPER_S_TRAIN * VALIDATION_FRACTION),
                "validation": round(PAPER_S_TRAIN * VALIDATION_FRACTION), "test": PAPER_S_TEST},
    "full": {"train": 54_000, "validation": 6_000, "test": 10_000},
    "all": {"train": 60_000, "validation": 6_000, "test": 10_000},
}
# A reduced training set validates on this share of its size, and at least this many images.
SMALL_VALIDATION_SHARE = 0.2
SMALL_VALIDATION_MIN = 1_000


def planned_sizes(protocol: str, train_size: int | None = None) -> dict:
    """Image counts `load_split` will give, without loading anything (for time estimates)."""
    sizes = dict(FULL_SIZES[protocol])
    if train_size is not None and train_size < sizes["train"]:
        sizes["train"] = train_size
        sizes["validation"] = min(sizes["validation"],
                                  max(SMALL_VALIDATION_MIN, round(train_size * SMALL_VALIDATION_SHARE)))
    return sizes


def mnist_test_set(path=None) -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 MNIST test images: (10000, 28, 28, 1) float32 in [0, 1] and (10000,) int64."""
    _, _, x_test, y_test = load_mnist(path)
    return to_model_input(x_test), y_test.astype(np.int64)
