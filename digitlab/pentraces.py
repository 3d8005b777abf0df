"""Real pen trajectories by other writers (UCI pendigits), drawn as training digits the way `strokes` draws styles."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from digitlab import strokes

FOLDER = Path(__file__).resolve().parent / "pendigits"  # README there: where the traces come from, licence, split
PARTS = ("train", "test")  # UCI's own split by writer: 30 writers train, 14 others test

# Pen-up moves are joined in these traces, so a digit usually written in two strokes carries a false
# line from where the pen lifted to where it came down again: a five's body runs into its bar (it looks
# like a "б"), a crossed seven's stem into its bar. Those two digits are never drawn from traces.
LABELS = (0, 1, 2, 3, 4, 6, 8, 9)
TRACES_SEED_OFFSET = 3_000  # training traces are drawn with seed TRACES_SEED_OFFSET + the run's seed
HELD_OUT_SEED = 777_777  # the test writers' traces a share is chosen on are drawn with this seed
# A trace already has its writer's proportions: the drawing writer's aspect only varies it a little.
TRACE_ASPECT = (0.9, 1.1)


@lru_cache(maxsize=2)
def load(part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """One writers' part: ((n, 8, 2) float64 pen points, x right and y UP, 0..100; (n,) int64 labels)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}")
    with gzip.open(FOLDER / f"{part}.csv.gz", "rt") as file:
        rows = np.loadtxt(file, delimiter=",", dtype=np.int64)
    return rows[:, :16].reshape(-1, 8, 2).astype(np.float64), rows[:, 16]


def trace_strokes(points: np.ndarray) -> strokes.Strokes:
    """(8, 2) pendigits points -> one pen path in `strokes`' unit coordinates (y down, height 1), smoothed.

    Pendigits scales each trace so its longer side spans 0..100, keeping its aspect ratio; here
    its height becomes 1 and its width keeps the proportion the writer gave it.
    """
    unit = np.array(points, np.float64)
    unit[:, 1] = unit[:, 1].max() - unit[:, 1]
    unit[:, 0] -= unit[:, 0].min()
    unit /= max(unit[:, 1].max(), 1.0)
    # Eight points cut a curve into a polygon; a Catmull-Rom spline through them is the pen's path back.
    return [strokes.spline(unit, samples=12)]


def styles(part: str = "train") -> tuple[strokes.Style, ...]:
    """One `strokes.Style` per label in `LABELS`: each drawing a random trace of that label from `part`'s writers."""
    points, labels = load(part)

    def drawer(label: int):
        chosen = points[labels == label]

        def draw(r: np.random.Generator) -> strokes.Strokes:
            return trace_strokes(chosen[int(r.integers(len(chosen)))])

        return draw

    return tuple(_style(f"pen-trace-{label}", label, drawer(label)) for label in LABELS)


def _style(name: str, label: int, draw) -> strokes.Style:
    return strokes.Style(name, label, draw, TRACE_ASPECT, True)


def make_traces(count: int, seed: int, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """`count` digits drawn from `part`'s traces: ((n, 28, 28) uint8 white on black, (n,) uint8 labels).

    Each through a random `strokes.Writer` and a random way onto paper (`strokes.draw_varied`);
    the same `count`, `seed` and `part` always give the same digits.
    """
    images, labels, _ = strokes.make_styles(count, seed, styles=styles(part))
    return images, labels


def with_traces(split, share: float, seed: int):
    """`split` with training writers' traces making up `share` of its training part; validation and test untouched."""
    count = strokes.styles_count(len(split.y_train), share)
    if count == 0:
        return split
    images, labels = make_traces(count, TRACES_SEED_OFFSET + seed)
    return strokes.with_training_digits(split, images, labels)


def each_trace(part: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every trace of `part` with a label in `LABELS`, drawn once: ((n, 28, 28) uint8 white on black, (n,) labels).

    Each by its own random writer and way onto paper, from `seed`: a fixed set to measure on.
    """
    pictures, labels = each_trace_picture(part, seed)
    images = np.stack([strokes.to_mnist(picture) for picture in pictures])
    return images, labels


def each_trace_picture(part: str, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """`each_trace`'s digits as drawn, before the reader's preprocessing: ([(h, w) uint8 white on black], (n,) labels)."""
    points, labels = load(part)
    kept = np.flatnonzero(np.isin(labels, LABELS))
    r = np.random.default_rng(seed)
    pictures = []
    for index in kept:
        trace = points[index]
        style = _style("pen-trace", int(labels[index]), lambda _r, trace=trace: trace_strokes(trace))
        pictures.append(strokes.draw_varied(style, r))
    return pictures, labels[kept].astype(np.uint8)
