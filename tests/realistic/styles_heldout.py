"""Stored runs on held-out stroke-drawn styles, MNIST validation and test, and Semeion, as the styles share was chosen.

    python -m tests.realistic.styles_heldout --models NAME [NAME ...]

Held-out styles: 3,000 digits from seed `strokes.HELD_OUT_SEED`, never trained on. The
share was chosen on held-out styles and MNIST validation; Semeion is printed as a
measurement only.
"""

from __future__ import annotations

import argparse

import numpy as np

from digitlab import data, realworld, strokes
from digitlab.inference import Predictor


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    args = parser.parse_args(argv)
    styles, labels, _ = strokes.make_styles(3000, strokes.HELD_OUT_SEED)
    test_images, test_labels = data.mnist_test_set()
    semeion = realworld.load_semeion()
    print("| run | styles share | held-out styles (3000) | MNIST validation | MNIST test | Semeion (measured only) |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        reader = Predictor.load(name)
        held_out = (reader.predict(styles.astype(np.float32) / 255).argmax(axis=1) == labels).mean()
        test = np.mean(np.concatenate([reader.predict(test_images[i : i + 1000]).argmax(axis=1)
                                       for i in range(0, len(test_labels), 1000)]) == test_labels)
        validation = reader.record.get("metrics", {}).get("validation", {}).get("accuracy", float("nan"))
        share = reader.record.get("config", {}).get("styles_share", 0.0)
        print(f"| {reader.name} | {share} | {100 * held_out:.2f}% | {100 * validation:.2f}% | {100 * test:.2f}% | "
              f"{100 * realworld.evaluate_pictures(reader, *semeion)['accuracy']:.2f}% |")


if __name__ == "__main__":
    main()
