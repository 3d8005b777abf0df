"""Stored runs on writing styles they never saw: how far a recipe carries to ways of writing it was not shown.

    python -m digitlab train --arch digitlab --styles-left-out nine-hook two-z ... --name NAME
    python -m tests.realistic.unseen_styles --models NAME [NAME ...]

Real writers draw shapes nobody put in the generator, so what a recipe does with a style it
never saw is the nearest own-data stand-in for them. Each run is read on the styles its
`run.json` says were left out (or `--styles`), 1,800 held-out digits (seed
`strokes.HELD_OUT_SEED`), as drawn and stretched to fill a box; beside them the styles it
did see and MNIST's validation set. "unseen mean" is the mean of the two unseen columns.
"""

from __future__ import annotations

import argparse

import numpy as np

from digitlab import data, registry, strokes
from digitlab.inference import Predictor

DIGITS = 1800  # held-out digits per column: 300 per style for six styles left out


def _right(reader, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 images, (n,) labels -> (n,) bool: read right."""
    return reader.predict(images.astype(np.float32) / 255).argmax(axis=1) == labels  # it batches for itself


def mnist_validation(count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) uint8 MNIST validation digits (seed 0's split, never trained on) and their (n,) labels."""
    split = data.load_split("full", seed=0)
    return np.round(split.x_val[:count, ..., 0] * 255).astype(np.uint8), split.y_val[:count]


def measure(name: str, unseen_names: tuple[str, ...], validation: tuple[np.ndarray, np.ndarray]) -> dict:
    """Shares read right by run `name` on the `unseen_names` styles and on the others, plain and boxed."""
    unseen = tuple(style for style in strokes.STYLES if style.name in unseen_names)
    seen = tuple(style for style in strokes.STYLES if style.name not in unseen_names)
    reader = Predictor.load(name)
    columns, per_style = {}, {}
    for label, styles in (("unseen", unseen), ("seen", seen)):
        images, labels, names = strokes.make_styles(DIGITS, strokes.HELD_OUT_SEED, styles=styles)
        plain = _right(reader, images, labels)
        boxed = _right(reader, strokes.boxed_digits(images, strokes.HELD_OUT_SEED + 1), labels)
        columns[label] = (float(plain.mean()), float(boxed.mean()))
        if label == "unseen":
            per_style = {style.name: (float(plain[names == style.name].mean()), float(boxed[names == style.name].mean()))
                         for style in unseen}
    columns["validation"] = float(_right(reader, *validation).mean())
    columns["per_style"] = per_style
    return columns


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--styles", nargs="+", choices=strokes.STYLE_NAMES,
                        help="the styles to read as unseen (default: each run's own --styles-left-out)")
    args = parser.parse_args(argv)
    validation = mnist_validation()
    print("| run | unseen styles | unseen boxed | unseen mean | seen styles | seen boxed | MNIST validation "
          "| unseen per style (plain / boxed) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models:
        unseen_names = tuple(args.styles or registry.read_record(name).config.styles_left_out)
        if not unseen_names:
            print(f"| {name} | no styles left out: pass --styles | | | | | | |")
            continue
        m = measure(name, unseen_names, validation)
        (plain, boxed), (seen_plain, seen_boxed) = m["unseen"], m["seen"]
        styles = ", ".join(f"{style} {100 * a:.0f}/{100 * b:.0f}" for style, (a, b) in m["per_style"].items())
        print(f"| {name} | {100 * plain:.2f}% | {100 * boxed:.2f}% | {100 * (plain + boxed) / 2:.2f}% "
              f"| {100 * seen_plain:.2f}% | {100 * seen_boxed:.2f}% | {100 * m['validation']:.2f}% | {styles} |",
              flush=True)


if __name__ == "__main__":
    main()
