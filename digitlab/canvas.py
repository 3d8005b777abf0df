"""Canvas drawings (the Fabric.js objects streamlit-drawable-canvas returns) painted to RGBA without a browser.

The canvas only reports its picture after the next stroke, so a drawing handed from one
page to another (Draw ↔ Learn) is shown by the new canvas but unread until then; painting
its stored strokes here lets the page read it at once.
"""

from __future__ import annotations

import cv2
import numpy as np

CURVE_POINTS = 8  # points per quadratic curve segment: smooth at a canvas's scale
# The objects come from a browser: a drawing is tens of strokes of a few hundred commands, and
# anything far beyond is cut off, so no value can make painting expensive.
MAX_COMMANDS = 20_000  # path commands painted in all, over every stroke
MAX_STROKE_WIDTH = 100


def render_strokes(objects: list[dict], *, width: int, height: int) -> np.ndarray:
    """(height, width, 4) uint8 RGBA: white paper with every freehand path of `objects` in its colour and width."""
    picture = np.full((height, width, 4), 255, np.uint8)
    budget = MAX_COMMANDS
    for item in objects if isinstance(objects, list) else []:
        if budget <= 0:
            break
        if not isinstance(item, dict) or str(item.get("type", "")).lower() != "path" \
                or not isinstance(item.get("path"), list):
            continue
        commands = item["path"][:budget]
        budget -= len(commands) + 1
        try:
            points = _path_points(commands)
            stroke = min(max(float(item.get("strokeWidth") or 1), 1.0), MAX_STROKE_WIDTH)
            place = np.array([float(item.get("left", 0.0)), float(item.get("top", 0.0))], np.float64)
        except (TypeError, ValueError, IndexError):
            continue  # not a stroke the canvas drew
        if len(points) == 0 or not np.isfinite(points).all() or not np.isfinite(place).all():
            continue
        # Fabric stores the path in the coordinates it was drawn in, and the object's place as
        # (left, top) of its box's origin (the centre from Fabric 6, the top-left corner before):
        # a moved object keeps its path and changes its place.
        low, high = points.min(axis=0) - stroke / 2, points.max(axis=0) + stroke / 2
        anchor = np.array([{"center": (low[0] + high[0]) / 2, "right": high[0]}.get(item.get("originX"), low[0]),
                           {"center": (low[1] + high[1]) / 2, "bottom": high[1]}.get(item.get("originY"), low[1])])
        offset = place - anchor
        points = np.clip(np.round(points + offset), -4 * max(width, height), 4 * max(width, height)).astype(np.int32)
        colour = _rgb(item.get("stroke") or "#000000")
        thickness = max(1, int(round(stroke)))
        cv2.polylines(picture, [points.reshape(-1, 1, 2)], False, (*colour, 255), thickness, cv2.LINE_AA)
        for x, y in points[[0, -1]]:  # round caps, as the browser draws them
            cv2.circle(picture, (int(x), int(y)), thickness // 2, (*colour, 255), -1, cv2.LINE_AA)
    return picture


def _path_points(path: list) -> np.ndarray:
    points, current = [], None
    for command in path:
        kind, values = command[0], [float(v) for v in command[1:]]
        if kind in ("M", "L") and len(values) >= 2:
            current = np.array(values[:2])
            points.append(current)
        elif kind == "Q" and len(values) >= 4 and current is not None:
            control, end = np.array(values[:2]), np.array(values[2:4])
            for t in np.linspace(0, 1, CURVE_POINTS + 1)[1:]:
                points.append((1 - t) ** 2 * current + 2 * (1 - t) * t * control + t ** 2 * end)
            current = end
    return np.array(points, np.float64).reshape(-1, 2)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    try:
        return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return (0, 0, 0)
