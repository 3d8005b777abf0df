"""Two stored runs' probabilities averaged at several weights, on own data only: how the distilled reader's teachers were weighed.

    python -m tests.realistic.teacher_mix [--runs A B] [--weights 0 0.3 0.5 0.7 1]

Reads MNIST validation (seed 0's split, never trained on) and UCI pendigits' 14 test writers'
traces (plain and boxed, as `pen_traces` draws them) with (1 - w) x A's probabilities + w x B's.
An average of two readers costs two networks per digit; `--teachers A:1-w B:w` teaches one
network to read as the average does (README, "Two readers in one"). Semeion, optdigits and
MNIST's test set are left out: the weight is chosen here, and they are not chosen on.
"""

from __future__ import annotations

import argparse

import numpy as np

from digitlab import data, pentraces, strokes
from digitlab.inference import Predictor


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs=2, default=["digitlab", "digitlab-traces"], metavar=("A", "B"))
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.3, 0.5, 0.7, 1.0])
    args = parser.parse_args(argv)
    split = data.load_split("full", seed=0)
    plain, labels = pentraces.each_trace("test", pentraces.HELD_OUT_SEED)
    boxed = strokes.boxed_digits(plain, pentraces.HELD_OUT_SEED + 1)
    sets = {
        "MNIST validation": (split.x_val, split.y_val),
        "test writers' traces": (plain.astype(np.float32) / 255, labels),
        "boxed": (boxed.astype(np.float32) / 255, labels),
    }
    first, second = (Predictor.load(name) for name in args.runs)
    probabilities = {key: (first.predict(x), second.predict(x), y) for key, (x, y) in sets.items()}
    print(f"(1 - w) x {first.name} + w x {second.name}\n")
    print("| w | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    for weight in args.weights:
        cells = [100 * float((((1 - weight) * a + weight * b).argmax(axis=1) == y).mean())
                 for a, b, y in probabilities.values()]
        print(f"| {weight:g} | " + " | ".join(f"{cell:.2f}%" for cell in cells) + " |")


if __name__ == "__main__":
    main()
