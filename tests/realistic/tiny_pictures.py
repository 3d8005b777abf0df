"""Tiny pictures read as single digits: own digits put through optdigits' acquisition (8x8 counts).

    python -m tests.realistic.tiny_pictures [--models digitlab] [--count 3000] [--no-enlarge]

MNIST validation digits (seed 0's split, never trained on) and generated styles (seed 3), each
stretched to a 32x32 black-and-white box and reduced to 8x8 counts of its ink pixels, as UCI's
optdigits was made, then read as 8x8 uploads. `--no-enlarge` reads them as before small pictures
were enlarged (`preprocessing.SMALL_SIDE` 0). Measured only.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from digitlab import preprocessing, realworld, strokes
from digitlab.inference import Predictor
from tests.realistic.unseen_styles import mnist_validation


def optdigits_like(image: np.ndarray) -> np.ndarray:
    """(h, w) uint8 white-on-black digit -> (8, 8) uint8 dark-on-white: stretched to a 32x32 black-and-white box,
    then the ink pixels of each 4x4 block counted."""
    rows, columns = np.nonzero(image > 32)
    ink = image[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    bitmap = cv2.resize(ink, (32, 32), interpolation=cv2.INTER_LINEAR) > 127
    counts = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return (255 - np.round(counts * 255 / 16)).astype(np.uint8)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--no-enlarge", action="store_true", help="read as before small pictures were enlarged")
    args = parser.parse_args(argv)
    if args.no_enlarge:
        preprocessing.SMALL_SIDE = 0
    x_val, y_val = mnist_validation(args.count)
    styles, style_labels, _ = strokes.make_styles(args.count, seed=3)
    sets = {"MNIST val": (np.stack([optdigits_like(i) for i in x_val]), y_val),
            "styles": (np.stack([optdigits_like(i) for i in styles]), style_labels)}
    print("| reader | " + " | ".join(f"{name}, 8x8 ({len(labels)})" for name, (_, labels) in sets.items())
          + " | read as 1 (not ones) |")
    print("|---" * (len(sets) + 2) + "|")
    for model in args.models:
        reader = Predictor.load(model)
        results = [realworld.evaluate_pictures(reader, *pictures_labels) for pictures_labels in sets.values()]
        ones = sum(error["read"] == 1 for result in results for error in result["errors"])
        not_ones = sum(int((labels != 1).sum()) for _, labels in sets.values())
        label = reader.name + (" (not enlarged)" if args.no_enlarge else "")
        print(f"| {label} | " + " | ".join(f"{100 * r['accuracy']:.1f}%" for r in results) + f" | {100 * ones / not_ones:.1f}% |")


if __name__ == "__main__":
    main()
