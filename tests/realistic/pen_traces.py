"""Stored runs on pen traces by writers they never saw (UCI pendigits' 14 test writers), plain, boxed and coarse-scanned.

    python -m tests.realistic.pen_traces --models NAME [NAME ...]

Every test writer's trace of a digit in `pentraces.LABELS`, drawn once by a random writer and
way onto paper (seed `pentraces.HELD_OUT_SEED`), the same digits stretched to fill a box
(`strokes.fill_box`), and the same digits put through Semeion's documented acquisition
(`filled_numbers.coarse_scan`: stretched to 16x16, thresholded, enlarged 4x) and read as the
Draw page reads one digit, per digit: does our own data show Semeion's weak digits? A run
trained with `--traces-share` saw only the 30 training writers' traces. The share is chosen on
these and MNIST validation; Semeion is never chosen on.
"""

from __future__ import annotations

import argparse

import numpy as np

from digitlab import pentraces, realworld, strokes
from digitlab.inference import Predictor
from tests.realistic.filled_numbers import coarse_scan


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    args = parser.parse_args(argv)
    plain, labels = pentraces.each_trace("test", pentraces.HELD_OUT_SEED)
    boxed = strokes.boxed_digits(plain, pentraces.HELD_OUT_SEED + 1)
    scanned = np.stack([coarse_scan(image) for image in plain])
    print(f"{len(labels)} traces by UCI pendigits' test writers, digits {', '.join(map(str, pentraces.LABELS))}\n")
    print("| run | traces share | test writers | boxed | " + " | ".join(f"{d}" for d in pentraces.LABELS) + " |")
    print("|---|---|---|---|" + "---|" * len(pentraces.LABELS))
    coarse = {}
    for name in args.models:
        reader = Predictor.load(name)
        reads = reader.predict(plain.astype(np.float32) / 255).argmax(axis=1)
        boxed_reads = reader.predict(boxed.astype(np.float32) / 255).argmax(axis=1)
        per_digit = [100 * float((reads[labels == d] == d).mean()) for d in pentraces.LABELS]
        share = reader.record.config.traces_share if reader.record.config else 0.0
        print(f"| {reader.name} | {share} | {100 * float((reads == labels).mean()):.2f}% | "
              f"{100 * float((boxed_reads == labels).mean()):.2f}% | " + " | ".join(f"{v:.1f}" for v in per_digit) + " |")
        coarse[reader.name] = realworld.evaluate_pictures(reader, scanned, labels)
    print("\nCoarse-scanned as Semeion's scans (16x16, thresholded, x4), read as the Draw page reads a digit:\n")
    print("| run | coarse scan | " + " | ".join(f"{d}" for d in pentraces.LABELS) + " |")
    print("|---|---|" + "---|" * len(pentraces.LABELS))
    for name, result in coarse.items():
        print(f"| {name} | {100 * result['accuracy']:.2f}% | "
              + " | ".join(f"{100 * result['per_digit'][d]:.1f}" for d in pentraces.LABELS) + " |")


if __name__ == "__main__":
    main()
