"""Canvas values like the Draw page's canvas sends, made from MNIST test digits (varied drawings for the load test).

The canvas (streamlit-drawable-canvas ≥ 0.13, a Components v2 widget) sends its whole value
as one JSON widget state: `{"drawing": {"raw": <Fabric.js JSON>, "data": <PNG data URL>}}`.
Recorded from Chromium (`python -m tests.load.record`): the PNG is the full 460×280 canvas,
RGBA, opaque white with black ink; `raw.objects` holds one `Path` per stroke. The page reads
the PNG; `objects` only tells it whether anything is drawn.
"""

from __future__ import annotations

import base64
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

CANVAS_WIDTH, CANVAS_HEIGHT = 460, 280  # pages/draw.py's canvas


@dataclass(frozen=True)
class Drawing:
    """One canvas value: the digit drawn (MNIST's label) and the JSON string the canvas would send."""

    label: int
    value: str


def _data_url(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _stroke(left: float, top: float, width: float, height: float, pen: int) -> dict:
    """A Fabric.js `Path` object as the canvas reports it (one straight stroke down the digit's box)."""
    return {"type": "Path", "version": "7.4.0", "originX": "center", "originY": "center",
            "left": left + width / 2, "top": top + height / 2, "width": width, "height": height,
            "fill": None, "stroke": "#000000", "strokeWidth": pen, "strokeLineCap": "round",
            "strokeLineJoin": "round", "scaleX": 1, "scaleY": 1, "angle": 0, "opacity": 1, "visible": True,
            "path": [["M", left, top], ["L", left + width, top + height]]}


def canvas_value(picture: Image.Image | None, objects: list[dict]) -> str:
    """The canvas's JSON widget value for an RGBA picture of the canvas (None: an untouched canvas)."""
    raw = {"version": "7.4.0", "objects": objects, "background": "#ffffff"}
    return json.dumps({"drawing": {"raw": raw, "data": _data_url(picture) if picture is not None else None}},
                      separators=(",", ":"))


def blank_value() -> str:
    """What the canvas sends right after Clear: no strokes and an all-white picture."""
    return canvas_value(Image.new("RGBA", (CANVAS_WIDTH, CANVAS_HEIGHT), (255, 255, 255, 255)), [])


def mnist_test(path: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test images (10000, 28, 28) uint8 and labels, from $DIGITLAB_MNIST or the shared copy."""
    path = path or os.environ.get("DIGITLAB_MNIST") or str(Path(__file__).resolve().parents[3] / "shared/datasets/mnist.npz")
    with np.load(path) as data:
        return data["x_test"], data["y_test"]


def canvas_drawings(count: int, *, seed: int = 0) -> list[Drawing]:
    """`count` canvas values, each a different MNIST test digit drawn at a random size and place.

    The 28×28 digit (white on black, anti-aliased) is turned to black ink on white and
    scaled so that it is 120–230 px tall, as students draw on a 280 px canvas.
    """
    images, labels = mnist_test()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(images), size=count, replace=False)
    drawings = []
    for index in chosen:
        size = int(rng.integers(120, 231))  # MNIST's 28 px box holds a 20 px digit: it draws ~0.7 of this
        ink = Image.fromarray(255 - images[index]).resize((size, size), Image.Resampling.BILINEAR)
        left = int(rng.integers(0, CANVAS_WIDTH - size + 1))
        top = int(rng.integers(0, CANVAS_HEIGHT - size + 1))
        canvas = Image.new("L", (CANVAS_WIDTH, CANVAS_HEIGHT), 255)
        canvas.paste(ink, (left, top))
        picture = Image.merge("RGBA", (canvas, canvas, canvas, Image.new("L", canvas.size, 255)))
        pen = int(rng.integers(12, 25))
        drawings.append(Drawing(int(labels[index]), canvas_value(picture, [_stroke(left, top, size, size, pen)])))
    return drawings
