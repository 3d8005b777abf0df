"""How the number reader does on stroke-drawn rows: digits apart, touching, wide single digits, and marks.

    python -m tests.realistic.stroke_numbers [--models digitlab] [--no-counter]

Pictures come from `digitlab.strokes` (seed 11, not a seed the counter was trained on);
`--no-counter` reads with the width rules alone, as before the counter existed.
"""

from __future__ import annotations

import argparse

import numpy as np

from digitlab import inference, strokes
from digitlab.inference import Predictor, read_picture


def stroke_rows(seed: int = 11):
    """(set name, picture, expected number or None) for 100 rows of each kind and 50 of each mark."""
    r = np.random.default_rng(seed)
    for _ in range(100):
        number = "".join(str(d) for d in r.integers(0, 10, 3))
        yield "three apart", strokes.draw_number(number, r, gap=float(r.uniform(0.25, 0.8))), number
    for _ in range(100):
        number = "".join(str(d) for d in r.integers(0, 10, 2))
        yield "two touching", strokes.draw_number(number, r, gap=float(r.uniform(-0.08, 0.03))), number
    for _ in range(100):
        digit = int(r.integers(10))
        yield "wide single", strokes.draw_wide(digit, r), str(digit)
    for kind in ("dash", "dot", "line"):
        for _ in range(50):
            yield "marks", strokes.draw_mark(kind, r), None
    for _ in range(100):  # drawn last, so the sets above stay the pictures they were
        number = "".join(str(d) for d in r.integers(0, 10, 3))
        yield "three touching", strokes.draw_number(number, r, gap=float(r.uniform(-0.08, 0.03))), number


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--no-counter", action="store_true", help="width rules only")
    args = parser.parse_args(argv)
    if args.no_counter:
        inference.Counter.load = classmethod(lambda cls, *a, **k: None)
    rows = list(stroke_rows())
    names = list(dict.fromkeys(name for name, _, _ in rows))
    print("| reader | " + " | ".join(f"{n} ({sum(r[0] == n for r in rows)})" for n in names)
          + " | wide single split | most digits from a mark |")
    print("|---" * (len(names) + 3) + "|")
    for model in args.models:
        reader = Predictor.load(model)
        right = {n: [] for n in names}
        split, longest = [], 0
        for name, picture, expected in rows:
            read = read_picture(reader, picture, number=True).number
            right[name].append(read == expected)
            if name == "wide single":
                split.append(len(read or "") > 1)
            if name == "marks":
                longest = max(longest, len(read or ""))
        label = reader.name + (" (width rules)" if args.no_counter else " (counter)")
        print(f"| {label} | " + " | ".join(f"{100 * np.mean(right[n]):.0f}%" for n in names)
              + f" | {100 * np.mean(split):.0f}% | {longest} |")


if __name__ == "__main__":
    main()
