"""Stored canvas strokes painted without a browser read like the canvas's own picture."""

import numpy as np

from digitlab.canvas import render_strokes
from digitlab.preprocessing import preprocess_digit


def test_a_stroke_lands_where_it_was_drawn_with_its_width():
    line = {"type": "path", "left": 91, "top": 41, "strokeWidth": 18, "stroke": "#000000",
            "path": [["M", 100, 50], ["Q", 100, 50, 100, 100], ["L", 100, 200]]}
    picture = render_strokes([line], width=460, height=280)
    assert picture.shape == (280, 460, 4) and picture.dtype == np.uint8
    ink = np.argwhere(picture[..., 0] < 128)
    assert ink[:, 0].min() in range(38, 44) and ink[:, 0].max() in range(206, 212)  # 50−9 … 200+9
    assert ink[:, 1].min() in range(90, 93) and ink[:, 1].max() in range(107, 110)  # 100 ± 9
    assert (picture[0, 0] == 255).all()


def test_a_moved_object_is_painted_at_its_new_place():
    moved = {"type": "path", "left": 291, "top": 41, "strokeWidth": 18,
             "path": [["M", 100, 50], ["L", 100, 200]]}
    ink = np.argwhere(render_strokes([moved], width=460, height=280)[..., 0] < 128)
    assert 290 <= ink[:, 1].min() and ink[:, 1].max() <= 310


def test_painted_strokes_read_as_a_digit_and_nothing_is_blank():
    seven = {"type": "path", "left": 0, "top": 0, "strokeWidth": 18,
             "path": [["M", 150, 60], ["L", 250, 60], ["L", 190, 230]]}
    seven["left"], seven["top"] = 150 - 9, 60 - 9
    assert not preprocess_digit(render_strokes([seven], width=460, height=280)).empty
    assert preprocess_digit(render_strokes([], width=460, height=280)).empty
    assert preprocess_digit(render_strokes([{"type": "rect"}], width=460, height=280)).empty


def test_fabric_7_objects_placed_by_their_centre():
    # As streamlit-drawable-canvas 0.13 (Fabric 7.4) returns a freehand "7".
    seven = {"type": "Path", "originX": "center", "originY": "center", "left": 259.2979, "top": 152.2121,
             "strokeWidth": 18, "stroke": "#000000",
             "path": [["M", 217.982, 77.203125], ["Q", 218, 77.203125, 225, 77.203125],
                      ["Q", 302, 77.203125, 297.5, 89.703125], ["Q", 266, 177.203125, 257, 202.203125],
                      ["L", 247.982, 227.221125]]}
    ink = np.argwhere(render_strokes([seven], width=460, height=280)[..., 0] < 128)
    assert abs(ink[:, 0].min() - (77 - 9)) <= 3 and abs(ink[:, 0].max() - (227 + 9)) <= 3
    assert abs(ink[:, 1].min() - (218 - 9)) <= 3


def test_a_crafted_drawing_is_cut_short_not_painted_for_ever():
    import time

    endless = [{"type": "path", "path": [["M", 0, 0]] + [["L", i % 400, i % 300] for i in range(100_000)],
                "strokeWidth": 1e9, "left": 5, "top": 5}] * 500
    junk = [{"type": "path", "path": [["M", "x", None]], "left": "nowhere"}, "not an object", {"type": "rect"}]
    start = time.perf_counter()
    picture = render_strokes(endless + junk, width=460, height=280)
    assert time.perf_counter() - start < 3 and picture.shape == (280, 460, 4)
    assert render_strokes(junk, width=46, height=28).min() == 255  # nothing it could paint: white paper
