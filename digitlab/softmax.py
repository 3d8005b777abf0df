"""Softmax step by step: logits, divided by a temperature, exponentiated, normalised to probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SoftmaxSteps:
    """Each stage of softmax(z / T) for one (10,) vector of logits."""

    logits: np.ndarray  # (10,) float64, the last layer's raw scores z
    temperature: float  # T: above 1 flattens the probabilities, below 1 sharpens them
    scaled: np.ndarray  # (10,) z / T
    exps: np.ndarray  # (10,) exp(z/T − max(z/T)): subtracting the largest changes nothing and keeps numbers small
    total: float  # the sum of `exps`
    probabilities: np.ndarray  # (10,) exps / total


def softmax_steps(logits: np.ndarray, temperature: float = 1.0) -> SoftmaxSteps:
    """softmax(logits / temperature) with every intermediate kept; temperature must be > 0."""
    if not temperature > 0:
        raise ValueError(f"temperature must be above 0, not {temperature}")
    logits = np.asarray(logits, np.float64).reshape(-1)
    scaled = logits / temperature
    exps = np.exp(scaled - scaled.max())
    total = float(exps.sum())
    return SoftmaxSteps(logits, float(temperature), scaled, exps, total, exps / total)
