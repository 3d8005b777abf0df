"""Readings of pictures computed once per content and shared by every session (the Draw page's heavy part)."""

from __future__ import annotations

import binascii
import os

import cv2
import streamlit as st

from digitlab.canvas import render_strokes
from digitlab.imageio import ImageError, read_image
from digitlab.picture_view import PictureView, picture_view
from digitlab.predictors import ModelUnavailable
from pages import ui

# The canvas sends a 460×280 PNG (×2–3 on high-density screens): tens of kB. Anything far
# larger was not drawn on it, and is refused from its header before it is decoded.
CANVAS_MAX_BYTES = 2_000_000
CANVAS_MAX_PIXELS = 4_000_000
UPLOAD_SHOWN_SIDE = 640  # uploads are shown at most this many pixels on their longer side
DRAWINGS_KEPT = 2000  # readings kept for reuse: a class of 30 drawing for an hour is about 1500 drawings


def roster() -> tuple[tuple, ...]:
    """The servable runs as (name, model path, file stamp, MNIST accuracy, parameters): part of every cache key."""
    rows = []
    for run in ui.servable_runs():
        try:
            stamp = os.stat(run["path"]).st_mtime_ns
        except OSError:
            continue
        rows.append((run["name"], run["path"], stamp, run["mnist_test_accuracy"], run["params"]))
    ui.predictor_pool().forget_except(row[0] for row in rows)  # deleted runs' models leave memory
    return tuple(rows)


def _voters(runs: tuple[tuple, ...]) -> list[dict]:
    return [{"name": name, "path": path, "mnist_test_accuracy": accuracy, "params": params}
            for name, path, _, accuracy, params in runs]


def _active(model_name: str, runs: tuple[tuple, ...]):
    path = next((row[1] for row in runs if row[0] == model_name), None)
    if path is None:
        raise ModelUnavailable(f"{model_name}: no longer stored")
    return ui.predictor_pool().get(model_name, path)


@st.cache_data(max_entries=DRAWINGS_KEPT, show_spinner=False)
def canvas_view(png: bytes, model_name: str, number: bool, runs: tuple[tuple, ...]) -> PictureView | str:
    """The reading of the canvas's PNG and every model's vote, or the one line saying why it was refused."""
    try:
        rgba = read_canvas(png)
    except ImageError as error:
        return str(error)
    try:
        predictor = _active(model_name, runs)
    except ModelUnavailable as error:
        return str(error)
    return picture_view(rgba, predictor, number=number, voters=_voters(runs), pool=ui.predictor_pool())


@st.cache_data(max_entries=200, show_spinner=False)
def upload_view(file_id: str, name: str, model_name: str, number: bool, runs: tuple[tuple, ...], _upload
                ) -> PictureView | str:
    """An uploaded file read once (keyed by its upload's id, not its bytes), or the one line saying why not.

    `_upload` (Streamlit's UploadedFile, not hashed) is only read on a miss: copying 20 files of
    20 MB on every rerun would cost more than the page.
    """
    try:
        rgba = read_image(_upload.getvalue(), name=name)
        predictor = _active(model_name, runs)
    except (ImageError, ModelUnavailable) as error:
        return str(error)
    return picture_view(rgba, predictor, number=number, shown_side=UPLOAD_SHOWN_SIDE)


def strokes_png(objects: list, *, width: int, height: int) -> bytes | None:
    """The canvas's stored strokes (Fabric.js objects) painted and PNG-encoded, as the canvas would send them.

    A drawing brought from Learn is shown by the new canvas, which sends its picture only after
    the next stroke; painting its strokes lets the page read it at once.
    """
    rgba = render_strokes(objects, width=width, height=height)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    return png.tobytes() if ok else None


def read_canvas(png: bytes):
    """(h, w, 4) uint8 RGBA of the canvas's PNG, within the canvas's limits; raises ImageError (one line)."""
    return read_image(png, name="the drawing", max_bytes=CANVAS_MAX_BYTES, max_pixels=CANVAS_MAX_PIXELS)


def canvas_png(canvas) -> bytes | str | None:
    """The canvas's raw PNG bytes (None: nothing drawn), or a line saying why its value is unusable.

    Read from `image_bytes`, never `image_data`: the canvas package decodes `image_data` with
    Pillow and no limits, and a browser can send any PNG at all.
    """
    raw = canvas.json_data
    if not isinstance(raw, dict) or not raw.get("objects"):
        return None
    try:
        data = canvas.image_bytes
    except (ValueError, TypeError, AttributeError, binascii.Error):
        return "the drawing: not a picture"
    if data and len(data) > CANVAS_MAX_BYTES:
        return f"the drawing: file too large (the limit is {CANVAS_MAX_BYTES / 1e6:g} MB)"
    return data or None
