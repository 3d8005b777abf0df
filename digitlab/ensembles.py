"""Readers built from Predictors: test-time augmentation and ensembles, each measured in the README."""

from __future__ import annotations

import cv2
import numpy as np

# Small moves a writer's hand makes anyway: one-pixel shifts and slight rotations.
TTA_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))
TTA_ROTATIONS = (-8.0, 8.0)


def tta_variants(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1] -> (n, k, 28, 28) float32: each image, shifted and rotated a little."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    variants = []
    for dx, dy in TTA_SHIFTS:
        variants.append(np.roll(images, (dy, dx), axis=(1, 2)))
    for angle in TTA_ROTATIONS:
        matrix = cv2.getRotationMatrix2D((13.5, 13.5), angle, 1.0)
        variants.append(np.stack([cv2.warpAffine(image, matrix, (28, 28), flags=cv2.INTER_LINEAR)
                                  for image in images]))
    return np.stack(variants, axis=1)


class TTAReader:
    """A predictor that averages its base predictor's probabilities over `tta_variants`."""

    def __init__(self, base):
        self.base = base
        self.name = f"{base.name}+tta"

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28[, 1]) float32 in [0, 1] -> (n, 10) float32 probabilities."""
        variants = tta_variants(images)
        n, k = variants.shape[:2]
        probabilities = self.base.predict(variants.reshape(n * k, 28, 28))
        return probabilities.reshape(n, k, -1).mean(axis=1)


class Ensemble:
    """A predictor that averages the probabilities of several predictors, equally or by `weights`."""

    def __init__(self, members, weights=None):
        if not members:
            raise ValueError("an ensemble needs at least one model")
        self.members = list(members)
        if weights is None:
            weights = [1.0] * len(self.members)
        if len(weights) != len(self.members) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("one weight of at least 0 per model is needed, not all 0")
        self.weights = [float(w) / sum(weights) for w in weights]
        equal = len(set(self.weights)) == 1
        self.name = "+".join(member.name if equal else f"{w:g}x{member.name}"
                             for member, w in zip(self.members, self.weights))

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28[, 1]) float32 in [0, 1] -> (n, 10) float32 probabilities."""
        return sum(w * member.predict(images) for member, w in zip(self.members, self.weights))
