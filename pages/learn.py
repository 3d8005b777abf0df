"""Learn: a lesson on how a CNN reads a digit, every panel live on one drawing and a stored model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitlab import augmentation, charts, lesson, perturb, registry
from digitlab import lesson_charts as lc
from digitlab.architectures import ArchSpec
from digitlab.records import RunRecord
from digitlab.canvas import render_strokes
from digitlab.convolution import (KERNEL_PRESETS, architecture_card, convolve, layer_geometry, layer_sizes,
                                  max_pool, output_size, pixel_arithmetic, size_formula, unit_region)
from digitlab.imageio import ImageError, read_image
from digitlab.preprocessing import preprocess_digit
from digitlab.snapshots import load_replay
from digitlab.softmax import softmax_steps
from pages import reading_cache, ui

ui.require_shell("pages/learn.py")

STEPS = lesson.STEPS
SOURCES = ("Draw", "MNIST test digit", "Upload")
LEARNED = "learned filter of the model"
TEMPERATURES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
PLOT = {"displayModeBar": False}
HANDS = 16  # variants shown on the "Many hands" step
UNIT_DIGITS = 2000  # MNIST test digits that tell a live dense unit from a dead one
UNITS_PER_ROW = 16


def clicked_cell(chart_key: str) -> tuple[int, int] | None:
    """The (row, col) last clicked on a clickable heat map, once per click; None otherwise."""
    event = st.session_state.get(chart_key) or {}
    points = (event.get("selection") or {}).get("points") or []
    if not points or "x" not in points[0] or "y" not in points[0]:
        return None
    cell = (int(round(float(points[0]["y"]))), int(round(float(points[0]["x"]))))
    if st.session_state.get(f"{chart_key}_seen") == cell:
        return None
    st.session_state[f"{chart_key}_seen"] = cell
    return cell


# --- Cached computation: once per (drawing bytes, model), shared by every session ---

@st.cache_resource(show_spinner=False)
def mnist_test() -> tuple[np.ndarray, np.ndarray] | None:
    """MNIST's 10,000 test digits, (10000, 28, 28) float32 and (10000,) labels; None when the file is missing."""
    from digitlab.data import DataUnavailableError, mnist_test_set

    try:
        images, labels = mnist_test_set()
    except DataUnavailableError:
        return None
    return images[..., 0], labels


def example_digit() -> tuple[np.ndarray, str]:
    """What the panels show before anything is drawn: MNIST test digit #0, or a hand-made 7 without MNIST."""
    mnist = mnist_test()
    if mnist is not None:
        return mnist[0][0], "MNIST test digit #0 (a 7)"
    seven = np.zeros((28, 28), np.float32)
    seven[6:9, 7:21] = 1
    for row in range(9, 23):
        seven[row, 19 - (row - 9) // 2:21 - (row - 9) // 2] = 1
    return seven, "a hand-made 7"


@st.cache_resource(show_spinner="Preparing the model for the lesson…", max_entries=16)
def _explainer(name: str, stamp: float):
    from digitlab.explain import Explainer

    return Explainer(ui.predictor(name).model)


def explainer(name: str):
    """The shared Explainer of a stored run (its compiled functions traced once per server)."""
    return _explainer(name, registry.get_run(name).model_path.stat().st_mtime)


def _image(image_bytes: bytes) -> np.ndarray:
    return np.frombuffer(image_bytes, np.float32).reshape(28, 28)


@st.cache_data(max_entries=256, show_spinner=False)
def picture_from_rgba(rgba_bytes: bytes, shape: tuple[int, ...]) -> bytes | None:
    steps = preprocess_digit(np.frombuffer(rgba_bytes, np.uint8).reshape(shape))
    return None if steps.empty else steps.image.astype(np.float32).tobytes()


@st.cache_data(max_entries=512, show_spinner=False)
def forward(image_bytes: bytes, name: str):
    return explainer(name).forward(_image(image_bytes))


@st.cache_data(max_entries=256, show_spinner=False)
def attribution(image_bytes: bytes, name: str, digit: int):
    return explainer(name).attribution(_image(image_bytes), digit)


@st.cache_data(max_entries=128, show_spinner="Sliding a black square over the picture…")
def occlusion(image_bytes: bytes, name: str, digit: int):
    return explainer(name).occlusion(_image(image_bytes), digit)


@st.cache_data(max_entries=128, show_spinner="Searching for the smallest change that flips the answer…")
def smallest_flip(image_bytes: bytes, name: str):
    return explainer(name).smallest_flip(_image(image_bytes))


@st.cache_data(max_entries=256, show_spinner=False)
def sweep(image_bytes: bytes, kind: str, names: tuple[str, ...]) -> tuple[np.ndarray, dict]:
    """The change's amounts (the slider's steps) and each model's (n, 10) probabilities for them."""
    amounts, images = perturb.sweep(_image(image_bytes), kind)
    return amounts, {name: explainer(name).probabilities(images) for name in names}


@st.cache_data(max_entries=256, show_spinner=False)
def hand_variants(image_bytes: bytes, kind: str, seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """HANDS variants of the picture as training might change it, and the model's probabilities for each."""
    images = augmentation.variants(_image(image_bytes), HANDS, seed, augmentation.SHOWN[kind])
    return images, explainer(name).probabilities(images)


@st.cache_data(max_entries=16, show_spinner="Running 2,000 MNIST digits through the dense layer…")
def unit_firing(name: str, stamp: float) -> np.ndarray | None:
    """(units,) share of 2,000 MNIST test digits each unit of the first dense layer fires for; None without one."""
    from digitlab.explain import dense_units, firing_share

    mnist, probe = mnist_test(), explainer(name).dense
    if mnist is None or probe is None:
        return None
    return firing_share(dense_units(probe, mnist[0][:UNIT_DIGITS]))


@st.cache_data(max_entries=256, show_spinner=False)
def unit_outputs(image_bytes: bytes, name: str) -> np.ndarray | None:
    """(units,) the first dense layer's outputs for the picture; None for a network without one."""
    from digitlab.explain import dense_units

    probe = explainer(name).dense
    return None if probe is None else dense_units(probe, _image(image_bytes)[None])[0]


@st.cache_data(max_entries=64, show_spinner=False)
def run_record(name: str) -> RunRecord:
    return registry.read_record(name)


@st.cache_data(max_entries=64, show_spinner=False)
def first_filters(name: str) -> tuple[np.ndarray, np.ndarray]:
    """conv1's (k, k, 1, filters) kernel and (filters,) bias."""
    kernel, bias = ui.predictor(name).model.get_layer("conv1").get_weights()
    return kernel, bias


@st.cache_data(max_entries=32, show_spinner=False)
def replay(name: str):
    return load_replay(registry.get_run(name).path)


@st.cache_resource(max_entries=512, show_spinner=False)
def heatmap(values: np.ndarray, **options) -> go.Figure:
    """`lesson_charts.heatmap`, built once per (values, options) and shared read-only by every session.

    Building and validating Plotly figures is most of a panel's server time (profiled); Back/Next,
    a revisited kernel and every student on the same digit ask for the same figures again. A resource, not data: `st.plotly_chart` only reads
    the figure (it copies it with `to_dict`), and unpickling a copy would validate it all again.
    """
    return lc.heatmap(values, **options)


def spec_of(name: str) -> ArchSpec:
    return run_record(name).spec


# --- Settings from the link (step, model, settings), read once per session ---

# The lesson's panels follow a network's ArchSpec layer by layer; an uploaded model of its own
# architecture has none (it reads, votes and compares elsewhere like any other run).
runs = [r for r in ui.servable_runs() if r["has_spec"]]
names = [r["name"] for r in runs]
if not names:
    st.error("No trained model is stored: run `python -m digitlab reproduce` first.")
    st.stop()
run_by_name = {r["name"]: r for r in runs}

if not st.session_state.get("learn_link_read"):
    st.session_state.learn_link_read = True
    params = st.query_params
    st.session_state.learn_step = lesson.step_index(params.get("step"))
    if params.get("model") in names:
        st.session_state.learn_model = params["model"]
    st.session_state.learn_projector = params.get("projector") == "1"
    if params.get("source") in ("draw", "mnist", "upload"):
        st.session_state.learn_source = SOURCES[("draw", "mnist", "upload").index(params["source"])]
    if str(params.get("digit", "")).isdigit():
        st.session_state.learn_mnist_index = min(int(params["digit"]), 9999)
    if params.get("kernel") in KERNEL_PRESETS:
        st.session_state.learn_kernel_choice = params["kernel"]
    try:
        if float(params.get("t", "")) in TEMPERATURES:
            st.session_state.learn_temperature = float(params["t"])
    except ValueError:
        pass

st.session_state.setdefault("learn_model", ui.active_model() or names[0])
if st.session_state.learn_model not in names:
    st.session_state.learn_model = names[0]
st.session_state.setdefault("learn_clear_count", 0)

projector = st.session_state.get("learn_projector", False)
if projector:
    # Large type for the back of the room; Streamlit sizes its text in rem.
    st.markdown("<style>html { font-size: 22px; } .stMarkdown p, .stMarkdown li { font-size: 1.25rem; }</style>",
                unsafe_allow_html=True)

st.title("Learn: how a CNN reads a digit")


# --- The digit everything works on ---

def canvas_drawing() -> np.ndarray | None:
    """The Learn canvas, started from the drawing Draw (or an earlier visit) left; its 28×28 picture or None."""
    if "learn_canvas" not in st.session_state:  # the canvas is new on this visit: start from the shared drawing
        st.session_state.learn_initial = list(st.session_state.get(ui.DRAWING_KEY) or [])
    if st.button("Clear", key="learn_clear"):
        st.session_state.learn_clear_count += 1
        st.session_state.learn_initial = []
        st.session_state[ui.DRAWING_KEY] = []
    canvas = st_canvas(
        stroke_width=18, stroke_color="#000000", background_color="#ffffff", height=280, width=460,
        drawing_mode="freedraw", return_image_data=True, key="learn_canvas",
        initial_drawing={"objects": st.session_state.learn_initial,
                         "digitlab_clear": st.session_state.learn_clear_count},
    )
    raw = canvas.json_data  # what the browser sent: any JSON at all
    objects = raw["objects"] if isinstance(raw, dict) and isinstance(raw.get("objects"), list) else None
    if objects is not None:
        st.session_state[ui.DRAWING_KEY] = objects  # Draw opens with this drawing
    strokes = objects or st.session_state.learn_initial
    # The canvas's raw PNG through the canvas's limits, never `image_data` (Pillow, no limits).
    png = reading_cache.canvas_png(canvas) if objects else None
    try:
        if isinstance(png, str):
            raise ImageError(png)
        if png is not None:
            rgba = reading_cache.read_canvas(png)
        elif strokes:
            # A drawing brought from Draw: the canvas shows it but sends no picture before the next stroke.
            rgba = render_strokes(strokes, width=460, height=280)
        else:
            return None
    except ImageError as error:
        st.error(str(error))
        return None
    image_bytes = picture_from_rgba(rgba.tobytes(), rgba.shape)
    return None if image_bytes is None else _image(image_bytes)


def chosen_digit() -> tuple[np.ndarray, str]:
    """The lesson's 28×28 float32 picture and where it came from."""
    source = st.segmented_control("Digit from", SOURCES, key="learn_source", default="Draw") or "Draw"
    example, example_name = example_digit()
    if source == "Draw":
        image = canvas_drawing()
        if image is None:
            st.caption(f"Nothing drawn yet: the panels show {example_name} until you draw.")
            return example, example_name
        return image, "your drawing"
    if source == "MNIST test digit":
        mnist = mnist_test()
        if mnist is None:
            st.error("MNIST is not available on this server (set DIGITLAB_MNIST to mnist.npz).")
            return example, example_name
        index = st.number_input("MNIST test image number (0–9999)", 0, 9999, key="learn_mnist_index")
        st.caption(f"MNIST test image #{index}: labelled **{mnist[1][index]}** by the people who made MNIST.")
        return mnist[0][index], f"MNIST test digit #{index}"
    upload = st.file_uploader("A photo or scan of one handwritten digit", key="learn_upload", max_upload_size=20)
    if upload is not None:
        try:
            steps = preprocess_digit(read_image(upload.getvalue(), name=upload.name))
        except ImageError as exc:
            st.error(str(exc))
        else:
            if not steps.empty:
                return steps.image.astype(np.float32), upload.name
            st.warning(f"No digit found in {upload.name}.")
    st.caption(f"Nothing uploaded yet: the panels show {example_name}.")
    return example, example_name


top_left, top_right = st.columns([5, 4], gap="large")
with top_left:
    image, image_source = chosen_digit()
image = np.ascontiguousarray(image, dtype=np.float32)
image_bytes = image.tobytes()
with top_right:
    labels_of = {n: f"{n} · {run_by_name[n]['params']:,} parameters" if run_by_name[n]["params"] else n
                 for n in names}
    model_name = st.selectbox("Model (stored runs)", names, key="learn_model", format_func=labels_of.get)
    seen = forward(image_bytes, model_name)
    picture_col, reading_col = st.columns([1, 2])
    picture_col.image(charts.enlarge(image, 112), caption="28×28: what the model sees", width=112)
    reading_col.markdown(f"### Reads: {seen.digit}")
    reading_col.markdown(f"confidence **{seen.probabilities.max():.1%}** · source: {image_source}")
    with st.expander("For the teacher", expanded=False):
        st.toggle("Projector mode (large type, advanced controls hidden)", key="learn_projector")
        st.caption("The address bar always holds this step, model and settings: copy it to open the lesson "
                   "here for every student.")

spec = spec_of(model_name)
model = ui.predictor(model_name).model


# --- Step navigation ---

def go_to(delta: int) -> None:
    st.session_state.learn_step = min(max(st.session_state.learn_step + delta, 0), len(STEPS) - 1)


st.session_state.setdefault("learn_step", 0)
st.divider()
back, pick, forward_button = st.columns([1, 6, 1])
back.button("◀ Back", key="learn_back", on_click=go_to, args=(-1,), disabled=st.session_state.learn_step == 0,
            width="stretch")
pick.selectbox("Lesson step", range(len(STEPS)), key="learn_step", format_func=lambda i: STEPS[i].title,
               label_visibility="collapsed")
forward_button.button("Next ▶", key="learn_next", on_click=go_to, args=(1,),
                      disabled=st.session_state.learn_step == len(STEPS) - 1, width="stretch")
step = STEPS[st.session_state.learn_step]

st.header(step.title)
st.markdown(step.explain)
with st.container(border=True):
    guess = st.radio(f"**Guess first:** {step.question}", step.options, index=None, key=f"learn_guess_{step.key}",
                     horizontal=True)
    if guess is not None:
        right = step.options.index(guess) == step.answer
        (st.success if right else st.info)(
            ("Right. " if right else f"The answer is **{step.options[step.answer]}**. ") + step.reveal)

link = {"step": step.key, "model": model_name}


# --- One function per step: lays out its widgets, asks the library, draws the answer ---

def step_input():
    figure = heatmap(image, colorscale="gray", hover="pixel value (0 black … 1 ink)", height=520)
    st.plotly_chart(figure, key="learn_input_map", config=PLOT)
    st.caption(f"{int((image > 0).sum())} of 784 pixels hold some ink; the brightest is {image.max():.2f}.")


def set_kernel(values: np.ndarray, bias: float) -> None:
    for i in range(3):
        for j in range(3):
            st.session_state[f"learn_k{i}{j}"] = float(round(float(values[i, j]), 4))
    st.session_state.learn_bias = float(round(float(bias), 4))


def load_kernel_choice() -> None:
    choice = st.session_state.learn_kernel_choice
    if choice == LEARNED:
        kernel, bias = first_filters(st.session_state.learn_model)
        st.session_state.learn_kernel_from = st.session_state.learn_model
        index = min(st.session_state.get(f"learn_filter_{st.session_state.learn_model}", 0), kernel.shape[3] - 1)
        set_kernel(kernel[:, :, 0, index], bias[index])
    else:
        set_kernel(KERNEL_PRESETS[choice], 0.0)


def step_conv():
    kernel_shape = first_filters(model_name)[0].shape
    options = list(KERNEL_PRESETS) + ([LEARNED] if kernel_shape[:2] == (3, 3) else [])
    if st.session_state.get("learn_kernel_choice") not in options:
        st.session_state.learn_kernel_choice = "Sobel x (vertical edges)"
    learned_elsewhere = (st.session_state.learn_kernel_choice == LEARNED
                         and st.session_state.get("learn_kernel_from") != model_name)
    if "learn_k00" not in st.session_state or learned_elsewhere:  # first visit, or another model chosen since
        load_kernel_choice()
    choose, settings = st.columns([2, 3])
    with choose:
        st.selectbox("Kernel", options, key="learn_kernel_choice", on_change=load_kernel_choice)
        if st.session_state.learn_kernel_choice == LEARNED:
            st.slider("Filter of the model's first layer", 0, kernel_shape[3] - 1, key=f"learn_filter_{model_name}",
                      on_change=load_kernel_choice)
        st.caption("The 9 weights (edit any cell) and the bias:")
        for i in range(3):
            for j, cell in enumerate(st.columns(3)):
                cell.number_input(f"weight row {i + 1}, column {j + 1}", step=0.1, format="%.3f",
                                  key=f"learn_k{i}{j}", label_visibility="collapsed")
        st.number_input("bias (added to every sum)", step=0.1, format="%.3f", key="learn_bias")
    kernel = np.array([[st.session_state[f"learn_k{i}{j}"] for j in range(3)] for i in range(3)], np.float32)
    bias = float(st.session_state.learn_bias)
    if (cell := clicked_cell("learn_conv_out")) is not None:  # a click on the output picks the pixel
        st.session_state.learn_conv_row, st.session_state.learn_conv_col = cell
    with settings:
        # Start on the ink pixel nearest the centre: a background pixel's sum is all zeros.
        ink = np.argwhere(image > 0.5)
        start = ink[np.abs(ink - 13.5).sum(axis=1).argmin()] if len(ink) else (14, 14)
        st.caption("Click a pixel of the output, or move the sliders:")
        row = st.slider("Output pixel: row", 0, 27, int(start[0]), key="learn_conv_row")
        col = st.slider("Output pixel: column", 0, 27, int(start[1]), key="learn_conv_col")
        relu = st.toggle("Show the output after ReLU (negatives become 0)", key="learn_conv_relu")
    output = convolve(image, kernel, bias)
    maths = pixel_arithmetic(image, kernel, bias=bias, row=row, col=col)
    left, middle, right = st.columns([4, 3, 4])
    left.plotly_chart(heatmap(image, hover="pixel", height=330, title="input (3×3 patch outlined)",
                                 box=(row - 1, col - 1, row + 1, col + 1)), key="learn_conv_in", config=PLOT)
    middle.plotly_chart(heatmap(kernel, colorscale=lc.DIVERGING, signed=True, text=True, hover="weight",
                                   height=330, title="kernel"), key="learn_conv_kernel", config=PLOT)
    shown = np.maximum(output, 0) if relu else output
    right.plotly_chart(heatmap(shown, colorscale=lc.DIVERGING, signed=True, hover="output", height=330,
                                  title="output" + (" after ReLU" if relu else " (red < 0 < blue)"),
                                  marks=[(row, col)], clickable=True), key="learn_conv_out", config=PLOT,
                        on_select="rerun", selection_mode="points")
    cells = [[f"{maths.patch[i, j, 0]:.2f} × {maths.kernel[i, j, 0]:.2f} = {maths.products[i, j, 0]:.3f}"
              for j in range(3)] for i in range(3)]
    st.markdown(f"**Output pixel (row {row}, column {col})**: pixel × weight for the 9 cells of the patch")
    st.table(pd.DataFrame(cells, columns=["left", "middle", "right"], index=["top", "middle", "bottom"]))
    st.markdown(f"sum of the 9 products = **{maths.total:.3f}** · + bias {maths.bias:.3f} = **{maths.output:.3f}** "
                f"· ReLU: max(0, {maths.output:.3f}) = **{maths.relu:.3f}**")
    link["kernel"] = st.session_state.learn_kernel_choice if st.session_state.learn_kernel_choice in KERNEL_PRESETS \
        else None


def step_size():
    cells = st.columns(5)
    size = cells[0].number_input("input size i", 1, 512, 28, key="learn_size_i")
    kernel = cells[1].number_input("kernel k", 1, 15, 3, key="learn_size_k")
    stride = cells[2].number_input("stride s", 1, 8, 1, key="learn_size_s")
    padding = cells[3].number_input("padding p", 0, 8, 0, key="learn_size_p")
    dilation = cells[4].number_input("dilation d", 1, 6, 1, key="learn_size_d")
    st.markdown(f"### o = {size_formula(size, kernel, stride=stride, padding=padding, dilation=dilation)}")
    try:
        out = output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
        st.caption(f"A {size}×{size} input gives a {out}×{out} output.")
    except ValueError as exc:
        st.error(f"Invalid settings: {exc}.")
    if stride > 1 and dilation > 1:
        st.caption("Keras' Conv2D refuses stride > 1 together with dilation > 1 (the formula still holds).")
    st.subheader(f"The formula on {model_name}'s real layers")
    st.caption("Keras' 'same' padding adds zeros so that o = ⌈i / s⌉; an odd total puts the extra zero after.")
    rows = [{"layer": r.name, "input side i": r.input_size, "kernel k": r.kernel, "stride s": r.stride,
             "zeros added (both sides)": r.zeros_added, "formula": r.formula,
             "Keras output shape": " × ".join(map(str, model.get_layer(r.name).output.shape[1:]))}
            for r in layer_sizes(spec)]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="learn_size_table")


def conv_layer_picker(key: str) -> str:
    convs = [n for n in explainer(model_name).map_names if n.startswith("conv")]
    return st.selectbox("Layer", convs, key=key) if len(convs) > 1 else convs[0]


def step_pool():
    layer = conv_layer_picker("learn_pool_layer")
    index = layer[4:]
    raw, act = seen.maps[layer], seen.maps[f"act{index}"]
    strongest = int(act.max(axis=(0, 1)).argmax())
    channel = st.slider("Feature map (filter number)", 0, raw.shape[2] - 1, strongest, key=f"learn_pool_map_{layer}")
    pooled, winners = max_pool(act[..., channel])
    # A window whose cells are all equal (flat background) has no real winner: leave it unmarked.
    flat = float(act[..., channel].min())
    marked = [tuple(p) for p in np.argwhere(winners) if act[p[0], p[1], channel] > flat + 1e-6]
    has_bn = any(layer.name == f"bn{index}" for layer in model.layers)
    between = "after batch norm + ReLU" if has_bn else "after ReLU"
    cols = st.columns(3)
    size = raw.shape[0]
    cols[0].plotly_chart(heatmap(raw[..., channel], colorscale=lc.DIVERGING, signed=True, height=320,
                                    hover="convolution output", title=f"{layer}: {size}×{size}, signed"),
                         key="learn_pool_raw", config=PLOT)
    cols[1].plotly_chart(heatmap(act[..., channel], colorscale="Viridis", height=320, hover="activation",
                                    title=f"{between}; ◻ = window winner",
                                    marks=marked,
                                    mark_size=max(3, 280 // size - 2)), key="learn_pool_act", config=PLOT)
    cols[2].plotly_chart(heatmap(pooled, colorscale="Viridis", height=320, hover="window maximum",
                                    title=f"2×2 max pooled: {pooled.shape[0]}×{pooled.shape[1]}",
                                    zrange=(float(act[..., channel].min()), float(act[..., channel].max()))),
                         key="learn_pool_pooled", config=PLOT)
    negative = float((raw[..., channel] < 0).mean())
    st.caption(f"{negative:.0%} of this map's convolution outputs are below 0 before the activation; max pooling "
               f"keeps {winners.sum()} of {winners.size} cells (one per 2×2 window; ◻ marks the winners of windows "
               "that are not flat background).")


def step_maps():
    names_ = explainer(model_name).map_names
    columns = st.columns([2, 2, 2] if not projector else [1])
    layer = columns[0].selectbox("Layer", names_, index=min(1, len(names_) - 1), key="learn_maps_layer")
    cmap, scale_by = "viridis", "map"
    if not projector:
        cmap = columns[1].radio("Colours", list(lc.SEQUENTIAL), horizontal=True, key="learn_maps_cmap")
        scale_by = columns[2].radio("Colour scale", ["map", "layer", "global"], horizontal=True,
                                    key="learn_maps_scale",
                                    format_func={"map": "per map", "layer": "per layer", "global": "global"}.get)
    maps = seen.maps[layer]
    shown = min(maps.shape[2], 32 if projector else 64)
    everything = np.concatenate([m.ravel() for m in seen.maps.values()])
    picture = lc.mosaic(maps[..., :shown], cmap=cmap, scale_by=scale_by, columns=16 if shown > 32 else 8,
                        tile=56 if shown > 32 else 80, global_range=(float(everything.min()), float(everything.max())))
    h, w, n = maps.shape
    st.markdown(f"**{layer}**: {h} × {w} pixels × {n} maps (showing {shown}); dark = low, bright = high "
                f"({'each map its own range' if scale_by == 'map' else 'one range for the layer' if scale_by == 'layer' else 'one range for every layer'}: "
                f"values here {maps.min():.2f} … {maps.max():.2f})")
    st.image(picture, width="stretch" if shown > 32 else "content")


def step_filters():
    kernel, bias = first_filters(model_name)
    k, _, _, count = kernel.shape
    st.markdown(f"**{model_name}'s first layer**: {count} filters of {k} × {k} weights; blue = positive weight, "
                f"red = negative, white = 0 (one scale for all, ±{np.abs(kernel).max():.2f}).")
    picture = lc.mosaic(kernel[:, :, 0, :], cmap=lc.DIVERGING, scale_by="layer", columns=16 if count > 32 else 8,
                        tile=48 if count > 32 else 72)
    st.image(picture, width="stretch" if count > 32 else "content", caption="filter 0 at the top left, in rows")
    if not projector and st.toggle("Show one filter's numbers", key="learn_filter_values"):
        index = st.slider("Filter", 0, count - 1, 0, key="learn_filter_pick")
        st.plotly_chart(heatmap(kernel[:, :, 0, index], colorscale=lc.DIVERGING, signed=True, text=True,
                                   hover="weight", height=300, title=f"filter {index}, bias {bias[index]:.3f}"),
                        key="learn_filter_map", config=PLOT)


def step_field():
    geometry = layer_geometry(spec)
    layers = [g.name for g in geometry[1:]]
    pick, row_col = st.columns([2, 3])
    layer = pick.selectbox("Layer", layers, index=len(layers) - 1, key="learn_field_layer")
    g = next(g for g in geometry if g.name == layer)
    if (cell := clicked_cell(f"learn_field_map_{layer}")) is not None:  # a click on the layer's map picks the unit
        st.session_state[f"learn_field_row_{layer}"], st.session_state[f"learn_field_col_{layer}"] = cell
    with row_col:
        row = st.slider(f"Unit row (0–{g.size - 1})", 0, g.size - 1, g.size // 2, key=f"learn_field_row_{layer}")
        col = st.slider(f"Unit column (0–{g.size - 1})", 0, g.size - 1, g.size // 2, key=f"learn_field_col_{layer}")
    region = unit_region(geometry, layer, row, col)
    top, left, bottom, right = region
    picture, layer_map, table = st.columns([2, 2, 3])
    picture.image(lc.outline(image, region, scale=12),
                  caption=f"{layer} unit ({row}, {col}) sees rows {top}–{bottom}, columns {left}–{right} "
                          f"({bottom - top + 1}×{right - left + 1} pixels)", width="stretch")
    strength = seen.maps[layer].mean(axis=2)
    layer_map.plotly_chart(heatmap(strength, colorscale="Viridis", hover="mean over the maps", height=300,
                                      title=f"{layer}: click a unit", marks=[(row, col)], clickable=True,
                                      mark_size=max(4, 220 // g.size - 2)),
                           key=f"learn_field_map_{layer}", config=PLOT, on_select="rerun", selection_mode="points")
    rows, previous = [], None
    for item in geometry:
        formula = "1 (one pixel)" if previous is None else (
            f"{previous.receptive_field} + ({item.kernel}−1)·{previous.jump} = {item.receptive_field}")
        rows.append({"layer": item.name, "k": item.kernel, "s": item.stride, "∏ strides": item.jump,
                     "receptive field r (px per side)": formula, "units": f"{item.size}×{item.size}"})
        previous = item
    small = st.column_config.Column(width="small")
    table.dataframe(pd.DataFrame(rows), hide_index=True, key="learn_field_table",
                    column_config={"k": small, "s": small, "∏ strides": small, "units": small})
    table.caption("k kernel, s stride, ∏ strides: input pixels between neighbouring units. Near the edge part of "
                  "the field falls on padding, so the outline on the picture is smaller.")


def step_softmax():
    temperature = st.select_slider("Temperature T", TEMPERATURES, value=1.0, key="learn_temperature")
    steps = softmax_steps(seen.logits, temperature)
    frame = pd.DataFrame({"digit": range(10), "logit z": steps.logits, "z / T": steps.scaled,
                          "exp(z/T − largest)": steps.exps, "probability": steps.probabilities * 100})
    left, right = st.columns([3, 2])
    left.dataframe(frame, hide_index=True, key="learn_softmax_table", column_config={
        "logit z": st.column_config.NumberColumn(format="%.2f"),
        "z / T": st.column_config.NumberColumn(format="%.2f"),
        "exp(z/T − largest)": st.column_config.NumberColumn(format="%.4g"),
        "probability": st.column_config.NumberColumn("probability = exp / sum", format="%.2f %%")})
    left.caption(f"sum of the exps = {steps.total:.4g}; at T = 1 these are exactly the model's own probabilities.")
    right.plotly_chart(charts.probability_bars(steps.probabilities), key="learn_softmax_bars", config=PLOT)
    link["t"] = temperature


def step_look():
    digit = st.selectbox("Explain which digit's score", range(10), index=seen.digit,
                         key=f"learn_look_digit_{seen.digit}",
                         format_func=lambda d: f"{d} (the model's answer)" if d == seen.digit else str(d))
    why = attribution(image_bytes, model_name, digit)
    hidden = occlusion(image_bytes, model_name, digit)
    cols = st.columns(3)
    cols[0].image(lc.enlarge_rgb(lc.colourise(np.abs(why.saliency)), 10), width="stretch",
                  caption=f"saliency: |∂ score of {digit} / ∂ pixel| (bright = a small change there moves "
                          f"the score most; largest {np.abs(why.saliency).max():.3f})")
    cols[1].image(lc.overlay(image, why.grad_cam, scale=10, alpha=0.65), width="stretch",
                  caption=f"Grad-CAM from {why.cam_layer}, over the drawing (bright = places that raise the "
                          f"{digit} score; largest {why.grad_cam.max():.3f})")
    cols[2].image(lc.enlarge_rgb(lc.colourise(-hidden.score_drop, cmap=lc.DIVERGING), 10), width="stretch",
                  caption=f"occlusion: change in the {digit} score when a {hidden.patch}×{hidden.patch} black "
                          f"square covers each place (red = falls, blue = rises; falls by up to "
                          f"{hidden.score_drop.max():.2f}, probability by up to {hidden.probability_drop.max():.1%})")


def depth_runs() -> list[str]:
    paper_s = [n for n in (f"paper-s-{i}" for i in range(1, 5)) if n in names]
    return st.multiselect("Networks to compare", names, default=paper_s or names[:4], key="learn_depth_runs",
                          max_selections=4)


def step_card():
    pick = st.selectbox("Card of", names, index=names.index(model_name), key="learn_card_model")
    card_spec = spec_of(pick)
    card = architecture_card(card_spec)
    frame = pd.DataFrame([{"layer": r.layer, "output shape": " × ".join(map(str, r.output_shape)),
                           "parameters": r.params, "how counted": r.params_formula, "multiply-adds": r.mult_adds,
                           "receptive field (px)": "" if r.receptive_field is None else str(r.receptive_field)}
                          for r in card])
    st.dataframe(frame, hide_index=True, key="learn_card_table", height=35 * len(frame) + 38, column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "multiply-adds": st.column_config.NumberColumn("multiply-adds (one digit)", format="localized")})
    stored = run_record(pick).params
    st.markdown(f"**{sum(r.params for r in card):,} parameters** (Keras counts {stored:,} for the stored model) · "
                f"**{sum(r.mult_adds for r in card):,} multiply-adds** per digit")
    if not projector:
        st.subheader("Every stored model")
        rows = []
        for name in names:
            one = architecture_card(spec_of(name))
            accuracy = run_by_name[name]["mnist_test_accuracy"]
            rows.append({"model": name, "conv layers": len(spec_of(name).convs),
                         "parameters": sum(r.params for r in one), "multiply-adds": sum(r.mult_adds for r in one),
                         "last receptive field (px)": [r.receptive_field for r in one if r.receptive_field][-1],
                         "MNIST test accuracy": None if accuracy is None else accuracy * 100})
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="learn_card_all", column_config={
            "parameters": st.column_config.NumberColumn(format="localized"),
            "multiply-adds": st.column_config.NumberColumn(format="localized"),
            "MNIST test accuracy": st.column_config.NumberColumn(format="%.2f %%")})


def step_depth():
    chosen = depth_runs()
    if not chosen:
        st.info("Pick at least one network.")
        return
    rows = []
    for column, name in zip(st.columns(len(chosen)), chosen):
        result = forward(image_bytes, name)
        geometry = layer_geometry(spec_of(name))
        last = geometry[-1]
        region = unit_region(geometry, last.name, last.size // 2, last.size // 2)
        card = architecture_card(spec_of(name))
        with column:
            st.markdown(f"**{name}** reads **{result.digit}** ({result.probabilities.max():.0%})")
            st.image(lc.outline(image, region, scale=8), width="stretch",
                     caption=f"one {last.name} unit sees {last.receptive_field}×{last.receptive_field} px "
                             "(clipped to the picture)")
            last_map = [n for n in result.maps if n.startswith(("act", "pool"))][-1]
            maps = result.maps[last_map]
            strongest = np.argsort(-maps.max(axis=(0, 1)))[:8]
            st.image(lc.mosaic(maps[..., strongest], columns=4, tile=40), width="stretch",
                     caption=f"{last_map}: the 8 strongest of {maps.shape[2]} maps, {maps.shape[0]}×{maps.shape[1]}")
        accuracy = run_by_name[name]["mnist_test_accuracy"]
        rows.append({"model": name, "conv layers": len(spec_of(name).convs), "reads": result.digit,
                     "confidence": float(result.probabilities.max()) * 100,
                     "parameters": sum(r.params for r in card), "multiply-adds": sum(r.mult_adds for r in card),
                     "receptive field (px)": last.receptive_field,
                     "MNIST test accuracy": None if accuracy is None else accuracy * 100})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="learn_depth_table", column_config={
        "confidence": st.column_config.NumberColumn(format="%.1f %%"),
        "parameters": st.column_config.NumberColumn(format="localized"),
        "multiply-adds": st.column_config.NumberColumn(format="localized"),
        "MNIST test accuracy": st.column_config.NumberColumn(format="%.2f %%")})


def step_break():
    kinds = list(perturb.CHANGES)
    pick, amount_col = st.columns(2)
    kind = pick.selectbox("Change", kinds, key="learn_break_kind")
    low, high, step_size_, unit, neutral = perturb.CHANGES[kind]
    amount = amount_col.slider(f"{kind} ({unit})", float(low), float(high), float(neutral), float(step_size_),
                               key=f"learn_break_amount_{kind}")
    changed = perturb.apply(image, [perturb.Change(kind, amount)])
    chosen = [n for n in (f"paper-s-{i}" for i in range(1, 5)) if n in names] or [model_name]
    digit = seen.digit
    amounts, readings = sweep(image_bytes, kind, tuple(dict.fromkeys([*chosen, model_name])))
    curves = {name: readings[name][:, digit] for name in chosen}
    left, right = st.columns([1, 3])
    changed_reading = readings[model_name][int(np.abs(amounts - amount).argmin())]  # the slider moves in sweep steps
    left.image(charts.enlarge(changed, 196), width=196,
               caption=f"{kind} {amount:g}: {model_name} reads {int(changed_reading.argmax())} "
                       f"({changed_reading.max():.0%})")
    colours = charts.run_colours(list(curves))
    figure = go.Figure([go.Scatter(x=amounts, y=curves[n] * 100, mode="lines+markers", name=n,
                                   line=dict(color=colours[n])) for n in curves])
    figure.add_vline(x=amount, line_dash="dot")
    figure.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10),
                         title=dict(text=f"each network's probability that the changed drawing is a {digit}",
                                    font=dict(size=14)),
                         xaxis_title=f"{kind} ({unit})", yaxis=dict(title="probability (%)", range=[0, 105]))
    right.plotly_chart(figure, key="learn_break_curves", config=PLOT)

    st.subheader("The smallest change that flips the answer")
    if st.button(f"Find it for {model_name}", key="learn_attack"):
        st.session_state.learn_attack_for = (image_bytes, model_name)
    if st.session_state.get("learn_attack_for") == (image_bytes, model_name):
        flip = smallest_flip(image_bytes, model_name)
        cols = st.columns(3)
        cols[0].image(charts.enlarge(flip.original, 168), caption=f"before: reads {flip.before}", width=168)
        cols[1].image(charts.enlarge(flip.changed, 168), width=168,
                      caption=f"after: reads {flip.after} ({flip.confidence_after:.0%})" if flip.flipped
                      else "no flip found within the step limit")
        cols[2].image(lc.enlarge_rgb(lc.colourise(flip.changed - flip.original, cmap=lc.DIVERGING), 6), width=168,
                      caption="change: blue = brighter, red = darker")
        st.caption(f"{flip.pixels_changed} of 784 pixels changed by more than 0.1; size of the change "
                   f"(square root of the sum of squared changes) {flip.l2:.2f}; {flip.steps} gradient steps.")


def step_replay():
    with_replay = [n for n in names if replay(n) is not None]
    if replay(model_name) is None:
        st.info(f"{model_name} was trained before training kept snapshots: no replay for it.")
    if not with_replay:
        st.caption("Train a model on the Train page (or `python -m digitlab train`): its run keeps a replay.")
        return
    name = st.selectbox("Run with a replay", with_replay, key="learn_replay_run",
                        index=with_replay.index(model_name) if model_name in with_replay else 0)
    data = replay(name)
    epoch = st.slider("Epoch (0 = the random start)", 0, data.epochs, data.epochs, key=f"learn_replay_epoch_{name}")
    left, right = st.columns([3, 2])
    filters = data.filters[epoch, :, :, 0, :]
    left.image(lc.mosaic(filters, cmap=lc.DIVERGING, scale_by="layer", columns=16, tile=40), width="stretch",
               caption=f"first-layer filters after epoch {epoch} (blue positive, red negative)")
    history = run_record(name).history
    figure = go.Figure()
    figure.add_scatter(x=list(range(data.epochs + 1)), y=data.probe_accuracy() * 100,
                       name="probe digits read right", mode="lines+markers")
    if history.get("val_accuracy"):
        figure.add_scatter(x=list(range(1, data.epochs + 1)), y=np.array(history["val_accuracy"][:data.epochs]) * 100,
                           name="validation accuracy", mode="lines+markers")
    figure.add_vline(x=epoch, line_dash="dot")
    # The legend goes under the plot: above it, in this narrow column it wraps onto the 100 % line.
    figure.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(title="epoch", dtick=1),
                         yaxis=dict(title="read right (%)", range=[0, 105]),
                         legend=dict(orientation="h", yanchor="top", y=-0.3, x=0))
    right.plotly_chart(figure, key="learn_replay_curve", config=PLOT)
    readings = data.probabilities[epoch]
    right_count = int((readings.argmax(axis=1) == data.probe_labels).sum())
    st.markdown(f"**The 20 probe digits after epoch {epoch}**: {right_count} read right "
                f"(✓ right, ✗ wrong; the model's reading and its confidence)" if epoch else
                f"**The 20 probe digits before training**: {right_count} read right by the random network")
    for row in range(0, len(data.probe_labels), 10):
        for column, n in zip(st.columns(10), range(row, row + 10)):
            read = int(readings[n].argmax())
            mark = "✓" if read == data.probe_labels[n] else "✗"
            column.image(charts.enlarge(data.probe_images[n], 56), width=56,
                         caption=f"{mark} reads {read} ({readings[n].max():.0%})")


def step_hands():
    kind_col, shuffle_col = st.columns([3, 1])
    kind = kind_col.selectbox("What training changes", list(augmentation.SHOWN), key="learn_hands_kind")
    st.session_state.setdefault("learn_hands_seed", 0)
    if shuffle_col.button("New draws", key="learn_hands_shuffle", width="stretch"):
        st.session_state.learn_hands_seed += 1
    images, probabilities = hand_variants(image_bytes, kind, st.session_state.learn_hands_seed, model_name)
    readings = probabilities.argmax(axis=1)
    same = int((readings == seen.digit).sum())
    st.markdown(f"**{same} of {HANDS}** read as **{seen.digit}**, as {model_name} reads the picture itself "
                f"(✓ the same reading, ✗ another; the reading and its confidence).")
    for row in range(0, HANDS, 8):
        for column, n in zip(st.columns(8), range(row, row + 8)):
            mark = "✓" if readings[n] == seen.digit else "✗"
            column.image(charts.enlarge(images[n], 84), width=84,
                         caption=f"{mark} reads {readings[n]} ({probabilities[n].max():.0%})")
    trained = augmentation.SHOWN["everything digitlab trains with"]
    st.caption(f"Training leaves {1 - trained.probability:.0%} of each batch unchanged (a network that never sees "
               f"a clean digit reads clean ones worse); these show only changed ones. digitlab's reader bends "
               f"{trained.elastic:.0%} of its changed digits elastically (README, \"Elastic bending\").")


def step_units():
    firing = unit_firing(model_name, registry.get_run(model_name).model_path.stat().st_mtime)
    outputs = unit_outputs(image_bytes, model_name)
    if firing is None or outputs is None:
        st.info(f"{model_name} has no dense layer (or MNIST's test digits are not on this server): "
                "pick another network in the sidebar.")
        return
    alive = firing > 0.01
    st.markdown(f"**{int(alive.sum())} of {alive.size}** units of {model_name}'s first dense layer fire for at "
                f"least 1 % of {UNIT_DIGITS:,} MNIST test digits; **{int((outputs > 0).sum())}** fire for your drawing.")
    rows = -(-alive.size // UNITS_PER_ROW)
    grid = np.full(rows * UNITS_PER_ROW, np.nan)
    grid[: alive.size] = outputs / (outputs.max() or 1.0)
    dead = [(int(i) // UNITS_PER_ROW, int(i) % UNITS_PER_ROW) for i in np.flatnonzero(~alive)]
    figure = lc.heatmap(grid.reshape(rows, UNITS_PER_ROW), colorscale="viridis", hover="output (of the largest)",
                        height=60 + 34 * rows, marks=dead, zrange=(0, 1), mark_size=14, mark_symbol="x-thin-open",
                        mark_colour="#d62728")
    st.plotly_chart(figure, config=PLOT, key="learn_units_grid")
    st.caption("Pick another network in the sidebar to compare: a network trained without BatchNorm in its dense "
               "layer, or at a high learning rate, often has many dead units. digitlab's reader had 94 to 116 dead "
               "of 128 before (README, \"Boxed styles and live dense units\").")


RENDER = {"input": step_input, "conv": step_conv, "size": step_size, "pool": step_pool, "maps": step_maps,
          "filters": step_filters, "field": step_field, "softmax": step_softmax, "look": step_look,
          "card": step_card, "depth": step_depth, "break": step_break, "replay": step_replay,
          "hands": step_hands, "units": step_units}


def write_link() -> None:
    """The address bar holds the lesson's state: a copied link opens this step, model and settings."""
    source = st.session_state.get("learn_source") or "Draw"
    link["source"] = ("draw", "mnist", "upload")[SOURCES.index(source)]
    if source == "MNIST test digit":
        link["digit"] = st.session_state.learn_mnist_index
    if projector:
        link["projector"] = "1"
    wanted = {key: str(value) for key, value in link.items() if value is not None}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


@st.fragment
def step_panel(key: str) -> None:
    """The step's live panel: a change to its own widgets (a kernel cell, a slider) reruns only this.

    The drawing, the model's reading, the navigation and the step's text above are neither
    recomputed nor sent again; the panel's settings can change the link, so it is written here.
    """
    RENDER[key]()
    write_link()


step_panel(step.key)
