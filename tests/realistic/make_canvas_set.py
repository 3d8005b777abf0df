"""Make the realistic canvas test set: digits drawn with the mouse on the app's real canvas.

Headless Chromium opens the running app's Draw page, sets the "Pen width" slider with the keyboard,
draws every sample stroke by stroke with the mouse (as a person would), saves the drawing canvas's
pixels exactly as the app receives them (RGBA PNG, white background, black strokes), then clicks
Clear and waits for the empty canvas before the next sample.

Samples are generated from stroke templates of how people write each digit (several styles per digit)
with per-person variation from a fixed seed: size, position, slant, rotation, aspect, wobble and pen
width. These are for measuring models only; never train on them.

    python tests/realistic/make_canvas_set.py              # start a server on a free port, draw all
    python tests/realistic/make_canvas_set.py --url http://127.0.0.1:8765   # use a running server
    python tests/realistic/make_canvas_set.py --preview /tmp/sheet.png      # templates only, no browser
    python tests/realistic/make_canvas_set.py --missing    # draw only the files not there yet

Writes tests/realistic/canvas/*.png and tests/realistic/canvas.csv (file,set,label,font,notes).
The PNGs are 620x300 gray+alpha (lossless: the canvas's RGBA has R = G = B and alpha 255); read them
as RGBA with digitlab.imageio.read_image, Pillow's convert("RGBA") or cv2.imread(..., IMREAD_UNCHANGED).
"""

from __future__ import annotations

import argparse
import base64
import csv
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the tests' shared helpers live in the repository's tests/

from tests.e2e.conftest import CHROMIUM_ARGS, start_app  # noqa: E402
from tests.e2e.strokes import draw_strokes as draw_on_canvas, wait_stable  # noqa: E402
OUT_DIR = HERE / "canvas"
CSV_PATH = HERE / "canvas.csv"
SEED = 20240611
CANVAS_W, CANVAS_H = 620, 300
DEFAULT_PEN = 18
PEN_MIN, PEN_MAX = 8, 36
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = (1920, 1080)  # a desktop window: at 1400 px the right column covers the canvas's right edge
# The drawing surface's rendered image (Fabric's lower canvas of the drawing layer; a second
# "lower-canvas", the background layer, comes first in the DOM and stays transparent).
DRAWN_CANVAS = "canvas.dc-canvas.lower-canvas"


# --------------------------------------------------------------------------------------------------
# Stroke templates. Box: y from 0 (top) to 1 (bottom), x roughly 0..0.8; y grows downwards.
# Angles of arc() are in degrees with y down: 0 right, 90 bottom, 180 left, -90 top; increasing
# angles run clockwise on screen.
# --------------------------------------------------------------------------------------------------

def arc(cx, cy, rx, ry, t0, t1, step=5.0):
    n = max(3, int(abs(t1 - t0) / step) + 1)
    t = np.radians(np.linspace(t0, t1, n))
    return np.c_[cx + rx * np.cos(t), cy + ry * np.sin(t)]


def bezier(p0, p1, p2, n=16):
    s = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, float) for p in (p0, p1, p2))
    return (1 - s) ** 2 * p0 + 2 * (1 - s) * s * p1 + s ** 2 * p2


def pts(*points):
    return np.asarray(points, float)


def join(*parts):
    """One stroke from consecutive pieces (a piece's first point repeats the previous one's last)."""
    out = [np.asarray(parts[0], float)]
    for part in parts[1:]:
        part = np.asarray(part, float)
        if np.allclose(out[-1][-1], part[0]):
            part = part[1:]
        out.append(part)
    return np.concatenate(out)


def one_bar(r):
    return [pts((0, 0), (r.uniform(-0.03, 0.03), 1))]


def one_flag(r):
    flag = (-r.uniform(0.17, 0.27), r.uniform(0.16, 0.26))
    return [pts(flag, (0, 0), (r.uniform(-0.02, 0.02), 1))]


def one_flag_base(r):
    half = r.uniform(0.2, 0.28)
    return one_flag(r) + [pts((-half, 1 + r.uniform(-0.01, 0.02)), (half, 1 + r.uniform(-0.02, 0.01)))]


def seven_plain(r):
    w = r.uniform(0.6, 0.75)
    return [pts((0, r.uniform(0, 0.04)), (w, r.uniform(-0.01, 0.03)), (w * r.uniform(0.25, 0.45), 1))]


def seven_crossbar(r):
    (stroke,) = seven_plain(r)
    (_, _), (tx, ty), (bx, by) = stroke
    y = r.uniform(0.48, 0.58)
    x = tx + (bx - tx) * (y - ty) / (by - ty)
    half = r.uniform(0.15, 0.22)
    return [stroke, pts((x - half, y), (x + half, y - r.uniform(0, 0.03)))]


def four_closed(r):
    apex, bar = r.uniform(0.45, 0.55), r.uniform(0.6, 0.68)
    return [pts((apex, 0), (0, bar), (r.uniform(0.7, 0.8), bar - r.uniform(0, 0.03))),
            pts((apex + r.uniform(0, 0.04), r.uniform(0.0, 0.1)), (apex + r.uniform(0, 0.04), 1))]


def four_open(r):
    bar, right = r.uniform(0.52, 0.62), r.uniform(0.5, 0.6)
    return [pts((r.uniform(0.06, 0.12), 0), (0, bar), (r.uniform(0.72, 0.82), bar - r.uniform(0, 0.03))),
            pts((right, r.uniform(0.0, 0.06)), (right - r.uniform(0, 0.04), 1))]


def _nine_head(r):
    rx, ry = r.uniform(0.28, 0.36), r.uniform(0.22, 0.28)
    cx, cy = rx, ry
    start = r.uniform(-25, 0)
    head = arc(cx, cy, rx, ry, start, -360 + r.uniform(-10, 5))  # counter-clockwise from the right
    return head, cx + rx, cy


def nine_straight(r):
    head, x, y = _nine_head(r)
    return [join(head, pts(head[-1], (x - r.uniform(-0.02, 0.06), 1)))]


def nine_curved(r):
    head, x, y = _nine_head(r)
    down = (x - r.uniform(0, 0.04), r.uniform(0.7, 0.78))
    tail = bezier(down, (down[0] - r.uniform(0.0, 0.04), 1.0), (x - r.uniform(0.38, 0.5), r.uniform(0.94, 1.0)))
    return [join(head, pts(head[-1], down), tail)]


def _two_top(r):
    rx, ry = r.uniform(0.3, 0.36), r.uniform(0.24, 0.3)
    top = arc(rx, ry, rx, ry, r.uniform(-175, -150), r.uniform(10, 30))
    return top, rx


def two_plain(r):
    top, rx = _two_top(r)
    corner = (r.uniform(0, 0.05), 1)
    neck = bezier(top[-1], (rx * r.uniform(1.1, 1.4), 0.72), corner)
    base = pts(corner, (r.uniform(0.66, 0.78), 1 - r.uniform(0, 0.03)))
    return [join(top, neck, base)]


def two_loop(r):
    top, rx = _two_top(r)
    lr, lc = r.uniform(0.07, 0.1), (r.uniform(0.1, 0.14), r.uniform(0.86, 0.9))
    loop = arc(lc[0], lc[1], lr, lr * 0.9, 40, 320)  # clockwise: bottom, left, top, then heading down-right
    neck = bezier(top[-1], (rx * r.uniform(1.0, 1.3), 0.66), loop[0])
    base = bezier(loop[-1], (lc[0] + 0.12, 1.0), (r.uniform(0.68, 0.8), 1 - r.uniform(0, 0.03)))
    return [join(top, neck, loop, base)]


def zero_oval(r):
    rx = r.uniform(0.26, 0.4)
    start = -90 + r.uniform(-30, 25)
    end = start - 360 - r.uniform(-5, 25)
    oval = arc(rx, 0.5, rx, 0.5, start, end)
    # People close a zero a little apart or overlapping, and one side is often flatter.
    oval[:, 0] = rx + (oval[:, 0] - rx) * np.where(oval[:, 0] > rx, r.uniform(0.85, 1.1), 1)
    return [oval]


def eight_one_stroke(r):
    split = r.uniform(0.4, 0.47)             # where the two loops cross
    up_w, lo_w = r.uniform(0.2, 0.28), r.uniform(0.26, 0.34)
    t = np.linspace(math.pi / 2 - 0.7, 2.5 * math.pi - 0.7 + r.uniform(0.1, 0.4), 150)
    s = np.sin(t)
    x = np.where(s > 0, up_w, lo_w) * np.sin(2 * t) + 0.34
    y = np.where(s > 0, split - split * s, split - (1 - split) * s)
    return [np.c_[x, y]]


def eight_two_circles(r):
    top_r, bot_r = r.uniform(0.2, 0.25), r.uniform(0.26, 0.32)
    top_h = r.uniform(0.42, 0.48)
    top = arc(0.34, top_h / 2, top_r, top_h / 2, -60, -420)
    bottom = arc(0.34, top_h + (1 - top_h) / 2 - 0.02, bot_r, (1 - top_h) / 2 + 0.02, -80, -440)
    return [top, bottom]


def _six_loop(r, cy, rx, ry):
    return arc(0.1 + rx, cy, rx, ry, 180, 180 - 330 - r.uniform(0, 30))


def six_round(r):
    rx, ry = r.uniform(0.28, 0.34), r.uniform(0.24, 0.3)
    cy = 1 - ry
    loop = _six_loop(r, cy, rx, ry)
    stem = bezier((r.uniform(0.55, 0.7), 0), (0.1, r.uniform(0.05, 0.15)), loop[0], n=24)
    return [join(stem, loop)]


def six_straight(r):
    rx, ry = r.uniform(0.24, 0.3), r.uniform(0.2, 0.26)
    cy = 1 - ry
    loop = _six_loop(r, cy, rx, ry)
    stem = bezier((r.uniform(0.5, 0.62), 0), (0.06, r.uniform(0.3, 0.4)), loop[0], n=24)
    return [join(stem, loop)]


def _five_bowl(r, top):
    rx, ry = r.uniform(0.3, 0.36), r.uniform(0.26, 0.31)
    cx, cy = 0.06 + rx * 0.85, 1 - ry
    bowl = arc(cx, cy, rx, ry, -130, r.uniform(125, 150))
    stem = pts(top, bowl[0])
    return join(stem, bowl)


def five_two_strokes(r):
    top = (r.uniform(0.06, 0.12), 0)
    body = _five_bowl(r, top)
    return [body, pts((top[0] + r.uniform(-0.02, 0.02), r.uniform(-0.02, 0.02)),
                      (r.uniform(0.6, 0.72), r.uniform(-0.03, 0.03)))]


def five_one_stroke(r):
    top = (r.uniform(0.06, 0.12), 0)
    body = _five_bowl(r, top)
    return [join(pts((r.uniform(0.6, 0.72), r.uniform(-0.02, 0.02)), top), body)]


def three_round(r):
    mid = r.uniform(0.44, 0.5)
    up = arc(0.32, mid / 2, r.uniform(0.26, 0.3), mid / 2, r.uniform(-170, -150), 90)
    lo_rx = r.uniform(0.32, 0.38)
    low = arc(0.32 + r.uniform(0, 0.04), mid + (1 - mid) / 2, lo_rx, (1 - mid) / 2, -90, r.uniform(140, 160))
    return [join(up, pts(up[-1], (up[-1][0] - 0.06, mid)), low)]


def three_flat_top(r):
    mid = r.uniform(0.4, 0.46)
    corner = (r.uniform(0.6, 0.7), 0)
    lo_rx = r.uniform(0.32, 0.38)
    low = arc(0.32, mid + (1 - mid) / 2, lo_rx, (1 - mid) / 2, -105, r.uniform(140, 160))
    return [join(pts((0.02, r.uniform(0, 0.03)), corner, low[0]), low)]


STYLES = {
    "1": {"bar": one_bar, "flag": one_flag, "flagbase": one_flag_base},
    "2": {"plain": two_plain, "loop": two_loop},
    "3": {"round": three_round, "flattop": three_flat_top},
    "4": {"closed": four_closed, "open": four_open},
    "5": {"twostroke": five_two_strokes, "onestroke": five_one_stroke},
    "6": {"round": six_round, "straight": six_straight},
    "7": {"plain": seven_plain, "crossbar": seven_crossbar},
    "8": {"onestroke": eight_one_stroke, "twocircles": eight_two_circles},
    "9": {"straight": nine_straight, "curved": nine_curved},
    "0": {"oval": zero_oval},
}


# --------------------------------------------------------------------------------------------------
# Per-person variation
# --------------------------------------------------------------------------------------------------

def densify(stroke, spacing):
    """Points every `spacing` px or closer, keeping every template point (corners stay corners)."""
    out = [stroke[0]]
    for a, b in zip(stroke[:-1], stroke[1:]):
        n = max(1, int(math.ceil(np.linalg.norm(b - a) / spacing)))
        out.extend(a + (b - a) * (i / n) for i in range(1, n + 1))
    return np.asarray(out)


def wobble(stroke, r, amplitude):
    """Smooth hand tremor: random offsets at knots every ~40 px of path, interpolated, plus a little noise."""
    seg = np.r_[0, np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))]
    length = max(seg[-1], 1e-6)
    knots = np.linspace(0, length, max(2, int(length / 40) + 2))
    offsets = r.normal(0, amplitude, (len(knots), 2))
    smooth = np.c_[np.interp(seg, knots, offsets[:, 0]), np.interp(seg, knots, offsets[:, 1])]
    return stroke + smooth + r.normal(0, 0.3, stroke.shape)


def shape(template, r, *, height, slant, rotation, aspect):
    """Template strokes, normalised, stretched, slanted, rotated and scaled to `height` px (centred at 0)."""
    strokes = [np.asarray(s, float).copy() for s in template(r)]
    allp = np.concatenate(strokes)
    lo, hi = allp.min(0), allp.max(0)
    centre, h = (lo + hi) / 2, hi[1] - lo[1]
    sh, c, s = math.tan(math.radians(slant)), math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    out = []
    for stroke in strokes:
        p = (stroke - centre) / h
        p[:, 0] *= aspect
        p[:, 0] -= p[:, 1] * sh                       # forward slant: the top leans right
        p = p @ np.array([[c, s], [-s, c]])           # rotation (clockwise on screen for positive angles)
        out.append(p)
    if template in (one_flag, one_flag_base):
        steepen_flag(out[0], r)
    allp = np.concatenate(out)
    scale = height / (allp[:, 1].max() - allp[:, 1].min())
    return [p * scale for p in out]


def steepen_flag(stroke, r):
    """A 1's flag points down-left, 25-60 deg off the stem and at least 35 deg below the horizontal:
    slant and rotation can turn it flat (a 7) or along the stem, so then a person would draw it anew."""
    tip, top, bottom = stroke[0], stroke[1], stroke[-1]
    v, d = tip - top, bottom - top
    stem, flag = math.degrees(math.atan2(d[1], d[0])), math.degrees(math.atan2(v[1], v[0]))
    length = np.linalg.norm(v)
    if 25 <= flag - stem <= 60 and flag <= 145 and 0.12 <= length <= 0.3:
        return
    angle = math.radians(min(stem + r.uniform(30, 50), 145 - r.uniform(0, 10)))
    stroke[0] = top + float(np.clip(length, 0.15, 0.26)) * np.array([math.cos(angle), math.sin(angle)])


def humanise(strokes, r, height):
    out = []
    for i, stroke in enumerate(strokes):
        stroke = densify(stroke, 5.0)
        stroke = wobble(stroke, r, 0.01 * height)
        if i:  # later strokes land a little off where they were meant to
            stroke = stroke + r.normal(0, 0.015 * height, 2)
        out.append(stroke)
    return out


def bounds(strokes):
    allp = np.concatenate(strokes)
    return allp.min(0), allp.max(0)


def pick_pen(r, height):
    most = int(min(PEN_MAX, max(PEN_MIN + 4, height / 5 + 2)))
    if r.random() < 0.35 and most >= DEFAULT_PEN:
        return DEFAULT_PEN
    return int(r.integers(PEN_MIN, most + 1))


def place(strokes, r, pen, *, corner_bias=0.3):
    """Move strokes (centred near 0) to a random spot where all ink stays on the canvas."""
    lo, hi = bounds(strokes)
    margin = pen / 2 + 3
    xmin, xmax = margin - lo[0], CANVAS_W - margin - hi[0]
    ymin, ymax = margin - lo[1], CANVAS_H - margin - hi[1]
    if xmax < xmin or ymax < ymin:
        raise ValueError("does not fit")
    if r.random() < corner_bias:  # near an edge or a corner
        x = xmin if r.random() < 0.5 else xmax
        y = ymin if r.random() < 0.5 else ymax
        x += (xmax - xmin) * r.uniform(0, 0.08) * (1 if x == xmin else -1)
        y += (ymax - ymin) * r.uniform(0, 0.15) * (1 if y == ymin else -1)
        if r.random() < 0.4:
            x = r.uniform(xmin, xmax)
    else:
        x, y = r.uniform(xmin, xmax), r.uniform(ymin, ymax)
    return [s + (x, y) for s in strokes]


def single_specs(r):
    specs = []
    for digit, styles in STYLES.items():
        names = list(styles)
        per_style = [30 // len(names) + (i < 30 % len(names)) for i in range(len(names))]
        for name, count in zip(names, per_style):
            for k in range(count):
                height = r.uniform(80, 260)
                slant, rotation, aspect = r.uniform(-20, 20), r.uniform(-10, 10), r.uniform(0.8, 1.25)
                pen = pick_pen(r, height)
                height = min(height, CANVAS_H - pen - 8)
                for _ in range(20):
                    strokes = shape(styles[name], r, height=height, slant=slant, rotation=rotation, aspect=aspect)
                    try:
                        strokes = place(humanise(strokes, r, height), r, pen)
                        break
                    except ValueError:
                        height *= 0.95
                idx = len([s for s in specs if s["label"] == digit and s["font"] == name])
                specs.append({
                    "name": f"d{digit}_{name}_{idx:03d}.png", "set": "canvas", "label": digit, "font": name,
                    "pen": pen, "strokes": strokes,
                    "notes": f"pen {pen}; height {height:.0f} px; slant {slant:+.0f} deg; rotation {rotation:+.0f} deg; "
                             f"aspect {aspect:.2f}",
                })
    return specs


def number_specs(r, count=30):
    labels = ["2024"]
    while len(labels) < count:
        n = int(r.integers(2, 5))
        label = str(int(r.integers(1, 10))) + "".join(str(d) for d in r.integers(0, 10, n - 1))
        labels.append(label)
    specs = []
    for i, label in enumerate(labels):
        height = r.uniform(80, 200)
        slant, aspect = r.uniform(-20, 20), r.uniform(0.8, 1.2)
        pen = pick_pen(r, height)
        touching = r.random() < 0.25
        styles = [str(r.choice(list(STYLES[d]))) for d in label]
        for _ in range(40):
            digits, gaps = [], []
            for d, name in zip(label, styles):
                h = height * r.uniform(0.9, 1.08)
                strokes = shape(STYLES[d][name], r, height=h, slant=slant + r.uniform(-3, 3),
                                rotation=r.uniform(-4, 4), aspect=aspect * r.uniform(0.93, 1.07))
                digits.append(humanise(strokes, r, h))
                gaps.append(r.uniform(3, 9) if touching else r.uniform(15, 60))
            # lay the digits out left to right, gaps measured between inked boxes
            laid, x = [], 0.0
            for k, strokes in enumerate(digits):
                lo, hi = bounds(strokes)
                dy = r.normal(0, 0.04 * height)
                laid.append([s + (x - lo[0], dy) for s in strokes])
                x += (hi[0] - lo[0]) + pen + gaps[k]
            # never let two digits' ink actually touch (the set is about reading, not splitting)
            ok = True
            for a, b in zip(laid[:-1], laid[1:]):
                pa, pb = np.concatenate(a), np.concatenate(b)
                dist = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(-1)).min()
                if dist - pen < 3:
                    ok = False
            lo, hi = bounds([s for strokes in laid for s in strokes])
            if ok and hi[0] - lo[0] + pen + 8 <= CANVAS_W and hi[1] - lo[1] + pen + 8 <= CANVAS_H:
                break
            height *= 0.94
        else:
            raise RuntimeError(f"number {label} does not fit")
        flat = [s for strokes in laid for s in strokes]
        lo, hi = bounds(flat)
        centre = (lo + hi) / 2
        flat = place([s - centre for s in flat], r, pen, corner_bias=0.15)
        specs.append({
            "name": f"n{label}_{i:03d}.png", "set": "canvas-numbers", "label": label, "font": "+".join(styles),
            "pen": pen, "strokes": flat,
            "notes": f"pen {pen}; height {height:.0f} px; slant {slant:+.0f} deg; "
                     f"{'nearly touching' if touching else 'spaced'}",
        })
    return specs


def all_specs(seed=SEED):
    r = np.random.default_rng(seed)
    return single_specs(r) + number_specs(r)


def render(strokes, pen):
    """What the strokes should look like (ink mask, 0..255), for checks and previews."""
    img = np.zeros((CANVAS_H, CANVAS_W), np.uint8)
    for s in strokes:
        cv2.polylines(img, [np.round(s * 4).astype(np.int32)], False, 255, pen, cv2.LINE_AA, shift=2)
        cv2.circle(img, tuple(np.round(s[0]).astype(int)), pen // 2, 255, -1, cv2.LINE_AA)
        cv2.circle(img, tuple(np.round(s[-1]).astype(int)), pen // 2, 255, -1, cv2.LINE_AA)
    return img


def contact_sheet(images, captions, path, cols=8, scale=0.3):
    tiles = []
    for img, cap in zip(images, captions):
        t = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if t.ndim == 2:
            t = cv2.cvtColor(t, cv2.COLOR_GRAY2BGR)
        t = cv2.copyMakeBorder(t, 14, 2, 2, 2, cv2.BORDER_CONSTANT, value=(200, 200, 200))
        cv2.putText(t, cap, (3, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 160), 1, cv2.LINE_AA)
        tiles.append(t)
    while len(tiles) % cols:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)]
    cv2.imwrite(str(path), np.vstack(rows))


# --------------------------------------------------------------------------------------------------
# Drawing in the app
# --------------------------------------------------------------------------------------------------

def start_server(port):
    """The app on the repository's own models/ (the e2e tests' starter)."""
    return start_app({k: v for k, v in os.environ.items() if k != "DIGITLAB_MODELS"}, port=port)


HIT_JS = """([x, y]) => { let e = document.elementFromPoint(x, y);
  while (e && e.shadowRoot) { const inner = e.shadowRoot.elementFromPoint(x, y); if (!inner || inner === e) break; e = inner; }
  return e ? e.tagName + '.' + e.className : ''; }"""


def check_reachable(page):
    """Every corner of the canvas must take the mouse. In a narrow window the page's right column
    covers the canvas's right part (at 1400 px wide, about its last 90 px), so strokes there are lost."""
    box = wait_stable(page, page.locator("canvas.upper-canvas").first)
    hover(page, box)
    # (the toolbar keeps its top-right 4 px strip even then: no stroke is planned within 7 px of an edge)
    for fx, fy in ((0.012, 0.025), (0.988, 0.025), (0.012, 0.975), (0.988, 0.975)):
        hit = page.evaluate(HIT_JS, [box["x"] + fx * box["width"], box["y"] + fy * box["height"]])
        if "upper-canvas" not in hit:
            raise RuntimeError(f"the canvas is covered at ({fx:.0%}, {fy:.0%}) of it by {hit}: widen VIEWPORT")


INK_JS = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; }"""


def set_pen(page, width):
    slider = page.get_by_role("slider", name="Pen width")
    current = int(slider.input_value())
    if current == width:
        return
    slider.focus()
    key = "ArrowRight" if width > current else "ArrowLeft"
    for _ in range(abs(width - current)):
        page.keyboard.press(key)
    deadline = time.time() + 10
    while int(slider.input_value()) != width:
        if time.time() > deadline:
            raise RuntimeError(f"pen width slider stuck at {slider.input_value()}, wanted {width}")
        page.wait_for_timeout(100)
    # The slider reports its value after a debounce; the rerun then hands the canvas the new width and
    # the canvas re-renders: a stroke drawn before that is lost. Wait for that rerun to start and end.
    wait_rerun(page, start_timeout_s=6)
    page.wait_for_timeout(500)


def script_state(page):
    return page.locator("[data-test-script-state]").first.get_attribute("data-test-script-state")


def wait_rerun(page, start_timeout_s=0.0, timeout_s=60):
    """Wait (up to `start_timeout_s`) for the app's script to start running, then until it is done."""
    deadline = time.time() + start_timeout_s
    while script_state(page) != "running" and time.time() < deadline:
        page.wait_for_timeout(50)
    deadline = time.time() + timeout_s
    while script_state(page) == "running":
        if time.time() > deadline:
            raise TimeoutError("the app kept running")
        page.wait_for_timeout(50)


def hover(page, box):
    """Rest the mouse on the canvas: the canvas's toolbar covers its top-right strip (about 125x18 px)
    until the mouse is over the canvas, then slides up above it."""
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    page.wait_for_timeout(500)
    toolbar = page.locator("button.dc-icon-button").first.bounding_box()
    if toolbar and toolbar["y"] + toolbar["height"] > box["y"] + 0.5:
        raise RuntimeError(f"the canvas toolbar still covers the canvas: {toolbar} over {box}")


def draw_strokes(page, strokes):
    box = wait_stable(page, page.locator("canvas.upper-canvas").first)
    hover(page, box)
    draw_on_canvas(page, [np.asarray(stroke).tolist() for stroke in strokes], box=box, steps=2,
                   pause_ms=lambda: 120 + 100 * np.random.random())


def grab(page):
    url = page.locator(DRAWN_CANVAS).first.evaluate("c => c.toDataURL('image/png')")
    data = np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8)
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)  # BGRA


def clear(page):
    wait_rerun(page)
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the canvas").wait_for()
    wait_rerun(page)
    canvas = page.locator(DRAWN_CANVAS).first
    deadline = time.time() + 20
    while canvas.evaluate(INK_JS):
        if time.time() > deadline:
            raise RuntimeError("the canvas did not empty after Clear")
        page.wait_for_timeout(150)


def check(drawn, spec):
    """The drawing must match the planned strokes: nothing dropped, nothing extra, the planned pen."""
    ink = (255 - drawn[..., :3].min(2)) > 127
    want = render(spec["strokes"], spec["pen"]) > 127
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    covered = (ink & cv2.dilate(want.astype(np.uint8), kernel).astype(bool)).sum() / max(ink.sum(), 1)
    found = (want & cv2.dilate(ink.astype(np.uint8), kernel).astype(bool)).sum() / max(want.sum(), 1)
    ratio = ink.sum() / max(want.sum(), 1)
    ok = covered > 0.97 and found > 0.97 and 0.75 < ratio < 1.3
    return ok, f"covered {covered:.3f} found {found:.3f} area ratio {ratio:.2f}"


def generate(args):
    specs = all_specs(args.seed)
    if args.limit:
        specs = specs[::max(1, len(specs) // args.limit)][:args.limit]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    todo = [s for s in specs if not (args.missing and (OUT_DIR / s["name"]).exists())]
    # Draw in order of pen width: the slider moves ~30 times instead of once per sample.
    todo.sort(key=lambda s: (s["pen"], s["name"]))
    server = None
    url = args.url
    if url is None:
        server, url = start_server(args.port)
    started = time.time()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]}).new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_text("Draw a digit on the canvas").wait_for()
            check_reachable(page)
            for n, spec in enumerate(todo, 1):
                for attempt in range(3):
                    set_pen(page, spec["pen"])
                    draw_strokes(page, spec["strokes"])
                    page.wait_for_timeout(250)
                    drawn = grab(page)
                    ok, why = check(drawn, spec)
                    clear(page)
                    if ok:
                        break
                    print(f"  redraw {spec['name']}: {why}", flush=True)
                else:
                    raise RuntimeError(f"{spec['name']} never came out as planned: {why}")
                if args.half:
                    drawn = cv2.resize(drawn, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
                save_png(OUT_DIR / spec["name"], drawn)
                if n % 10 == 0 or n == len(todo):
                    print(f"{n}/{len(todo)} drawn, {time.time() - started:.0f} s", flush=True)
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    write_csv(specs)
    print(f"done in {time.time() - started:.0f} s")


def save_png(path, bgra):
    """Save the canvas pixels losslessly and small: canvas drawings are gray (R = G = B) and opaque, so an
    8-bit gray+alpha PNG holds exactly the RGBA the app got in ~60 % of an RGBA PNG's bytes.
    cv2.imread(..., IMREAD_UNCHANGED) gives the same BGRA back, Pillow's convert("RGBA") the same RGBA."""
    from PIL import Image

    if not ((bgra[..., 0] == bgra[..., 1]).all() and (bgra[..., 1] == bgra[..., 2]).all()):
        cv2.imwrite(str(path), bgra, [cv2.IMWRITE_PNG_COMPRESSION, 9])  # not gray: keep all four channels
        return
    Image.fromarray(np.dstack([bgra[..., 0], bgra[..., 3]]), "LA").save(path, "PNG", optimize=True)
    if not (cv2.imread(str(path), cv2.IMREAD_UNCHANGED) == bgra).all():
        raise RuntimeError(f"{path} did not round-trip")


def write_csv(specs):
    with open(CSV_PATH, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "set", "label", "font", "notes"])
        for s in specs:
            if (OUT_DIR / s["name"]).exists():
                w.writerow([f"canvas/{s['name']}", s["set"], s["label"], s["font"], s["notes"]])


def preview(args):
    specs = all_specs(args.seed)
    step = max(1, len(specs) // 64)
    chosen = specs[::step]
    images = [255 - render(s["strokes"], s["pen"]) for s in chosen]
    contact_sheet(images, [s["name"][:-4] for s in chosen], args.preview)
    print(f"{len(specs)} specs, sheet of {len(chosen)} in {args.preview}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running app (default: start one on a free port)")
    ap.add_argument("--port", type=int, help="port for the server this script starts")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--missing", action="store_true", help="draw only the files not there yet")
    ap.add_argument("--limit", type=int, help="draw only this many samples, spread over the set (a trial)")
    ap.add_argument("--half", action="store_true", help="save at 50 %% (INTER_AREA) to keep the folder small")
    ap.add_argument("--preview", help="render the planned strokes to this contact sheet, no browser")
    args = ap.parse_args()
    if args.preview:
        preview(args)
    else:
        generate(args)


if __name__ == "__main__":
    main()
