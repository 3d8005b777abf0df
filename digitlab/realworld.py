"""Accuracy on realistic handwriting that MNIST is not: canvas drawings, handwriting fonts, photos, numbers."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from digitlab.imageio import ImageError, read_image
from digitlab.inference import read_picture


@dataclass(frozen=True)
class Sample:
    path: Path
    set: str
    label: str  # a digit, or a whole number for the number sets
    style: str


def load_samples(folder: Path) -> list[Sample]:
    """Every sample listed in the folder's CSV manifests (columns file, set, label, font, notes)."""
    samples = []
    for manifest in sorted(folder.glob("*.csv")):
        with manifest.open(newline="") as f:
            for row in csv.DictReader(f):
                samples.append(Sample(folder / row["file"], row["set"], row["label"], row.get("font", "")))
    return samples


def is_number_set(name: str) -> bool:
    return "number" in name


def evaluate_sets(predictor, samples: list[Sample], *, all_as_numbers: bool = False) -> dict[str, dict]:
    """Per set: count, correct, accuracy and the misread files (file, label, read).

    Number sets count a sample right only when every digit is read and nothing is added.
    `all_as_numbers` reads the single-digit sets as numbers too, as the Draw page does by
    default, so a stray mark read as an extra digit counts as wrong.
    """
    results: dict[str, dict] = defaultdict(lambda: {"count": 0, "correct": 0, "errors": []})
    for sample in samples:
        result = results[sample.set]
        result["count"] += 1
        try:
            as_number = all_as_numbers or is_number_set(sample.set)
            reading = read_picture(predictor, read_image(sample.path), number=as_number)
            read = reading.number or ""
        except ImageError as exc:
            read = f"unreadable: {exc}"
        if read == sample.label:
            result["correct"] += 1
        else:
            result["errors"].append({"file": str(sample.path.name), "label": sample.label, "read": read,
                                     "style": sample.style})
    for result in results.values():
        result["accuracy"] = result["correct"] / result["count"]
    return dict(results)
