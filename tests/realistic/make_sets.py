#!/usr/bin/env python3
"""Generate the realistic (non-MNIST) handwritten-digit test sets.

Usage (from the repository root, after installing the fonts, see README.md):

    python tests/realistic/make_sets.py            # writes into tests/realistic/
    python tests/realistic/make_sets.py --out DIR  # writes somewhere else

Everything is driven by fixed seeds, so re-running with the same fonts,
Pillow/FreeType, numpy and OpenCV versions gives the same images.  The
generated images are committed next to this script, so tests and CI never
need the fonts.

Sets written (paths relative to the output folder):

* ``fonts/``   single digits, dark ink on white, 200-300 px RGB PNG,
               varied size, position, rotation and stroke thickness.
* ``photos/``  synthetic phone photos of one digit on paper (tinted paper,
               texture, ruled/squared lines, lighting gradient, shadow,
               perspective, blur, sensor noise, JPEG; some with an EXIF
               orientation tag).
* ``numbers/`` 2-5 digit numbers, on white (PNG) and on photo-like paper
               (JPEG), with varied spacing including touching digits.
* ``manifest.csv``  file,set,label,font,notes
"""
from __future__ import annotations

import argparse
import csv
import math
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

HERE = Path(__file__).resolve().parent
SEED = 20240611

SET_FONTS, SET_PHOTOS, SET_NUMBERS = 1, 2, 3
N_FONT_VARIANTS = 3
N_PHOTOS = 200
N_NUMBERS = 60

# photo realism knobs (also keep the committed JPEGs small)
NOISE_RANGE = (0.004, 0.010)   # sensor noise std, fraction of full scale
GRAIN_RANGE = (0.002, 0.006)   # fine paper grain amplitude
JPEG_Q_RANGE = (60, 81)        # JPEG quality, [lo, hi)
MASK_LEVELS = 32               # ink coverage quantisation for the PNGs (smaller files)

# key, Debian package, font file, min stroke, max stroke (Pillow stroke_width)
FONTS = [
    ("dkg", "fonts-dkg-handwriting", "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", 0, 3),
    ("bwht_create", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf", 0, 3),
    ("bwht_organize", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf", 0, 3),
    ("bwht_learn", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf", 0, 1),
    ("dancingscript", "fonts-dancingscript", "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf", 0, 3),
    ("ecolier", "fonts-ecolier-court", "/usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf", 1, 3),
    ("humorsans", "fonts-humor-sans", "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf", 0, 0),
    ("rufscript", "fonts-rufscript", "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf", 0, 2),
    ("stevehand", "fonts-sjfonts", "/usr/share/fonts/truetype/sjfonts/SteveHand.ttf", 0, 3),
    ("delphine", "fonts-sjfonts", "/usr/share/fonts/truetype/sjfonts/Delphine.ttf", 0, 3),
]

# (font key, digit) glyphs a person could misread; never used.
EXCLUDE: set[tuple[str, int]] = {
    ("bwht_learn", 6),  # looks like "lo"
    ("bwht_learn", 7),  # short top bar + long crossbar: reads as "+" or "t"
    ("delphine", 1),    # long up-stroke, reads as "^" or a 7
    ("ecolier", 4),     # hairline diagonal vanishes: reads as a 1
}

# Ink colours as RGB reflectance (multiplied onto the paper).
INKS_WHITE = [  # for the "on white" images: dark inks
    ("black", (0.07, 0.07, 0.08)),
    ("blueblack", (0.10, 0.12, 0.27)),
    ("darkblue", (0.12, 0.18, 0.48)),
    ("darkgrey", (0.22, 0.22, 0.24)),
]
INKS_PHOTO = [  # pen and pencil as a camera sees them: never pure black
    ("blackpen", (0.12, 0.12, 0.14)),
    ("bluepen", (0.16, 0.22, 0.55)),
    ("bluepen", (0.20, 0.26, 0.62)),
    ("blueblack", (0.14, 0.15, 0.30)),
    ("pencil", (0.34, 0.34, 0.37)),
    ("felttip", (0.09, 0.10, 0.16)),
]
PAPERS = [  # paper reflectance under neutral light
    ("white", (0.95, 0.95, 0.94)),
    ("offwhite", (0.93, 0.92, 0.88)),
    ("cream", (0.94, 0.91, 0.82)),
    ("recycled", (0.86, 0.85, 0.81)),
    ("yellowpad", (0.96, 0.93, 0.68)),
    ("bluish", (0.88, 0.91, 0.94)),
]
DESKS = [
    ("wood", (0.45, 0.31, 0.20)),
    ("greydesk", (0.38, 0.38, 0.40)),
    ("darkdesk", (0.14, 0.14, 0.16)),
]


def rng_for(*keys: int) -> np.random.Generator:
    """A generator seeded by SEED and the given non-negative integer keys."""
    return np.random.default_rng([SEED, *keys])


def pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


# --------------------------------------------------------------------------
# Font rendering
# --------------------------------------------------------------------------
class Font:
    REF_SIZE = 200

    def __init__(self, key: str, package: str, path: str, min_stroke: int, max_stroke: int):
        self.key, self.package, self.path = key, package, path
        self.min_stroke, self.max_stroke = min_stroke, max_stroke
        if not Path(path).exists():
            sys.exit(f"missing font {path}: apt-get install {package}")
        self._cache: dict[int, ImageFont.FreeTypeFont] = {}
        heights = []
        for d in "0123456789":
            m, _ = self._render(d, self.REF_SIZE, 0, 0.0)
            heights.append(m.shape[0])
        # px of a typical digit per px of font size
        self.digit_height_per_size = float(np.median(heights)) / self.REF_SIZE

    def truetype(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._cache:
            self._cache[size] = ImageFont.truetype(self.path, size)
        return self._cache[size]

    def _render(self, ch: str, size: int, stroke: int, rot: float):
        font = self.truetype(size)
        left, top, right, bottom = font.getbbox(ch, stroke_width=stroke, anchor="ls")
        pad = stroke + 6
        img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
        ImageDraw.Draw(img).text((pad - left, pad - top), ch, font=font, fill=255, anchor="ls",
                                 stroke_width=stroke, stroke_fill=255)
        baseline = pad - top
        if rot:
            h0 = img.height
            img = img.rotate(rot, resample=Image.BICUBIC, expand=True, fillcolor=0)
            baseline = img.height / 2 - (h0 / 2 - baseline)
        bbox = img.getbbox()
        if bbox is None:
            raise ValueError(f"font {self.key} renders {ch!r} empty")
        img = img.crop(bbox)
        return np.asarray(img, dtype=np.float32) / 255.0, bbox[1] - baseline

    def ink_mask(self, ch: str, height: float, stroke: int = 0, rot: float = 0.0):
        """Ink coverage (0..1, tight crop) of `ch` whose typical digit is `height` px tall.

        Returns (mask, top) where `top` is the mask's top edge relative to the baseline.
        """
        size = max(8, int(round(height / self.digit_height_per_size)))
        return self._render(ch, size, stroke, rot)


def stroke_for(rng, font: Font, height: float) -> int:
    """Pillow stroke width 0-3 px, limited for small digits and bold fonts."""
    hi = min(font.max_stroke, max(font.min_stroke, int(height // 35)))
    return int(rng.integers(font.min_stroke, hi + 1))


def number_mask(rng, font: Font, label: str, height: float, stroke: int, gap: float):
    """Lay out the digits of `label` side by side.

    `gap` is the smallest horizontal ink-to-ink distance between neighbouring
    digits (measured row by row), in units of `height`: 0 means the strokes
    just touch, negative values overlap them by a pixel or two.  A "1" is never
    made to touch its neighbours (it would read as part of them).
    """
    parts = []
    for ch in label:
        h = height * float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1))
        m, top = font.ink_mask(ch, h, stroke, float(rng.uniform(-5, 5)))
        dy = float(rng.normal(0, 0.03)) * height
        parts.append((m, top + dy))
    y0 = min(t for _, t in parts)
    out_h = int(math.ceil(max(t + m.shape[0] for m, t in parts) - y0)) + 2
    out = np.zeros((out_h, sum(m.shape[1] for m, _ in parts) + int(len(parts) * max(gap, 0.6) * height) + 8),
                   np.float32)
    right = np.full(out_h, -1.0)  # rightmost ink column per row so far
    for i, (m, t) in enumerate(parts):
        yy = int(round(t - y0))
        ink = m > 0.35
        rows = np.nonzero(ink.any(axis=1))[0]
        left = np.full(m.shape[0], np.inf)
        left[rows] = ink[rows].argmax(axis=1)
        if i == 0:
            xx = 0
        else:
            g = (gap + float(rng.normal(0, 0.01))) * height if gap > 0.005 else gap * height
            if "1" in label[i - 1:i + 1]:
                g = max(g, 0.07 * height)  # a 1 touching a neighbour merges into it: keep it apart
            prev = right[yy:yy + m.shape[0]]
            both = (prev >= 0) & np.isfinite(left)
            if both.any():
                xx = int(math.ceil(np.max(prev[both] - left[both]) + 1 + g))
            else:  # no common rows: fall back to the bounding boxes
                xx = int(math.ceil(right.max() + 1 + g))
            xx = max(0, xx)
        region = out[yy:yy + m.shape[0], xx:xx + m.shape[1]]
        np.maximum(region, m, out=region)
        cols = np.where(ink.any(axis=1), m.shape[1] - 1 - ink[:, ::-1].argmax(axis=1), -1)
        right[yy:yy + m.shape[0]] = np.maximum(right[yy:yy + m.shape[0]], np.where(cols >= 0, cols + xx, -1))
    ys, xs = np.nonzero(out > 0.02)
    return out[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


# --------------------------------------------------------------------------
# Composition helpers
# --------------------------------------------------------------------------
def smooth_noise(rng, h: int, w: int, sigma: float) -> np.ndarray:
    """Zero-mean, unit-std low-frequency noise field."""
    small_h, small_w = max(2, int(h / sigma * 2)), max(2, int(w / sigma * 2))
    n = rng.standard_normal((small_h, small_w)).astype(np.float32)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
    n = cv2.GaussianBlur(n, (0, 0), sigma / 3)
    return (n - n.mean()) / (n.std() + 1e-6)


def put_ink(img: np.ndarray, mask: np.ndarray, x: int, y: int, ink, alpha: float = 1.0) -> None:
    """Multiply ink of reflectance `ink` onto float RGB `img` at (x, y), in place."""
    h, w = mask.shape
    m = (mask * alpha)[..., None]
    region = img[y:y + h, x:x + w]
    region *= 1.0 - m * (1.0 - np.asarray(ink, np.float32))


def to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def on_white(rng, mask: np.ndarray, ink, size_wh, centred: bool):
    """White RGB image of size (W, H) with `mask` placed on it; returns uint8 array and position."""
    W, H = size_wh
    img = np.ones((H, W, 3), np.float32)
    mask = np.round(mask * MASK_LEVELS) / MASK_LEVELS
    h, w = mask.shape
    margin = 4
    if centred:
        x, y = (W - w) // 2, (H - h) // 2
    else:
        x = int(rng.integers(margin, max(margin, W - w - margin) + 1))
        y = int(rng.integers(margin, max(margin, H - h - margin) + 1))
    put_ink(img, mask, x, y, ink)
    return to_uint8(img), (x, y)


def paper_canvas(rng, ch: int, cw: int, notes: list[str]):
    """Paper (possibly on a desk) of size ch x cw in reflectance; returns canvas and paper rect."""
    pname, pcol = pick(rng, PAPERS)
    notes.append(f"paper={pname}")
    tint = np.asarray(pcol, np.float32) * (1 + rng.normal(0, 0.012, 3)).astype(np.float32)
    canvas = np.empty((ch, cw, 3), np.float32)
    canvas[:] = tint
    texture = 1.0 + float(rng.uniform(0.004, 0.010)) * smooth_noise(rng, ch, cw, float(rng.uniform(15, 60)))
    texture += float(rng.uniform(*GRAIN_RANGE)) * smooth_noise(rng, ch, cw, 3.0)
    canvas *= texture[..., None]
    return canvas


def draw_lines(rng, canvas: np.ndarray, rect, notes: list[str]) -> None:
    """Ruled, squared or margin lines on the paper region rect=(x0, y0, x1, y1)."""
    x0, y0, x1, y1 = rect
    r = rng.random()
    blue = np.asarray([0.55, 0.70, 0.90], np.float32)
    layer = np.zeros(canvas.shape[:2], np.float32)
    kind = "plain"
    if r < 0.35:
        kind = "ruled"
        step = float(rng.uniform(26, 46))
        y = y0 + float(rng.uniform(0, step))
        th = int(rng.integers(1, 3))
        while y < y1:
            cv2.line(layer, (x0, int(y)), (x1, int(y)), 1.0, th, cv2.LINE_AA)
            y += step
    elif r < 0.52:
        kind = "squared"
        step = float(rng.uniform(20, 32))
        for start, end, horiz in ((y0, y1, True), (x0, x1, False)):
            v = start + float(rng.uniform(0, step))
            while v < end:
                if horiz:
                    cv2.line(layer, (x0, int(v)), (x1, int(v)), 1.0, 1, cv2.LINE_AA)
                else:
                    cv2.line(layer, (int(v), y0), (int(v), y1), 1.0, 1, cv2.LINE_AA)
                v += step
    strength = float(rng.uniform(0.25, 0.55))
    canvas *= 1.0 - (layer * strength)[..., None] * (1.0 - blue)
    if rng.random() < 0.3:
        kind += "+margin"
        red = np.asarray([0.92, 0.45, 0.45], np.float32)
        xm = int(x0 + rng.uniform(0.12, 0.3) * (x1 - x0)) if rng.random() < 0.7 else \
            int(x1 - rng.uniform(0.12, 0.3) * (x1 - x0))
        ml = np.zeros(canvas.shape[:2], np.float32)
        cv2.line(ml, (xm, y0), (xm, y1), 1.0, int(rng.integers(1, 3)), cv2.LINE_AA)
        canvas *= 1.0 - (ml * float(rng.uniform(0.5, 0.8)))[..., None] * (1.0 - red)
    notes.append(f"lines={kind}")


def inside_quad(quad: np.ndarray, pts) -> bool:
    contour = quad.reshape(-1, 1, 2).astype(np.float32)
    return all(cv2.pointPolygonTest(contour, (float(px), float(py)), False) > 0 for px, py in pts)


def photo(rng, make_mask, size_wh, height_frac: float, centred: bool, notes: list[str]) -> np.ndarray:
    """Synthetic phone photo (uint8 RGB, H x W) of the ink mask made by make_mask(height_px)."""
    W, H = size_wh
    cw, ch = int(W * 1.45), int(H * 1.45)
    canvas = paper_canvas(rng, ch, cw, notes)

    # camera quad in canvas coordinates: rotated, perspective-jittered frame
    theta = math.radians(float(rng.uniform(-10, 10)))
    base = np.array([[-W / 2, -H / 2], [W / 2, -H / 2], [W / 2, H / 2], [-W / 2, H / 2]], np.float32)
    base *= float(rng.uniform(0.92, 1.05))
    jitter = rng.uniform(-0.06, 0.06, (4, 2)).astype(np.float32) * min(W, H)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], np.float32)
    quad = (base + jitter) @ rot.T + np.array([cw / 2, ch / 2], np.float32)
    quad[:, 0] = np.clip(quad[:, 0], 1, cw - 2)
    quad[:, 1] = np.clip(quad[:, 1], 1, ch - 2)
    notes.append(f"tilt={math.degrees(theta):+.1f}")

    # paper rectangle; sometimes the desk shows along one or two sides
    px0, py0, px1, py1 = 0, 0, cw, ch
    desk = None
    if rng.random() < 0.15:
        desk = pick(rng, DESKS)
        qx0, qy0 = quad[:, 0].min(), quad[:, 1].min()
        qx1, qy1 = quad[:, 0].max(), quad[:, 1].max()
        sides = rng.permutation(4)[: int(rng.integers(1, 3))]
        for s in sides:
            f = float(rng.uniform(0.06, 0.16))
            if s == 0:
                px0 = int(qx0 + f * W)
            elif s == 1:
                px1 = int(qx1 - f * W)
            elif s == 2:
                py0 = int(qy0 + f * H)
            else:
                py1 = int(qy1 - f * H)
        notes.append(f"desk={desk[0]}")
    draw_lines(rng, canvas, (px0, py0, px1, py1), notes)
    if desk is not None:
        d = np.empty_like(canvas)
        d[:] = np.asarray(desk[1], np.float32)
        d *= (1.0 + 0.05 * smooth_noise(rng, ch, cw, 25.0))[..., None]
        sheet = np.zeros((ch, cw), np.float32)
        sheet[py0:py1, px0:px1] = 1.0
        paper = cv2.GaussianBlur(sheet, (0, 0), 1.0)[..., None]
        # faint contact shadow of the sheet on the desk
        shadow = cv2.GaussianBlur(sheet, (0, 0), 6.0)[..., None]
        canvas = canvas * paper + d * (1 - paper) * (1 - 0.35 * shadow)

    # the handwriting
    iname, ink = pick(rng, INKS_PHOTO)
    alpha = float(rng.uniform(0.85, 1.0))
    target_h = height_frac * H
    for _ in range(12):
        mask = make_mask(target_h)
        h, w = mask.shape
        if w < 0.8 * W and h < 0.8 * H:
            break
        target_h *= 0.85
    if iname == "pencil":
        mask = mask * (1.0 - 0.35 * np.clip(rng.random(mask.shape).astype(np.float32), 0, 1) ** 2)
    h, w = mask.shape
    m = 0.02 * H
    cx, cy = cw / 2, ch / 2
    qx0, qy0, qx1, qy1 = quad[:, 0].min(), quad[:, 1].min(), quad[:, 0].max(), quad[:, 1].max()
    placed = None
    for _ in range(400):
        if centred:
            x = cx - w / 2 + float(rng.normal(0, 0.06)) * W
            y = cy - h / 2 + float(rng.normal(0, 0.06)) * H
        else:
            x = float(rng.uniform(qx0, qx1 - w))
            y = float(rng.uniform(qy0, qy1 - h))
        corners = [(x - m, y - m), (x + w + m, y - m), (x + w + m, y + h + m), (x - m, y + h + m)]
        if inside_quad(quad, corners) and px0 + m <= x and x + w + m <= px1 and py0 + m <= y and y + h + m <= py1:
            placed = (int(x), int(y))
            break
    if placed is None:  # fall back to the centre of the camera quad
        c = quad.mean(axis=0)
        placed = (int(c[0] - w / 2), int(c[1] - h / 2))
    put_ink(canvas, mask, placed[0], placed[1], ink, alpha)
    notes.append(f"ink={iname}")

    # camera: perspective warp of the quad to the frame
    dst = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    M = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    img = cv2.warpPerspective(canvas, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # where did the digit land? (for the notes)
    bb = np.array([[placed[0], placed[1]], [placed[0] + w, placed[1] + h]], np.float32).reshape(-1, 1, 2)
    bbw = cv2.perspectiveTransform(bb, M).reshape(-1, 2)
    notes.append(f"digit_h={abs(bbw[1, 1] - bbw[0, 1]) / H:.2f}")

    # lighting: gradient, vignette, soft shadow, colour cast, exposure
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    phi = float(rng.uniform(0, 2 * math.pi))
    g = (xx - W / 2) * math.cos(phi) + (yy - H / 2) * math.sin(phi)
    g = (g - g.min()) / (g.max() - g.min() + 1e-6)
    light = 1.0 - float(rng.uniform(0.05, 0.35)) * g ** float(rng.uniform(0.7, 1.8))
    r2 = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2
    light *= 1.0 - float(rng.uniform(0.0, 0.18)) * r2 / 2
    if rng.random() < 0.45:
        # soft shadow (hand or phone) over part of the image
        psi = float(rng.uniform(0, 2 * math.pi))
        d = (xx - W / 2) * math.cos(psi) + (yy - H / 2) * math.sin(psi)
        off = float(rng.uniform(0.15, 0.45)) * max(W, H)
        soft = float(rng.uniform(12, 60))
        s = 1.0 / (1.0 + np.exp(-(d - off) / soft))
        light *= 1.0 - float(rng.uniform(0.25, 0.45)) * s
        notes.append("shadow")
    cast = np.asarray(pick(rng, [(1.0, 0.97, 0.90), (1.0, 0.99, 0.96), (0.96, 0.99, 1.03), (1.0, 1.0, 1.0)]),
                      np.float32)
    gain = float(rng.uniform(0.88, 1.12))
    img = img * light[..., None] * cast * gain

    # optics: defocus and sometimes a little hand shake
    sigma = float(rng.uniform(0.5, 1.4))
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    if rng.random() < 0.15:
        k = int(rng.integers(3, 7))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        R = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, R, (k, k))
        kernel /= kernel.sum()
        img = cv2.filter2D(img, -1, kernel)
        notes.append("motionblur")
    notes.append(f"blur={sigma:.1f}")

    # sensor noise (luma + weaker chroma), then quantise
    sn = float(rng.uniform(*NOISE_RANGE))
    noise = rng.standard_normal((H, W, 1)).astype(np.float32) * sn
    noise = noise + rng.standard_normal((H, W, 3)).astype(np.float32) * (sn * 0.4)
    img = img + noise
    notes.append(f"noise={sn * 255:.1f}")
    return to_uint8(img)


EXIF_ORIENTATION = 0x0112
# transpose that turns the upright picture into the stored pixels for a given orientation tag
STORE_FOR_ORIENTATION = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def save_jpeg(arr: np.ndarray, path: Path, quality: int, orientation: int | None = None) -> None:
    img = Image.fromarray(arr, "RGB")
    if orientation is None:
        img.save(path, "JPEG", quality=quality, optimize=True)
        return
    stored = img.transpose(STORE_FOR_ORIENTATION[orientation])
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    stored.save(path, "JPEG", quality=quality, optimize=True, exif=exif)
    # self-check: applying the tag gives back the upright picture
    with Image.open(path) as back:
        assert back.getexif().get(EXIF_ORIENTATION) == orientation
        upright = ImageOps.exif_transpose(back)
        assert upright.size == img.size, (path, upright.size, img.size)
        diff = np.abs(np.asarray(upright, np.int16) - arr.astype(np.int16)).mean()
        assert diff < 8, (path, diff)


# --------------------------------------------------------------------------
# The three sets
# --------------------------------------------------------------------------
def allowed(font: Font, d: int) -> bool:
    return (font.key, d) not in EXCLUDE


def make_fonts_set(fonts: list[Font], out: Path, rows: list) -> None:
    folder = out / "fonts"
    folder.mkdir(parents=True)
    for fi, font in enumerate(fonts):
        for d in range(10):
            if not allowed(font, d):
                continue
            for v in range(N_FONT_VARIANTS):
                rng = rng_for(SET_FONTS, fi, d, v)
                W = int(rng.integers(200, 301))
                H = W if rng.random() < 0.6 else int(rng.integers(200, 301))
                frac = float(rng.uniform(0.35, 0.80))
                rot = float(rng.uniform(-10, 10))
                stroke = stroke_for(rng, font, frac * H)
                iname, ink = pick(rng, INKS_WHITE)
                centred = rng.random() < 0.3
                target = frac * H
                for _ in range(12):
                    mask, _ = font.ink_mask(str(d), target, stroke, rot)
                    if mask.shape[0] <= H - 10 and mask.shape[1] <= W - 10:
                        break
                    target *= 0.9
                arr, (x, y) = on_white(rng, mask, ink, (W, H), centred)
                name = f"fonts/{font.key}_{d}_v{v}.png"
                Image.fromarray(arr, "RGB").save(out / name, optimize=True)
                notes = (f"size={W}x{H};digit_h={mask.shape[0] / H:.2f};pos={'centre' if centred else f'{x},{y}'};"
                         f"rot={rot:+.1f};stroke={stroke};ink={iname}")
                rows.append((name, "fonts", str(d), font.key, notes))


def make_photos_set(fonts: list[Font], out: Path, rows: list) -> None:
    folder = out / "photos"
    folder.mkdir(parents=True)
    n_fonts = len(fonts)
    for i in range(N_PHOTOS):
        rng = rng_for(SET_PHOTOS, i)
        d = i % 10
        fi = (i // 10 + 3 * d) % n_fonts
        while not allowed(fonts[fi], d):
            fi = (fi + 1) % n_fonts
        font = fonts[fi]
        portrait = rng.random() < 0.5
        size = (480, 640) if portrait else (640, 480)
        small = rng.random() < 0.45
        frac = float(rng.uniform(0.15, 0.30)) if small else float(rng.uniform(0.30, 0.60))
        centred = (not small) and rng.random() < 0.5
        rot = float(rng.uniform(-10, 10))
        notes = [f"size={size[0]}x{size[1]}", "small_offcentre" if small else ("centred" if centred else "offcentre"),
                 f"rot={rot:+.1f}"]
        stroke_holder = {}

        def make_mask(h, font=font, d=d, rot=rot, rng=rng, holder=stroke_holder):
            if "stroke" not in holder:
                holder["stroke"] = stroke_for(rng, font, h)
            return font.ink_mask(str(d), h, holder["stroke"], rot)[0]

        arr = photo(rng, make_mask, size, frac, centred, notes)
        notes.insert(3, f"stroke={stroke_holder['stroke']}")
        quality = int(rng.integers(*JPEG_Q_RANGE))
        orientation = None
        if i % 10 == (i // 10) % 10:  # 10 % (every digit twice) carry an EXIF orientation tag
            orientation = [6, 6, 8, 3][(i // 10) % 4]
            notes.append(f"exif_orientation={orientation}")
        notes.append(f"jpeg_q={quality}")
        name = f"photos/photo_{i:03d}_{d}.jpg"
        save_jpeg(arr, out / name, quality, orientation)
        rows.append((name, "photos", str(d), font.key, ";".join(notes)))


SPACINGS = [  # name, closest ink-to-ink distance in units of digit height (negative: strokes overlap)
    ("touching", (-0.012, 0.0)),
    ("nearlytouching", (0.01, 0.04)),
    ("normal", (0.06, 0.25)),
    ("wide", (0.30, 0.55)),
]


def make_numbers_set(fonts: list[Font], out: Path, rows: list) -> None:
    folder = out / "numbers"
    folder.mkdir(parents=True)
    n_fonts = len(fonts)
    for i in range(N_NUMBERS):
        rng = rng_for(SET_NUMBERS, i)
        font = fonts[(i * 5 + i // n_fonts) % n_fonts]
        n_digits = 2 + i % 4
        digits = []
        while len(digits) < n_digits:
            d = int(rng.integers(0, 10))
            if not digits and d == 0 and rng.random() < 0.8:
                continue  # leading zeros are rare
            if allowed(font, d):
                digits.append(d)
        label = "".join(map(str, digits))
        sname, (g0, g1) = SPACINGS[(i // 2) % len(SPACINGS)]
        gap = float(rng.uniform(g0, g1))
        on_paper = i % 2 == 1
        notes = [f"spacing={sname}({gap:+.2f})"]
        if not on_paper:
            H = int(rng.integers(160, 301))
            frac = float(rng.uniform(0.35, 0.65))
            stroke = stroke_for(rng, font, frac * H)
            target = frac * H
            mask = number_mask(rng, font, label, target, stroke, gap)
            # no wider than 1000 px
            if mask.shape[1] > 1000 - 20:
                mask = number_mask(rng, font, label, target * 950 / mask.shape[1], stroke, gap)
            W = int(mask.shape[1] + rng.integers(20, 160))
            grot = float(rng.uniform(-4, 4))
            pil = Image.fromarray(to_uint8(mask)[:, :], "L").rotate(grot, resample=Image.BICUBIC, expand=True)
            mask = np.asarray(pil.crop(pil.getbbox()), np.float32) / 255.0
            W = max(W, mask.shape[1] + 12)
            H = max(H, mask.shape[0] + 12)
            iname, ink = pick(rng, INKS_WHITE)
            arr, _ = on_white(rng, mask, ink, (W, H), rng.random() < 0.3)
            notes = [f"white;size={W}x{H};stroke={stroke};rot={grot:+.1f};ink={iname}"] + notes
            name = f"numbers/num_{i:03d}_{label}.png"
            Image.fromarray(arr, "RGB").save(out / name, optimize=True)
        else:
            size = (640, 480) if rng.random() < 0.75 else (480, 640)
            frac = float(rng.uniform(0.12, 0.30))
            centred = rng.random() < 0.4
            notes = ["paper", f"size={size[0]}x{size[1]}"] + notes
            holder = {}

            def make_mask(h, font=font, label=label, gap=gap, rng=rng, holder=holder):
                if "stroke" not in holder:
                    holder["stroke"] = stroke_for(rng, font, h)
                return number_mask(rng, font, label, h, holder["stroke"], gap)

            arr = photo(rng, make_mask, size, frac, centred, notes)
            quality = int(rng.integers(*JPEG_Q_RANGE))
            notes += [f"stroke={holder['stroke']}", f"jpeg_q={quality}"]
            name = f"numbers/num_{i:03d}_{label}.jpg"
            save_jpeg(arr, out / name, quality)
        rows.append((name, "numbers", label, font.key, ";".join(notes)))


def main(argv=None) -> int:
    global SEED
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: next to this script)")
    ap.add_argument("--seed", type=int, default=SEED,
                    help=f"another seed makes fresh held-out sets, to check a change made while looking at "
                         f"the committed ones (default: {SEED}, the committed sets)")
    args = ap.parse_args(argv)
    SEED = args.seed
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("fonts", "photos", "numbers"):
        shutil.rmtree(out / sub, ignore_errors=True)
    cv2.setNumThreads(1)
    fonts = [Font(*spec) for spec in FONTS]
    rows: list = []
    make_fonts_set(fonts, out, rows)
    make_photos_set(fonts, out, rows)
    make_numbers_set(fonts, out, rows)
    rows.sort()
    with open(out / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["file", "set", "label", "font", "notes"])
        w.writerows(rows)
    counts = {s: sum(r[1] == s for r in rows) for s in ("fonts", "photos", "numbers")}
    print(f"wrote {len(rows)} images to {out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
