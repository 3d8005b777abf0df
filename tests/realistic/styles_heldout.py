"""Stored runs on held-out stroke-drawn styles, boxed digits, MNIST validation and test, and Semeion.

    python -m tests.realistic.styles_heldout --models NAME [NAME ...] [--per-style] [--added]

Held-out styles: 3,000 digits from seed `strokes.HELD_OUT_SEED`, never trained on. Boxed:
3,000 of MNIST's validation digits (seed 0's split, never trained on) and the held-out
styles, stretched to fill a box by `strokes.fill_box`. The shares were chosen on these and
MNIST validation; Semeion is printed as a measurement only.
"""

from __future__ import annotations

import argparse

import numpy as np

from digitlab import data, explain, realworld, strokes
from digitlab.inference import Predictor


def _accuracy(reader, images: np.ndarray, labels: np.ndarray) -> float:
    """(n, 28, 28) uint8 or (n, 28, 28, 1) float32 images in [0, 1], (n,) labels -> the share read right."""
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    reads = reader.predict(images).argmax(axis=1)  # it batches for itself
    return float((reads == labels).mean())


def _live_units(reader, images: np.ndarray) -> str:
    """How many of the first dense layer's units fire (> 0) for at least 1 % of `images`, as "live/all"."""
    fired = explain.firing_share(explain.dense_units(explain.dense_probe(reader.model), images))
    return f"{int((fired > 0.01).sum())}/{fired.size}"


def _weakest_boxed_styles(reader, count: int = 5) -> str:
    """The `count` generated styles read worst once stretched to fill a box (100 held-out digits each)."""
    shares = []
    for style in strokes.STYLES:
        images, labels, _ = strokes.make_styles(100, strokes.HELD_OUT_SEED, styles=(style,))
        shares.append((_accuracy(reader, strokes.boxed_digits(images, strokes.HELD_OUT_SEED + 1), labels), style.name))
    return ", ".join(f"{name} {100 * share:.0f}%" for share, name in sorted(shares)[:count])


def added_styles(reader, count: int = 300) -> list[float]:
    """The share of `count` held-out digits read right for each style in `strokes.ADDED_STYLES`."""
    shares = []
    for style in strokes.ADDED_STYLES:
        images, labels, _ = strokes.make_styles(count, strokes.HELD_OUT_SEED, styles=(style,))
        shares.append(_accuracy(reader, images, labels))
    return shares


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--per-style", action="store_true",
                        help="also list each run's five styles read worst once boxed (100 held-out digits each)")
    parser.add_argument("--added", action="store_true",
                        help="also read 300 held-out digits of each style drawn later (`strokes.ADDED_STYLES`)")
    args = parser.parse_args(argv)
    styles, style_labels, _ = strokes.make_styles(3000, strokes.HELD_OUT_SEED)
    split = data.load_split("full", seed=0)
    validation = np.round(split.x_val[:3000, ..., 0] * 255).astype(np.uint8)
    validation_labels = split.y_val[:3000]
    boxed_validation = strokes.boxed_digits(validation, strokes.HELD_OUT_SEED)
    boxed_styles = strokes.boxed_digits(styles, strokes.HELD_OUT_SEED + 1)
    test_images, test_labels = data.mnist_test_set()
    semeion = realworld.load_semeion()
    print("| run | styles share | boxed share | held-out styles | boxed MNIST validation | boxed held-out styles "
          "| MNIST validation | MNIST test | Semeion (measured only) | live dense units |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    weakest, added = {}, {}
    for name in args.models:
        reader = Predictor.load(name)
        record = reader.record
        row = [_accuracy(reader, styles, style_labels), _accuracy(reader, boxed_validation, validation_labels),
               _accuracy(reader, boxed_styles, style_labels),
               record.report("validation").get("accuracy", float("nan")),
               _accuracy(reader, test_images, test_labels),
               realworld.evaluate_pictures(reader, *semeion)["accuracy"]]
        live = _live_units(reader, validation[..., None].astype(np.float32) / 255)
        print(f"| {reader.name} | {record.config.styles_share} | {record.config.boxed_share} | "
              + " | ".join(f"{100 * value:.2f}%" for value in row) + f" | {live} |")
        if args.per_style:
            weakest[reader.name] = _weakest_boxed_styles(reader)
        if args.added:
            added[reader.name] = added_styles(reader)
    for name, styles in weakest.items():
        print(f"\n{name}, weakest boxed styles: {styles}")
    if added:
        print("\n| run | " + " | ".join(f"held-out {name} (300)" for name in strokes.ADDED_STYLE_NAMES) + " |")
        print("|---|" + "---|" * len(strokes.ADDED_STYLE_NAMES))
        for name, shares in added.items():
            print(f"| {name} | " + " | ".join(f"{100 * share:.2f}%" for share in shares) + " |")


if __name__ == "__main__":
    main()
