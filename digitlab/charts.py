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


ANNOTATED_MIN_SIDE = 320  # a smaller picture is enlarged first: labels any smaller would be unreadable, any larger cover its digits


def annotate_digits(rgba: np.ndarray, boxes: list[tuple[int, int, int, int]], labels: list[str]) -> np.ndarray:
    """(H, W, 3) uint8 RGB copy of a (h, w, 4) picture on white, each (x, y, w, h) box drawn with its label.

    A picture under ANNOTATED_MIN_SIDE on its longer side comes back enlarged by a whole factor.
    """
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    picture = (rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    grow = -(-ANNOTATED_MIN_SIDE // max(picture.shape[:2]))
    if grow > 1:
        picture = picture.repeat(grow, axis=0).repeat(grow, axis=1)
        boxes = [tuple(side * grow for side in box) for box in boxes]
    thickness = max(2, round(max(picture.shape[:2]) / 300))
    scales = [max(0.6, h / 120) for _, _, _, h in boxes]
    sizes = [cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0] for label, scale in zip(labels, scales)]
    tabs = label_tabs(boxes, sizes, *picture.shape[:2])
    for (x, y, w, h), label, scale, (left, top, right, bottom) in zip(boxes, labels, scales, tabs):
        cv2.rectangle(picture, (x, y), (x + w, y + h), (228, 87, 46), thickness)
        cv2.rectangle(picture, (left, top), (right, bottom), (228, 87, 46), -1)
        cv2.putText(picture, label, (left + 3, bottom - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness)
    return picture


def label_tabs(boxes: list[tuple[int, int, int, int]], sizes: list[tuple[int, int]],
               height: int, width: int | None = None) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of each box's label tab: above its box, or below it where it would
    cover the tab of a digit before (touching digits' boxes overlap, and their labels with them);
    moved left where it would run past the picture's `width`."""
    tabs: list[tuple[int, int, int, int]] = []
    for (x, y, w, h), (text_width, text_height) in zip(boxes, sizes):
        if width is not None:
            x = max(0, min(x, width - text_width - 6))
        top = max(y - 4, text_height + 4) - text_height - 4
        tab = (x, top, x + text_width + 6, top + text_height + 6)
        if any(_overlap(tab, other) for other in tabs):
            below = min(y + h + 4, height - text_height - 6)
            tab = (x, below, x + text_width + 6, below + text_height + 6)
        tabs.append(tab)
    return tabs


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


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


# --- Comparing runs: training curves, metric bars, confusion matrices, per-class tables ---

RUN_COLOURS = ("#1f77b4", "#e4572e", "#2ca02c", "#9467bd", "#ff7f0e",
               "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def run_colours(names) -> dict[str, str]:
    """One colour per run name, in order, the same in every chart of a page."""
    return {name: RUN_COLOURS[i % len(RUN_COLOURS)] for i, name in enumerate(names)}


def _curve(history: dict, key: str) -> list:
    """A history list of per-epoch scalars, NaN and infinities as gaps (None), [] when absent."""
    values = history.get(key)
    if not isinstance(values, (list, tuple)):
        return []
    points = []
    for value in values:
        is_number = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
        points.append(float(value) if is_number and np.isfinite(value) else None)
    return points


def accuracy_loss_curves(histories: dict[str, dict], *, partial: dict[str, dict] | None = None,
                         height: int = 360) -> go.Figure:
    """Accuracy (left) and loss (right) per epoch, one colour per run, training dashed, validation solid.

    `histories` maps a run name to its Keras history (lists `accuracy`, `loss`, `val_accuracy`,
    `val_loss`; other keys are ignored). `partial` maps a run name to the training points of
    the epoch in progress, `{"x": [fractional epochs], "accuracy": [...], "loss": [...]}`,
    drawn dotted so a live chart moves within an epoch.
    """
    from plotly.subplots import make_subplots

    partial = partial or {}
    figure = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"), horizontal_spacing=0.08)
    colours = run_colours(list(dict.fromkeys([*histories, *partial])))
    any_point = False
    for name, colour in colours.items():
        history = histories.get(name) or {}
        # The legend shows each run once, as a solid line: its real traces are dashed or solid.
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=name, legendgroup=name,
                                    line=dict(color=colour, width=2), hoverinfo="skip"), row=1, col=1)
        for column, metric in ((1, "accuracy"), (2, "loss")):
            for key, dash, label in ((metric, "dash", "training"), (f"val_{metric}", "solid", "validation")):
                values = _curve(history, key)
                if not any(v is not None for v in values):
                    continue
                any_point = True
                # Markers only while there are few epochs: a single epoch is a point, not a line.
                figure.add_trace(go.Scatter(
                    x=list(range(1, len(values) + 1)), y=values, name=name, legendgroup=name,
                    showlegend=False, mode="lines+markers" if len(values) <= 15 else "lines",
                    line=dict(color=colour, dash=dash, width=2), marker=dict(size=6),
                    hovertemplate=f"{name} · {label} {metric}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>",
                ), row=1, col=column)
            live = partial.get(name) or {}
            x, y = list(live.get("x") or []), _curve(live, metric)
            if x and y:
                done = _curve(history, metric)
                if done and done[-1] is not None and x[0] > len(done):
                    # Start the dotted stretch where the last finished epoch's point is.
                    x, y = [len(done), *x], [done[-1], *y]
                any_point = True
                figure.add_trace(go.Scatter(
                    # A line needs two points: the first report of a run shows as a dot.
                    x=x, y=y, name=name, legendgroup=name, showlegend=False,
                    mode="lines+markers" if len(x) < 3 else "lines",
                    line=dict(color=colour, dash="dot", width=1.5), marker=dict(size=5),
                    hovertemplate=f"{name} · training {metric} (this epoch)<br>"
                                  "epoch %{x:.2f}: %{y:.4f}<extra></extra>",
                ), row=1, col=column)
    # Two grey legend entries explain the line styles once for all runs.
    for dash, label in (("dash", "training"), ("solid", "validation")):
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=label, legendgroup="style",
                                    line=dict(color="#888888", dash=dash, width=2), hoverinfo="skip"),
                         row=1, col=1)
    if not any_point:
        figure.add_annotation(text="no finished epoch yet", x=0.5, y=0.5, xref="paper", yref="paper",
                              showarrow=False, font=dict(size=14, color="#888888"))
    figure.update_xaxes(title_text="epoch", rangemode="tozero" if not any_point else "normal")
    figure.update_yaxes(tickformat=".0%", row=1, col=1)
    # Log loss: late epochs differ in the third decimal, and a rising validation loss still shows.
    figure.update_yaxes(type="log", dtick=1, row=1, col=2)
    figure.update_layout(height=height, margin=dict(l=50, r=10, t=30, b=10), hovermode="closest",
                         legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return figure


BAR_METRICS = (("accuracy", "accuracy"), ("macro_precision", "precision"),
               ("macro_recall", "recall"), ("macro_f1", "F1"))


def metric_bars(rows: list[dict], *, height: int = 360) -> go.Figure:
    """Paper S's "Graph 1": accuracy, precision, recall and F1 (macro averages) grouped by metric, a bar per run.

    Each row has `run`, `accuracy`, `macro_precision`, `macro_recall` and `macro_f1` (fractions).
    The value axis starts just below the lowest bar, so differences of a tenth of a percent
    show; its title says where it starts.
    """
    labels = [label for _, label in BAR_METRICS]
    colours = run_colours([row["run"] for row in rows])
    values = [100 * float(row[key]) for row in rows for key, _ in BAR_METRICS if row.get(key) is not None]
    figure = go.Figure()
    for row in rows:
        scores = [100 * float(row[key]) if row.get(key) is not None else None for key, _ in BAR_METRICS]
        figure.add_trace(go.Bar(
            x=labels, y=scores, name=row["run"], marker_color=colours[row["run"]],
            text=[f"{s:.2f}" if s is not None else "" for s in scores], textposition="outside",
            textfont=dict(size=10), cliponaxis=False,
            hovertemplate=f"{row['run']}<br>%{{x}}: %{{y:.2f}} %<extra></extra>",
        ))
    floor = max(0.0, float(np.floor(min(values)) - 1)) if values else 0.0
    figure.update_layout(
        barmode="group", height=height, margin=dict(l=60, r=10, t=30, b=10),
        yaxis=dict(title=f"% (axis starts at {floor:g})" if floor else "%", range=[floor, 100.4]),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0), bargap=0.2, bargroupgap=0.05,
    )
    return figure


def _cell_colour_scale(values: np.ndarray, unit: float) -> np.ndarray:
    """log10(1 + value / unit): the diagonal holds thousands, the mistakes a handful; both must show."""
    return np.log10(1 + np.asarray(values, float) / unit)


def confusion_heatmap(matrix, *, normalise: bool = False, title: str = "",
                      highlight: tuple[int, int] | None = None, height: int = 340) -> go.Figure:
    """A (10, 10) confusion matrix: rows true digit (0 at the top), columns predicted, each cell annotated.

    `normalise` shows each row as percentages of that digit's test images. Colours follow
    a logarithm of the value so a few mistakes stand out beside a diagonal of a thousand.
    A transparent marker sits on every cell (customdata = [true, predicted, count, % of the row]) so a click
    selects the cell in `st.plotly_chart(on_select=...)`, which ignores clicks on heatmaps;
    `highlight` = (true, predicted) outlines the chosen cell.
    """
    counts = np.asarray(matrix, dtype=float)
    size = counts.shape[0]
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    shown = 100 * shares if normalise else counts
    if normalise:
        text = [[("" if c == 0 else f"{v:.1f}" if v < 99.95 else "100") for c, v in zip(cr, vr)]
                for cr, vr in zip(counts, shown)]
    else:
        text = [["" if c == 0 else f"{int(c)}" for c in row] for row in counts]
    digits = list(range(size))
    figure = go.Figure(go.Heatmap(
        z=_cell_colour_scale(shown, 0.1 if normalise else 1.0), x=digits, y=digits, text=text,
        texttemplate="%{text}", textfont=dict(size=10), colorscale="Blues", showscale=False,
        hoverinfo="skip", xgap=1, ygap=1,
    ))
    true_labels, predicted_labels = np.divmod(np.arange(size * size), size)
    figure.add_trace(go.Scatter(
        x=predicted_labels, y=true_labels, mode="markers",
        marker=dict(symbol="square", size=22, color="rgba(0,0,0,0)"),
        customdata=np.stack([true_labels, predicted_labels, counts.ravel().astype(int),
                             100 * shares.ravel()], axis=1),
        hovertemplate="true %{customdata[0]}, read %{customdata[1]}: %{customdata[2]} images "
                      "(%{customdata[3]:.1f} % of the %{customdata[0]}s)<extra></extra>",
        # Selecting a cell must not dim the others (Plotly's default for unselected points).
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        showlegend=False,
    ))
    if highlight is not None:
        true_digit, predicted_digit = highlight
        figure.add_shape(type="rect", x0=predicted_digit - 0.5, x1=predicted_digit + 0.5,
                         y0=true_digit - 0.5, y1=true_digit + 0.5, line=dict(color=ACCENT, width=3))
    figure.update_layout(
        title=dict(text=title, x=0.5, xanchor="center", font=dict(size=14)) if title else None,
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        # Fixed ranges: the click markers must not widen the axes beyond the ten digits.
        xaxis=dict(title="predicted", dtick=1, range=[-0.5, size - 0.5], constrain="domain",
                   showgrid=False, zeroline=False, fixedrange=True),
        yaxis=dict(title="true", dtick=1, range=[size - 0.5, -0.5], scaleanchor="x", constrain="domain",
                   showgrid=False, zeroline=False, fixedrange=True),
        plot_bgcolor="white", dragmode=False,
    )
    return figure


def _score_colour(value: float, low: float, high: float) -> str:
    """CSS background from red (at `low`) through amber to green (at `high`) for a score in %."""
    if value is None or not np.isfinite(value):
        return ""
    t = 1.0 if high <= low else float(np.clip((value - low) / (high - low), 0, 1))
    red, amber, green = np.array([248, 105, 107]), np.array([255, 217, 102]), np.array([99, 190, 123])
    rgb = red + (amber - red) * (t / 0.5) if t < 0.5 else amber + (green - amber) * ((t - 0.5) / 0.5)
    r, g, b = (int(round(c)) for c in rgb)
    return f"background-color: rgba({r}, {g}, {b}, 0.55)"


PER_CLASS_SCORES = ("precision", "recall", "F1")


def per_class_frame(per_class: list[dict]) -> "pd.DataFrame":
    """Per-digit precision, recall and F1 in % and support, from a report's `per_class` rows."""
    import pandas as pd

    return pd.DataFrame({
        "digit": [row["label"] for row in per_class],
        "precision": [100 * row["precision"] for row in per_class],
        "recall": [100 * row["recall"] for row in per_class],
        "F1": [100 * row["f1"] for row in per_class],
        "support": [row["support"] for row in per_class],
    })


def per_class_styler(frame: "pd.DataFrame", *, low: float | None = None, high: float = 100.0):
    """`frame` from `per_class_frame` as a pandas Styler: P/R/F1 cells red (at `low`) to green (at `high`).

    Give several runs' tables the same `low` so equal colours mean equal scores; by default
    `low` is this table's lowest score. Built with Styler.map, so no matplotlib is needed.
    """
    scores = frame[list(PER_CLASS_SCORES)]
    low = float(np.nanmin(scores.to_numpy())) if low is None else low
    return (frame.style
            .map(lambda v: _score_colour(v, low, high), subset=list(PER_CLASS_SCORES))
            .format("{:.2f}", subset=list(PER_CLASS_SCORES))
            .hide(axis="index"))
