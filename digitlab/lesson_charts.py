"""Pictures and Plotly figures for the Learn page: colour-blind-safe maps, mosaics of feature maps, outlined regions."""

from __future__ import annotations

import cv2
import numpy as np
import plotly.colors
import plotly.graph_objects as go

# Colour-blind-safe scales: viridis and cividis for magnitudes, RdBu (red negative, blue positive) for signs.
SEQUENTIAL = {"viridis": plotly.colors.sequential.Viridis, "cividis": plotly.colors.sequential.Cividis}
DIVERGING = "RdBu"
OUTLINE = (255, 140, 0)  # orange: stands out on grey, viridis and cividis alike


def _lut(name: str) -> np.ndarray:
    """(256, 3) uint8 lookup table interpolated from a Plotly colour scale."""
    colours = plotly.colors.sequential.RdBu if name == DIVERGING else SEQUENTIAL[name]
    rgb = np.array([plotly.colors.hex_to_rgb(c) if c.startswith("#") else plotly.colors.unlabel_rgb(c)
                    for c in colours], np.float64)
    positions = np.linspace(0, 1, len(rgb))
    grid = np.linspace(0, 1, 256)
    return np.stack([np.interp(grid, positions, rgb[:, i]) for i in range(3)], axis=1).astype(np.uint8)


_LUTS = {name: _lut(name) for name in (*SEQUENTIAL, DIVERGING)}


def colourise(values: np.ndarray, *, cmap: str = "viridis", low: float | None = None,
              high: float | None = None) -> np.ndarray:
    """(h, w) numbers -> (h, w, 3) uint8 RGB through `cmap`; `low`/`high` default to the values' own range.

    For RdBu the range is made symmetric round 0, so white always means 0.
    """
    values = np.asarray(values, np.float64)
    if cmap == DIVERGING:
        bound = max(abs(values.min()) if low is None else abs(low), abs(values.max()) if high is None else abs(high))
        low, high = -bound, bound
    low = values.min() if low is None else low
    high = values.max() if high is None else high
    scaled = np.zeros_like(values) if high <= low else (values - low) / (high - low)
    return _LUTS[cmap][np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)]


def enlarge_rgb(picture: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel of an (h, w, 3) or (h, w) picture as a scale×scale block: sharp pixels, no blur."""
    return np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)


def mosaic(maps: np.ndarray, *, cmap: str = "viridis", scale_by: str = "map", columns: int = 8,
           tile: int = 64, global_range: tuple[float, float] | None = None) -> np.ndarray:
    """(h, w, n) maps -> one (rows·(tile+2), columns·(tile+2), 3) uint8 picture, map 0 at the top left.

    `scale_by`: "map" (each map its own range: shows every map's pattern), "layer" (one
    range for these maps: shows which maps are strongest) or "global" (`global_range`,
    shared with other layers).
    """
    count = maps.shape[2]
    rows = -(-count // columns)
    gap = 3
    # Grey gaps: white would merge with RdBu's near-zero cells, black with viridis' lows.
    out = np.full((rows * (tile + gap), min(columns, count) * (tile + gap), 3), 128, np.uint8)
    layer_range = (float(maps.min()), float(maps.max()))
    for n in range(count):
        one = maps[..., n]
        low, high = {"map": (None, None), "layer": layer_range}.get(scale_by, global_range or layer_range)
        picture = colourise(one, cmap=cmap, low=low, high=high)
        picture = cv2.resize(picture, (tile, tile), interpolation=cv2.INTER_NEAREST)
        r, c = divmod(n, columns)
        out[r * (tile + gap):r * (tile + gap) + tile, c * (tile + gap):c * (tile + gap) + tile] = picture
    return out


def outline(image: np.ndarray, region: tuple[int, int, int, int], *, scale: int = 10,
            colour: tuple[int, int, int] = OUTLINE) -> np.ndarray:
    """A (28, 28) float image in [0, 1], enlarged `scale`×, with the inclusive (top, left, bottom, right) region outlined."""
    grey = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    picture = enlarge_rgb(np.stack([grey] * 3, axis=-1), scale).copy()
    top, left, bottom, right = region
    cv2.rectangle(picture, (left * scale, top * scale), ((right + 1) * scale - 1, (bottom + 1) * scale - 1),
                  colour, max(2, scale // 4))
    return picture


def overlay(image: np.ndarray, heat: np.ndarray, *, cmap: str = "viridis", scale: int = 8,
            alpha: float = 0.55) -> np.ndarray:
    """A (28, 28) drawing in grey with a (28, 28) heat map blended over it, enlarged `scale`×."""
    grey = np.stack([(np.clip(image, 0, 1) * 255)] * 3, axis=-1)
    heat_rgb = colourise(heat, cmap=cmap).astype(np.float64)
    blended = (1 - alpha) * grey + alpha * heat_rgb
    return enlarge_rgb(blended.astype(np.uint8), scale)


def heatmap(values: np.ndarray, *, colorscale: str = "gray", signed: bool = False, text: bool = False,
            hover: str = "value", height: int = 300, marks: list[tuple[int, int]] | None = None,
            box: tuple[int, int, int, int] | None = None, title: str = "", zrange=None,
            mark_size: int = 9, clickable: bool = False, mark_symbol: str = "square-open",
            mark_colour: str = "orange") -> go.Figure:
    """An interactive (h, w) heat map: values on hover (and in the cells when `text`), row 0 at the top.

    `marks` are (row, col) cells ringed in orange (or drawn as `mark_symbol` in `mark_colour`); `box` an inclusive (top, left, bottom, right) outline.
    """
    values = np.asarray(values, np.float64)
    kwargs = {}
    if signed:
        bound = float(np.abs(values).max()) or 1.0
        kwargs = dict(zmin=-bound, zmax=bound, zmid=0)
    elif zrange is not None:
        kwargs = dict(zmin=zrange[0], zmax=zrange[1])
    figure = go.Figure(go.Heatmap(
        z=values, colorscale=colorscale, reversescale=False, showscale=True,
        hovertemplate=f"row %{{y}}, column %{{x}}<br>{hover}: %{{z:.3f}}<extra></extra>",
        text=np.round(values, 2) if text else None, texttemplate="%{text}" if text else None,
        colorbar=dict(thickness=10, title=dict(text=hover, side="right")), **kwargs,
    ))
    if clickable:
        # Heat maps send no click selections; an invisible marker on every cell does.
        rows, cols = np.indices(values.shape)
        figure.data[0].hoverinfo = "skip"  # the markers answer hovers (and clicks) instead
        figure.add_trace(go.Scatter(x=cols.ravel(), y=rows.ravel(), mode="markers", showlegend=False,
                                    customdata=values.ravel(),
                                    hovertemplate=f"row %{{y}}, column %{{x}}<br>{hover}: %{{customdata:.3f}}<extra></extra>",
                                    marker=dict(size=mark_size + 2, color="rgba(0,0,0,0)"),
                                    selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
    if marks:
        rows, cols = zip(*marks)
        figure.add_trace(go.Scatter(x=cols, y=rows, mode="markers", hoverinfo="skip", showlegend=False,
                                    marker=dict(symbol=mark_symbol, color=mark_colour, size=mark_size,
                                                line=dict(width=2))))
    if box is not None:
        top, left, bottom, right = box
        figure.add_shape(type="rect", x0=left - 0.5, x1=right + 0.5, y0=top - 0.5, y1=bottom + 0.5,
                         line=dict(color="orange", width=3))
    figure.update_layout(height=height, margin=dict(l=5, r=5, t=30 if title else 5, b=5),
                         title=dict(text=title, font=dict(size=14)) if title else None)
    figure.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False, zeroline=False)
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    return figure
