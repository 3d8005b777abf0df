"""Figures the pages and the CLI show: Plotly charts and annotated pictures, built without Streamlit."""

from __future__ import annotations

import cv2
import numpy as np
import plotly.graph_objects as go

ACCENT = "#e4572e"
MUTED = "#8da9c4"


def probability_bars(probabilities: np.ndarray, *, height: int = 260) -> go.Figure:
    """Bar chart of the ten (10,) probabilities, the chosen digit highlighted."""
    probabilities = np.asarray(probabilities, dtype=float)
    best = int(probabilities.argmax())
    figure = go.Figure(go.Bar(
        x=[str(d) for d in range(10)],
        y=probabilities,
        marker_color=[ACCENT if d == best else MUTED for d in range(10)],
        text=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities],
        textposition="outside",
        hovertemplate="digit %{x}: %{y:.1%}<extra></extra>",
    ))
    figure.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability", range=[0, 1.15], tickformat=".0%"),
        showlegend=False,
    )
    return figure


def annotate_digits(rgba: np.ndarray, boxes: list[tuple[int, int, int, int]], labels: list[str]) -> np.ndarray:
    """(h, w, 3) uint8 RGB copy of a (h, w, 4) picture on white, each (x, y, w, h) box drawn with its label."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    picture = (rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    thickness = max(2, round(max(picture.shape[:2]) / 300))
    for (x, y, w, h), label in zip(boxes, labels):
        cv2.rectangle(picture, (x, y), (x + w, y + h), (228, 87, 46), thickness)
        scale = max(0.6, h / 120)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(y - 4, th + 4)
        cv2.rectangle(picture, (x, top - th - 4), (x + tw + 6, top + 2), (228, 87, 46), -1)
        cv2.putText(picture, label, (x + 3, top - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness)
    return picture


def enlarge(image: np.ndarray, side: int = 112) -> np.ndarray:
    """A small (h, w) uint8 or float [0, 1] picture scaled up with sharp pixels onto a black (side, side) square."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    square = np.zeros((side, side), np.uint8)
    if image.size == 0:
        return square
    h, w = image.shape[:2]
    scale = side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_NEAREST)
    top, left = (side - new_h) // 2, (side - new_w) // 2
    square[top:top + new_h, left:left + new_w] = resized
    return square
