"""Handwritten digits in writing styles MNIST barely holds, drawn as pen strokes by simulated writers.

MNIST's writers were American; a class writes the world's ways: ones with a long flag and a
base, crossed sevens, nines with a small loop and a tail curling left, fours in one stroke
with an open top, European twos and fives. Each style here is a pen path (a few stroke
templates through key points, smoothed as Catmull-Rom splines), and each sample is one writer's
version of it: slant, proportions, size, pen width and speed (a fast hand wobbles, overshoots
and cuts corners) drawn with anti-aliased OpenCV lines, then normalised by the app's own
`preprocessing.preprocess_digit`, so what the model trains on is what it is served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from digitlab.preprocessing import preprocess_digit

# Each stroke is (n, 2) float64 points (x, y) of one pen-down path: in a unit box (x rightwards,
# y downwards, the digit's height 1) as a style draws it, in pixels once a writer has.
Strokes = list[np.ndarray]


# ---------------------------------------------------------------- path helpers (unit coordinates)

def spline(points, samples: int = 24) -> np.ndarray:
    """(samples * (k-1) + 1, 2) points of a Catmull-Rom curve through the k key `points`."""
    keys = np.asarray(points, float)
    if len(keys) < 3:
        return line(*keys)
    padded = np.vstack([2 * keys[0] - keys[1], keys, 2 * keys[-1] - keys[-2]])
    t = np.linspace(0, 1, samples, endpoint=False)[:, None]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1 : i + 3]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(keys[-1:])
    return np.vstack(out)


def line(*points, samples: int = 12) -> np.ndarray:
    """Straight segments through `points`, each sampled `samples` times (so wobble can bend them)."""
    keys = np.asarray(points, float)
    t = np.linspace(0, 1, samples, endpoint=False)[:, None]
    out = [a + (b - a) * t for a, b in zip(keys[:-1], keys[1:])]
    return np.vstack(out + [keys[-1:]])


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, samples: int = 40) -> np.ndarray:
    """Points of an elliptical arc; angles in degrees, 0 = right, 90 = down (image coordinates)."""
    angles = np.radians(np.linspace(start_deg, end_deg, samples))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def join(*paths: np.ndarray) -> np.ndarray:
    """One pen-down path made of consecutive pieces."""
    return np.vstack(paths)


# ---------------------------------------------------------------- the styles

def _u(r: np.random.Generator, low: float, high: float) -> float:
    return float(r.uniform(low, high))


def one_plain(r):
    return [line((0.5 + _u(r, -0.05, 0.05), 0.0), (0.5, 1.0))]


def one_flag(r):
    # The flag runs from well down the left up to the top: long, as Europeans write it.
    flag_y, flag_x = _u(r, 0.3, 0.75), _u(r, -0.1, 0.3)  # rising to the top: a 7's bar runs level
    top = (0.68, 0.0)
    bend = _u(r, -0.04, 0.04)
    # Some flags bow up (a quick hand), most run straight.
    flag = spline([(flag_x, flag_y), ((flag_x + 0.68) / 2 + _u(r, -0.05, 0.02), flag_y / 2 - _u(r, 0, 0.08)), top])
    return [join(flag, spline([top, (0.68 + bend, 0.5), (0.66, 1.0)])[1:])]


def one_flag_base(r):
    strokes = one_flag(r)
    half = _u(r, 0.25, 0.42)
    return strokes + [line((0.66 - half, 1.0 + _u(r, -0.02, 0.02)), (0.66 + half, 1.0 + _u(r, -0.02, 0.02)))]


def two_plain(r):
    return [join(spline([(0.12, 0.25), (0.45, 0.0), (0.85, 0.2), (0.7, 0.5), (0.1, 1.0)]),
                 line((0.1, 1.0), (0.95, 0.97))[1:])]


def two_loop(r):
    # The European two: the diagonal ends in a small loop before the base.
    loop = _u(r, 0.08, 0.14)
    top = spline([(0.1, 0.28), (0.45, 0.0), (0.88, 0.22), (0.72, 0.52), (0.3, 0.85)])
    curl = spline([(0.3, 0.85), (0.12, 1.0 - loop), (0.1 + loop, 1.0 - 2 * loop), (0.3, 0.98), (0.6, 0.98)])
    return [join(top, curl[1:], line((0.6, 0.98), (0.95, 0.95))[1:])]


def two_z(r):
    # An angular two: a round hook, a straight diagonal, a flat base (a "Z" with a rounded top).
    hook = spline([(0.08, 0.3), (0.3, 0.03), (0.7, 0.02), (0.85, 0.25), (0.7, 0.45)])
    return [join(hook, line((0.7, 0.45), (0.08, 1.0), (0.95, 1.0))[1:])]


def three_plain(r):
    return [join(spline([(0.15, 0.15), (0.5, 0.0), (0.82, 0.2), (0.45, 0.47)]),
                 spline([(0.45, 0.47), (0.85, 0.65), (0.65, 0.97), (0.1, 0.85)])[1:])]


def three_flat(r):
    # A flat-topped three: a bar, a diagonal, then the belly.
    return [join(line((0.12, 0.0), (0.85, 0.0), (0.4, 0.42)),
                 spline([(0.4, 0.42), (0.85, 0.58), (0.75, 0.95), (0.1, 0.88)])[1:])]


def four_closed(r):
    return [line((0.6, 0.0), (0.05, 0.68), (0.95, 0.68)), line((0.62, 0.05), (0.62, 1.0))]


def four_open(r):
    # The open top: the left stroke and the stem never meet.
    gap = _u(r, 0.15, 0.35)
    return [line((0.25, 0.0), (0.05, 0.62), (0.95, 0.62)), line((0.25 + gap + 0.15, 0.05), (0.25 + gap + 0.13, 1.0))]


def four_one_stroke(r):
    # Written without lifting the pen: down, across, back up to the stem's top, down the stem.
    stem = _u(r, 0.6, 0.75)
    return [line((0.3, 0.0), (0.06, 0.6), (0.95, 0.6), (stem, _u(r, 0.0, 0.1)), (stem - 0.03, 1.0))]


def four_chair(r):
    # The open-top four in one stroke, rounded: down the left, curving into the bar, up to the
    # stem's top and down it (a "Ч"; a fast hand closes the bottom corner into a curve).
    stem, round_ = _u(r, 0.62, 0.78), _u(r, 0.05, 0.2)
    left = spline([(0.12, 0.0), (0.1, 0.3), (0.14 + round_ / 2, 0.55 + round_ / 3), (0.45, 0.6 + round_ / 4),
                   (0.95, 0.56)])
    return [join(left, line((0.95, 0.56), (stem, _u(r, -0.02, 0.08)), (stem - 0.04, 1.0))[1:])]


def five_plain(r):
    return [join(line((0.2, 0.02), (0.15, 0.45)), spline([(0.15, 0.45), (0.55, 0.38), (0.85, 0.65), (0.55, 0.98),
                                                            (0.1, 0.88)])[1:]),
            line((0.2, 0.02), (0.85, 0.0))]


def five_one_stroke(r):
    # The bar first, then stem and belly, the pen never lifted (as many Europeans write it).
    return [join(line((0.88, 0.0), (0.22, 0.02), (0.16, 0.45)),
                 spline([(0.16, 0.45), (0.55, 0.35), (0.88, 0.62), (0.6, 0.97), (0.1, 0.9)])[1:])]


def five_flag(r):
    # A round belly under a short slanted stem, its flag added last and rising to the right.
    rise = _u(r, 0.0, 0.12)
    return [join(line((0.25, 0.08), (0.2, 0.45)),
                 spline([(0.2, 0.45), (0.6, 0.33), (0.9, 0.62), (0.6, 0.98), (0.08, 0.85)])[1:]),
            line((0.25, 0.08), (0.92, 0.06 - rise))]


def six_plain(r):
    return [spline([(0.78, 0.02), (0.35, 0.25), (0.12, 0.7), (0.4, 0.98), (0.82, 0.78), (0.55, 0.5), (0.15, 0.68)])]


def six_small_loop(r):
    # A long back and a small loop at the bottom only.
    loop = _u(r, 0.28, 0.4)
    return [spline([(0.85, 0.0), (0.4, 0.25), (0.15, 0.72), (0.42, 1.0), (0.72, 1.0 - 0.35 * loop),
                    (0.5, 1.0 - loop), (0.2, 0.9 - 0.5 * loop)])]


def seven_plain(r):
    return [join(line((0.05, 0.02), (0.95, 0.0)), spline([(0.95, 0.0), (0.6, 0.5), (0.38, 1.0)])[1:])]


def seven_hook(r):
    # A small tick or loop before the bar, then the stem.
    return [join(spline([(0.02, 0.18), (0.05, 0.04), (0.2, 0.02)]), line((0.2, 0.02), (0.95, 0.0))[1:],
                 spline([(0.95, 0.0), (0.62, 0.5), (0.42, 1.0)])[1:])]


def seven_crossed(r):
    # The crossed seven with a straight stem.
    top = line((0.05, 0.02), (0.95, 0.0), (0.4, 1.0))
    y = _u(r, 0.45, 0.58)
    x = 0.95 - 0.55 * y
    return [top, line((x - _u(r, 0.25, 0.35), y + 0.02), (x + _u(r, 0.2, 0.3), y - 0.02))]


def seven_crossed_curved(r):
    # Crossed, the stem curving in (concave to the left) as a fast European hand draws it.
    bow = _u(r, 0.08, 0.16)
    stem = spline([(0.95, 0.0), (0.7 - bow, 0.4), (0.5 - bow, 0.75), (0.45, 1.0)])
    y = _u(r, 0.45, 0.55)
    x = 0.7 - bow - 0.1 * (y - 0.4)
    return [join(line((0.05, 0.04), (0.95, 0.0)), stem[1:]),
            line((x - _u(r, 0.25, 0.35), y + 0.02), (x + _u(r, 0.2, 0.3), y - 0.02))]


def eight_plain(r):
    return [spline([(0.7, 0.1), (0.5, 0.0), (0.22, 0.2), (0.5, 0.45), (0.85, 0.72), (0.5, 1.0), (0.15, 0.72),
                    (0.5, 0.45), (0.78, 0.2), (0.62, 0.03)])]


def eight_two_loops(r):
    return [arc(0.5, 0.24, 0.28, 0.24, -90, 270), arc(0.5, 0.73, 0.36, 0.27, -90, 270)]


def nine_plain(r):
    return [join(arc(0.5, 0.28, 0.35, 0.28, 0, -360), line((0.85, 0.28), (0.8, 1.0))[1:])]


def nine_tail_left(r):
    # A small loop at the top (left open by a quick hand), the tail curling left at the bottom.
    radius = _u(r, 0.15, 0.27)
    gap = _u(r, 0, 50)
    loop = arc(0.6, radius, radius * _u(r, 0.9, 1.3), radius, 10 - gap, -350)
    end = loop[-1]
    curl = _u(r, 0.0, 0.25)
    tail = spline([end, (0.8, 0.55), (0.68, 0.88), (0.4, 1.0), (0.15 - curl / 2, 0.9 - curl)])
    return [join(loop, tail[1:])]


def nine_hook(r):
    # A round loop and a tail that hooks left and back up towards the loop, as a cursive "g".
    radius = _u(r, 0.2, 0.3)
    loop = arc(0.55, radius, radius * _u(r, 1.0, 1.4), radius, 0, -360)
    rise = _u(r, 0.15, 0.45)
    tail = spline([loop[-1], (0.85, 0.6), (0.62, 0.95), (0.3, 0.98), (0.12, 0.95 - rise)])
    return [join(loop, tail[1:])]


def nine_s_tail(r):
    # A small loop, then a tail that swings left, back right and ends curling left: an S under the loop.
    radius = _u(r, 0.14, 0.24)
    cx = _u(r, 0.45, 0.62)
    loop = arc(cx, radius, radius * _u(r, 1.0, 1.4), radius, 0, -360)
    swing = _u(r, 0.1, 0.35)
    back = _u(r, 0.65, 0.9)
    tail = spline([loop[-1], (cx + 0.05, 0.42), (swing, 0.62), (back, 0.82), (0.55, 1.0), (_u(r, 0.1, 0.35), 0.95)])
    return [join(loop, tail[1:])]


def nine_slanted(r):
    # A small loop high on the right and a long straight stem down to the far left, as a fast hand leans.
    radius = _u(r, 0.12, 0.22)
    cx = 1 - radius * _u(r, 1.0, 1.5)
    loop = arc(cx, radius, radius * _u(r, 1.0, 1.4), radius, 20, -340)
    foot = _u(r, 0.0, 0.3)
    bow = _u(r, -0.08, 0.08)
    tail = spline([loop[-1], ((loop[-1][0] + foot) / 2 + bow, 0.6), (foot, 1.0)])
    return [join(loop, tail[1:])]


def zero_plain(r):
    start = _u(r, -120, -60)
    return [arc(0.5, 0.5, 0.5, 0.5, start, start - 360 - _u(r, 0, 25))]


def zero_narrow(r):
    start = _u(r, -110, -70)
    return [arc(0.5, 0.5, 0.5, 0.5, start, start + 360 + _u(r, 0, 20))]


@dataclass(frozen=True)
class Style:
    name: str
    label: int
    draw: Callable[[np.random.Generator], Strokes]
    aspect: tuple[float, float]  # width / height of the digit, the writer's range
    extra: bool  # a style MNIST barely holds (the point of this module), not an ordinary form


STYLES: tuple[Style, ...] = (
    Style("zero", 0, zero_plain, (0.55, 0.85), False),
    Style("zero-narrow", 0, zero_narrow, (0.35, 0.55), False),
    Style("one", 1, one_plain, (0.05, 0.2), False),
    Style("one-flag", 1, one_flag, (0.35, 0.75), True),
    Style("one-flag-base", 1, one_flag_base, (0.45, 0.85), True),
    Style("two", 2, two_plain, (0.6, 0.8), False),
    Style("two-loop", 2, two_loop, (0.6, 0.8), True),
    Style("two-z", 2, two_z, (0.6, 0.85), True),
    Style("three", 3, three_plain, (0.55, 0.75), False),
    Style("three-flat", 3, three_flat, (0.55, 0.75), True),
    Style("four", 4, four_closed, (0.6, 0.85), False),
    Style("four-open", 4, four_open, (0.6, 0.85), True),
    Style("four-one-stroke", 4, four_one_stroke, (0.6, 0.85), True),
    Style("four-chair", 4, four_chair, (0.6, 0.85), True),
    Style("five", 5, five_plain, (0.55, 0.75), False),
    Style("five-one-stroke", 5, five_one_stroke, (0.55, 0.75), True),
    Style("five-flag", 5, five_flag, (0.55, 0.8), True),
    Style("six", 6, six_plain, (0.5, 0.7), False),
    Style("six-small-loop", 6, six_small_loop, (0.5, 0.7), True),
    Style("seven", 7, seven_plain, (0.55, 0.8), False),
    Style("seven-hook", 7, seven_hook, (0.55, 0.8), True),
    Style("seven-crossed", 7, seven_crossed, (0.6, 0.85), True),
    Style("seven-crossed-curved", 7, seven_crossed_curved, (0.6, 0.85), True),
    Style("eight", 8, eight_plain, (0.5, 0.7), False),
    Style("eight-two-loops", 8, eight_two_loops, (0.5, 0.7), False),
    Style("nine", 9, nine_plain, (0.5, 0.7), False),
    Style("nine-tail-left", 9, nine_tail_left, (0.5, 0.75), True),
    Style("nine-hook", 9, nine_hook, (0.55, 0.8), True),
)
STYLE_NAMES = tuple(style.name for style in STYLES)
# Styles drawn after STYLES was fixed, which a run adds by name (`--styles-added`): kept apart so
# every earlier run's generated digits, and the held-out set shares were chosen on, stay as they were.
ADDED_STYLES: tuple[Style, ...] = (
    Style("nine-s-tail", 9, nine_s_tail, (0.5, 0.8), True),
    Style("nine-slanted", 9, nine_slanted, (0.6, 0.9), True),
)
ADDED_STYLE_NAMES = tuple(style.name for style in ADDED_STYLES)


# ---------------------------------------------------------------- writers

@dataclass(frozen=True)
class Writer:
    """How one person writes: every sample of a style differs by these."""

    slant_deg: float  # forward (positive) or backward lean of vertical strokes
    aspect: float  # the digit's width over its height
    height_px: int  # the digit's height on the page
    pen: float  # pen width as a share of the height
    speed: float  # 0 careful .. 1 fast: wobble, overshoot, sloppy key points
    rotation_deg: float  # the whole digit turned a little

    @staticmethod
    def random(r: np.random.Generator, aspect: tuple[float, float]) -> "Writer":
        return Writer(
            slant_deg=float(r.normal(8, 9)), aspect=_u(r, *aspect) * float(np.clip(np.exp(r.normal(0, 0.2)), 0.6, 1.7)),
            height_px=int(r.integers(40, 180)),
            pen=_u(r, 0.04, 0.14), speed=_u(r, 0, 1), rotation_deg=float(r.normal(0, 4)),
        )


def _wobble(path: np.ndarray, r: np.random.Generator, amount: float) -> np.ndarray:
    """`path` with a smooth sideways tremor along its length (a few slow sines), `amount` unit heights."""
    if amount <= 0 or len(path) < 3:
        return path
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    along = np.concatenate([[0], np.cumsum(steps)])
    offset = np.zeros_like(path)
    for _ in range(3):
        frequency, phase = _u(r, 1.5, 6.0), _u(r, 0, 2 * math.pi)
        offset += amount * r.normal(0, 1, 2) * np.sin(frequency * along + phase)[:, None] / 3
    return path + offset


def _round_corners(path: np.ndarray, radius: float) -> np.ndarray:
    """`path` resampled evenly and smoothed along its length over `radius` unit heights: a fast hand cuts corners."""
    if radius <= 0 or len(path) < 3:
        return path
    along = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    if along[-1] <= 0:
        return path
    count = max(8, int(along[-1] / 0.01))
    even = np.linspace(0, along[-1], count)
    resampled = np.stack([np.interp(even, along, path[:, 0]), np.interp(even, along, path[:, 1])], axis=1)
    sigma = radius / 0.01 * count / max(count, along[-1] / 0.01)
    half = int(3 * sigma) + 1
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / max(sigma, 1e-6)) ** 2)
    kernel /= kernel.sum()
    # The ends stay where the pen touched down and lifted: pad by repeating them.
    padded = np.pad(resampled, ((half, half), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(2)], axis=1)


def writer_strokes(style: Style, writer: Writer, r: np.random.Generator) -> Strokes:
    """The style's strokes as `writer` draws them, in pixels with the digit's top-left near (0, 0)."""
    strokes = [np.asarray(s, float) for s in style.draw(r)]
    # Sloppy key points: a fast writer lands every stroke a little off where it was aimed.
    sloppy = 0.01 + 0.04 * writer.speed
    moved = []
    for stroke in strokes:
        shift = r.normal(0, sloppy, 2)
        stretch = 1 + r.normal(0, sloppy, 2)
        centre = stroke.mean(axis=0)
        placed = (stroke - centre) * stretch + centre + shift
        moved.append(_wobble(_round_corners(placed, 0.05 * writer.speed ** 2), r, 0.004 + 0.02 * writer.speed))
    slant = math.tan(math.radians(writer.slant_deg))
    turn = math.radians(writer.rotation_deg)
    cos, sin = math.cos(turn), math.sin(turn)
    out = []
    for stroke in moved:
        x = (stroke[:, 0] - 0.5) * writer.aspect + (0.5 - stroke[:, 1]) * slant
        y = stroke[:, 1] - 0.5
        out.append(np.stack([cos * x - sin * y, sin * x + cos * y], axis=1) * writer.height_px)
    return out


def render(strokes: Strokes, pen_px: float, r: np.random.Generator | None = None) -> np.ndarray:
    """(h, w) uint8 white ink on black: the strokes drawn with an anti-aliased pen, with a margin around."""
    points = np.vstack(strokes)
    margin = pen_px + 4 + (int(r.integers(0, 30)) if r is not None else 0)
    low = points.min(axis=0) - margin
    high = points.max(axis=0) + margin
    width, height = (np.ceil(high - low)).astype(int) + 1
    image = np.zeros((height, width), np.uint8)
    thickness = max(1, int(round(pen_px)))
    for stroke in strokes:
        # OpenCV's fixed point: 4 fractional bits put the anti-aliased line at sub-pixel positions.
        fixed = np.round((stroke - low) * 16).astype(np.int32)
        cv2.polylines(image, [fixed.reshape(-1, 1, 2)], False, 255, thickness, cv2.LINE_AA, shift=4)
    return image


def draw_sample(style: Style, r: np.random.Generator) -> np.ndarray:
    """(h, w) uint8 white-on-black picture of one writer's `style`."""
    writer = Writer.random(r, style.aspect)
    return render(writer_strokes(style, writer, r), max(1.0, writer.pen * writer.height_px), r)


def render_with_pressure(strokes: Strokes, pen_px: float, r: np.random.Generator) -> np.ndarray:
    """Like `render`, the pen's width swelling and thinning along each stroke as pressure changes."""
    points = np.vstack(strokes)
    margin = 1.5 * pen_px + 4 + int(r.integers(0, 30))
    low = points.min(axis=0) - margin
    width, height = (np.ceil(points.max(axis=0) + margin - low)).astype(int) + 1
    image = np.zeros((height, width), np.uint8)
    swing, frequency, phase = _u(r, 0.15, 0.5), _u(r, 0.5, 3.0), _u(r, 0, 2 * math.pi)
    for stroke in strokes:
        fixed = np.round((stroke - low) * 16).astype(np.int32)
        steps = np.linspace(0, 1, len(fixed))
        for (a, b), t in zip(zip(fixed[:-1], fixed[1:]), steps[:-1]):
            thickness = max(1, int(round(pen_px * (1 + swing * math.sin(2 * math.pi * frequency * t + phase)))))
            cv2.line(image, tuple(map(int, a)), tuple(map(int, b)), 255, thickness, cv2.LINE_AA, shift=4)
    return image


def scanned(picture: np.ndarray, r: np.random.Generator) -> np.ndarray:
    """`picture` as a cheap scanner or fax keeps it: a few pixels tall, thresholded to black and white, enlarged.

    Blocky, jagged strokes of whole pixels: the rendering a model must not take for a sign of
    "not a generated digit".
    """
    rows, columns = np.nonzero(picture > 32)
    ink = picture[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    height = int(r.integers(12, 29))
    scale = height / ink.shape[0]
    small = cv2.resize(ink, (max(1, round(ink.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)
    binary = np.where(small >= _u(r, 0.25, 0.6) * 255, 255, 0).astype(np.uint8)
    if not binary.any():
        return picture
    zoom = int(r.integers(2, 6))
    return cv2.copyMakeBorder(binary.repeat(zoom, 0).repeat(zoom, 1), 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=0)


def fill_box(picture: np.ndarray, r: np.random.Generator) -> np.ndarray:
    """`picture`'s ink stretched to fill a box, its aspect ratio lost, as forms and some scanners keep digits.

    (h, w) uint8 white on black in and out. A one becomes as wide as it is tall; the box is
    near square, sometimes coarse (12 to 24 px, thresholded to black and white, enlarged)
    and the ink touches the picture's border or nearly.
    """
    rows, columns = np.nonzero(picture > 32)
    if rows.size == 0:
        return picture
    ink = picture[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    aspect = float(np.exp(r.uniform(-0.25, 0.25)))  # the box's width over its height
    boxed = None
    if r.random() < 0.5:
        height = int(r.integers(12, 25))
        small = cv2.resize(ink, (max(2, round(height * aspect)), height), interpolation=cv2.INTER_AREA)
        binary = np.where(small >= _u(r, 0.25, 0.6) * 255, 255, 0).astype(np.uint8)
        # A pen too thin for so few pixels breaks into dots: no scan worth reading, so drawn smooth instead.
        if binary.any() and cv2.connectedComponents(binary, connectivity=8)[0] - 1 <= 2:
            zoom = int(r.integers(2, 6))
            boxed = binary.repeat(zoom, 0).repeat(zoom, 1)
    if boxed is None:
        height = int(r.integers(28, 97))
        boxed = cv2.resize(ink, (max(2, round(height * aspect)), height), interpolation=cv2.INTER_LINEAR)
    margin = int(r.integers(0, 3))
    return cv2.copyMakeBorder(boxed, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)


ACQUISITION = (("pen", 0.4), ("pressure", 0.3), ("scanned", 0.3))  # how a training digit is put on paper


def draw_varied(style: Style, r: np.random.Generator) -> np.ndarray:
    """(h, w) uint8 white-on-black `style` by a random writer and a random way onto paper: an even pen,
    a pen whose width follows the hand's pressure, or a coarse black-and-white scan."""
    how = r.choice(len(ACQUISITION), p=[share for _, share in ACQUISITION])
    writer = Writer.random(r, style.aspect)
    drawn = writer_strokes(style, writer, r)
    pen = max(1.0, writer.pen * writer.height_px)
    if ACQUISITION[how][0] == "pen":
        return render(drawn, pen, r)
    if ACQUISITION[how][0] == "pressure":
        return render_with_pressure(drawn, pen, r)
    return scanned(render(drawn, pen, r), r)


def to_mnist(picture: np.ndarray) -> np.ndarray:
    """(28, 28) uint8 white on black, through the app's own normalisation (crop, MNIST pen, 20 px, centre)."""
    return np.round(preprocess_digit(picture).image * 255).astype(np.uint8)


def make_styles(count: int, seed: int, *, styles: tuple[Style, ...] = STYLES,
                extra_weight: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` generated digits: ((n, 28, 28) uint8 white on black, (n,) uint8 labels, (n,) style names).

    Styles MNIST lacks are drawn `extra_weight` times as often as ordinary forms. The same
    `count` and `seed` always give the same digits.
    """
    r = np.random.default_rng(seed)
    weights = np.array([extra_weight if style.extra else 1.0 for style in styles])
    chosen = r.choice(len(styles), size=count, p=weights / weights.sum())
    images = np.zeros((count, 28, 28), np.uint8)
    for i, index in enumerate(chosen):
        images[i] = to_mnist(draw_varied(styles[index], r))
    labels = np.array([styles[i].label for i in chosen], np.uint8)
    names = np.array([styles[i].name for i in chosen])
    return images, labels, names


def contact_sheet(per_style: int = 12, seed: int = 0, *, styles: tuple[Style, ...] = STYLES) -> np.ndarray:
    """(rows * 30, per_style * 30) uint8: one row of normalised samples per style, to look at."""
    sheet = np.full((len(styles) * 30, per_style * 30), 60, np.uint8)
    r = np.random.default_rng(seed)
    for row, style in enumerate(styles):
        for column in range(per_style):
            sheet[row * 30 + 1 : row * 30 + 29, column * 30 + 1 : column * 30 + 29] = to_mnist(draw_varied(style, r))
    return sheet


# ---------------------------------------------------------------- mixing into training

HELD_OUT_SEED = 999_999  # the styles a share is chosen on; training draws from other seeds
TRAIN_SEED_OFFSET = 1_000  # training styles use seed TRAIN_SEED_OFFSET + the run's seed
BOXED_SEED_OFFSET = 2_000  # and the digits stretched to fill a box BOXED_SEED_OFFSET + the run's seed


def styles_count(train_count: int, share: float) -> int:
    """How many generated digits make up `share` of a training set holding `train_count` others."""
    if not 0 <= share < 1:
        raise ValueError(f"styles share must be in [0, 1), got {share}")
    return round(train_count * share / (1 - share))


def with_styles(split, share: float, seed: int, *, left_out: tuple[str, ...] = (), added: tuple[str, ...] = ()):
    """`split` (a `digitlab.data.Split`) with generated styles making up `share` of its training part.

    Validation and test stay MNIST's own, so early stopping and the stored accuracy still
    speak of MNIST; the generated digits are shuffled in by the training pipeline and
    augmented like every other training image. Styles named in `left_out` are never drawn;
    those of ADDED_STYLES named in `added` are drawn beside STYLES.
    """
    count = styles_count(len(split.y_train), share)
    if count == 0:
        return split
    kept = tuple(style for style in STYLES if style.name not in left_out)
    kept += tuple(style for style in ADDED_STYLES if style.name in added)
    images, labels, _ = make_styles(count, TRAIN_SEED_OFFSET + seed, styles=kept)
    return with_training_digits(split, images, labels)


def with_training_digits(split, images: np.ndarray, labels: np.ndarray):
    """`split` with (n, 28, 28) uint8 `images` and their (n,) `labels` added to its training part only."""
    import dataclasses

    from digitlab.data import to_model_input

    return dataclasses.replace(
        split,
        x_train=np.concatenate([split.x_train, to_model_input(images)]),
        y_train=np.concatenate([split.y_train, labels.astype(split.y_train.dtype)]),
    )


def boxed_digits(images: np.ndarray, seed: int) -> np.ndarray:
    """(n, 28, 28) uint8 white-on-black digits -> the same digits stretched to fill a box (`fill_box`), renormalised.

    A thin straight one stretched to a solid square reads as no ink at all (an all-ink
    picture is paper); those come back black, and `with_boxed` leaves them out.
    """
    r = np.random.default_rng(seed)
    return np.stack([to_mnist(fill_box(image, r)) for image in images]) if len(images) else images


def with_boxed(split, share: float, seed: int, *, from_styles: float | None = None, styles_start: int | None = None):
    """`split` with `share` of its training part made of its own digits stretched to fill a box (`fill_box`).

    The digits are drawn from the training part as it stands (MNIST's and any generated
    styles), so validation and test stay untouched MNIST. With `from_styles`, that share of
    the copies is drawn from the generated digits, which start at index `styles_start`:
    drawn as they stand, about one copy in eight is of a style, a few dozen per style.
    """
    count = styles_count(len(split.y_train), share)
    if count == 0:
        return split
    r = np.random.default_rng(BOXED_SEED_OFFSET + seed)
    extra = count // 50 + 5  # a few more candidates than needed, since a copy that lost all its ink is left out
    if from_styles is None or styles_start is None or styles_start >= len(split.y_train):
        chosen = r.permutation(len(split.y_train))[: count + extra]
    else:
        generated = (styles_start + r.permutation(len(split.y_train) - styles_start))[: round((count + extra) * from_styles)]
        mnist = r.permutation(styles_start)[: count + extra - len(generated)]
        chosen = r.permutation(np.concatenate([generated, mnist]))
    digits = np.round(split.x_train[chosen].reshape(len(chosen), 28, 28) * 255).astype(np.uint8)
    boxed = boxed_digits(digits, BOXED_SEED_OFFSET + seed)
    kept = np.flatnonzero(boxed.reshape(len(boxed), -1).max(axis=1) > 0)[:count]
    return with_training_digits(split, boxed[kept], split.y_train[chosen[kept]])


# ---------------------------------------------------------------- numbers and marks that are no digit

def styles_of(label: int, styles: tuple[Style, ...] = STYLES) -> list[Style]:
    return [style for style in styles if style.label == label]


def draw_number(digits: str, r: np.random.Generator, *, gap: float = 0.3) -> np.ndarray:
    """(h, w) uint8 white-on-black picture of `digits` written in a row by one writer.

    `gap` is the space between neighbouring digits as a share of their height (varied a
    little per pair); 0 makes them touch, below 0 overlap.
    """
    base = Writer.random(r, (0.6, 0.6))
    placed: Strokes = []
    right = 0.0
    for i, character in enumerate(digits):
        style = styles_of(int(character))[int(r.integers(len(styles_of(int(character)))))]
        writer = Writer(base.slant_deg + float(r.normal(0, 2)), _u(r, *style.aspect), base.height_px, base.pen,
                        base.speed, base.rotation_deg + float(r.normal(0, 2)))
        drawn = writer_strokes(style, writer, r)
        points = np.vstack(drawn)
        left = points[:, 0].min()
        space = 0.0 if i == 0 else (gap + float(r.normal(0, 0.04))) * base.height_px
        shift = np.array([right + space - left, float(r.normal(0, 0.04)) * base.height_px])
        placed += [stroke + shift for stroke in drawn]
        right = max(right, points[:, 0].max() + shift[0])
    return render(placed, max(1.0, base.pen * base.height_px), r)


def draw_wide(label: int, r: np.random.Generator, *, aspect: tuple[float, float] = (1.1, 1.8)) -> np.ndarray:
    """(h, w) uint8 picture of one digit written wider than tall (a round 0, a sweeping 2)."""
    style = styles_of(label)[int(r.integers(len(styles_of(label))))]
    writer = Writer.random(r, aspect)
    writer = Writer(writer.slant_deg / 3, _u(r, *aspect), writer.height_px, min(writer.pen, 0.1), writer.speed,
                    writer.rotation_deg / 2)
    return render(writer_strokes(style, writer, r), max(1.0, writer.pen * writer.height_px), r)


def draw_mark(kind: str, r: np.random.Generator) -> np.ndarray:
    """(h, w) uint8 picture of a mark that is no digit: a "dash", a "dot" or a long "line"."""
    pen = _u(r, 4, 14)
    if kind == "dot":
        size = _u(r, 0, pen)
        path = [spline([(0, 0), (size / 2, _u(r, -1, 1)), (size, 0)])]
    else:
        length = _u(r, 30, 90) if kind == "dash" else _u(r, 250, 600)
        tilt = math.radians(float(r.normal(0, 4)))
        path = [_wobble(line((0, 0), (length * math.cos(tilt), length * math.sin(tilt)), samples=30), r, 0.01 * length)]
    return render(path, pen, r)


if __name__ == "__main__":
    # python -m digitlab.strokes [out.png]: the contact sheet, one row per style, to look at.
    import sys

    out = sys.argv[1] if len(sys.argv) > 1 else "styles.png"
    cv2.imwrite(out, cv2.resize(contact_sheet(), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))
    print(f"{out}: {', '.join(STYLE_NAMES)}")
