"""Single digits filling their box, read as numbers (the Draw page's default): how many come back as several digits?

    python -m tests.realistic.filled_numbers [--models digitlab] [--count 1000]

Three own sets, each `--count` digits: MNIST validation digits (seed 0's split, never trained on)
and generated styles (`strokes.HELD_OUT_SEED`) put through Semeion's documented acquisition
(stretched to fill 16x16, thresholded, enlarged 4x by copying pixels), and MNIST validation
digits stretched to fill their pictures by `strokes.fill_box` (seed 7). Measured only.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from digitlab import strokes
from digitlab.inference import Predictor, read_picture
from tests.realistic.unseen_styles import mnist_validation


def coarse_scan(image: np.ndarray, side: int = 16) -> np.ndarray:
    """(h, w) uint8 white-on-black digit -> (4 side, 4 side) dark-on-white: stretched to side x side, thresholded, x4."""
    rows, columns = np.nonzero(image > 32)
    ink = image[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    small = cv2.resize(ink, (side, side), interpolation=cv2.INTER_AREA)
    return np.where(small >= 128, 0, 255).astype(np.uint8).repeat(4, 0).repeat(4, 1)


def filled_sets(count: int) -> dict[str, tuple[list[np.ndarray], np.ndarray]]:
    """{set name: (pictures, labels)} of the three sets above."""
    x_val, y_val = mnist_validation(count)
    styles, style_labels, _ = strokes.make_styles(count, strokes.HELD_OUT_SEED)
    r = np.random.default_rng(7)
    return {"MNIST val, coarse scan": ([coarse_scan(image) for image in x_val], y_val),
            "styles, coarse scan": ([coarse_scan(image) for image in styles], style_labels),
            "MNIST val, stretched to fill": ([255 - strokes.fill_box(image, r) for image in x_val], y_val)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args(argv)
    sets = filled_sets(args.count)
    print("| reader | " + " | ".join(f"{name}: right / several digits" for name in sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for model in args.models:
        reader = Predictor.load(model)
        cells = []
        for pictures, labels in sets.values():
            numbers = [read_picture(reader, picture, number=True).number or "" for picture in pictures]
            right = np.mean([number == str(label) for number, label in zip(numbers, labels)])
            several = np.mean([len(number) > 1 for number in numbers])
            cells.append(f"{100 * right:.1f}% / {100 * several:.1f}%")
        print(f"| {reader.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
