"""Ways to change a 28×28 digit on purpose (shift, rotate, scale, thicken, noise, erase), to see what breaks a model."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIDE = 28

# name -> (slider range, step, unit, value that changes nothing); each sweep runs over the range.
CHANGES: dict[str, tuple[float, float, float, str, float]] = {
    "shift right": (-8, 8, 1, "px", 0),
    "shift down": (-8, 8, 1, "px", 0),
    "rotate": (-60, 60, 5, "°", 0),
    "scale": (0.4, 1.6, 0.1, "×", 1),
    "thicken": (-2, 3, 1, "px (negative thins)", 0),
    "noise": (0, 0.6, 0.05, "std of added noise", 0),
    "erase": (0, 14, 1, "px square erased at the centre", 0),
}


@dataclass(frozen=True)
class Change:
    """One change and its amount, e.g. Change("rotate", 30)."""

    kind: str
    amount: float

    def __post_init__(self):
        if self.kind not in CHANGES:
            raise ValueError(f"unknown change {self.kind!r}; choose one of {', '.join(CHANGES)}")


def apply(image: np.ndarray, changes: list[Change] | tuple[Change, ...], *, seed: int = 0) -> np.ndarray:
    """(28, 28) float32 in [0, 1] with each change applied in order -> (28, 28) float32 in [0, 1]."""
    out = np.asarray(image, np.float32).copy()
    for change in changes:
        out = _ONE[change.kind](out, change.amount, seed)
    return np.clip(out, 0, 1).astype(np.float32)


def sweep(image: np.ndarray, kind: str, *, points: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The amounts of `kind` over its whole range and the (n, 28, 28) float32 images each gives."""
    low, high, step, _, _ = CHANGES[kind]
    amounts = np.arange(low, high + step / 2, step) if points is None else np.linspace(low, high, points)
    return amounts, np.stack([apply(image, [Change(kind, float(a))], seed=seed) for a in amounts])


def _affine(image, matrix):
    return cv2.warpAffine(image, matrix, (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderValue=0)


def _shift(dx: float, dy: float):
    return lambda image: _affine(image, np.float32([[1, 0, dx], [0, 1, dy]]))


def _thicken(image, pixels, _seed):
    pixels = int(round(pixels))
    if pixels == 0:
        return image
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(pixels) + 1,) * 2)
    return cv2.dilate(image, kernel) if pixels > 0 else cv2.erode(image, kernel)


def _noise(image, std, seed):
    # Noise with a fixed seed: moving the slider back shows the same picture again.
    return image + np.random.default_rng(seed).normal(0, std, image.shape).astype(np.float32)


def _erase(image, side, _seed):
    side = int(round(side))
    out = image.copy()
    start = (SIDE - side) // 2
    out[start:start + side, start:start + side] = 0
    return out


_ONE = {
    "shift right": lambda image, amount, _seed: _shift(amount, 0)(image),
    "shift down": lambda image, amount, _seed: _shift(0, amount)(image),
    "rotate": lambda image, amount, _seed: _affine(image, cv2.getRotationMatrix2D((13.5, 13.5), -amount, 1.0)),
    "scale": lambda image, amount, _seed: _affine(image, cv2.getRotationMatrix2D((13.5, 13.5), 0, amount)),
    "thicken": _thicken,
    "noise": _noise,
    "erase": _erase,
}
