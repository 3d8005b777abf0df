"""Draw: write a digit or a number, or upload photos, and see what the model reads and why."""

import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitlab import charts
from digitlab.inference import LOW_CONFIDENCE
from digitlab.picture_view import STEP_CAPTIONS
from pages import reading_cache, ui

CANVAS_WIDTH, CANVAS_HEIGHT = 460, 280
MAX_UPLOADS = 20  # files read per visit; each is read once, however often the page reruns

st.session_state.setdefault("clear_count", 0)

model_name = ui.active_model()
if model_name is None:
    st.error("No trained model is stored: run `python -m digitlab reproduce` first.")
    st.stop()


def show_reading(view, *, key: str) -> None:
    """Prediction text, chart and top 3 (one digit), or the number with its annotated picture."""
    reading = view.reading
    if reading.empty:
        st.info("Draw a digit (or several in a row): nothing to read yet.")
        return
    if len(reading.digits) > 1:
        st.markdown(f"## Number: {reading.number}")
        st.image(view.annotated, caption="each digit as segmented, with its reading")
        unsure = [str(i + 1) for i, d in enumerate(reading.digits) if d.low_confidence]
        if unsure:
            st.warning(f"Not sure about digit {', '.join(unsure)} (confidence below {LOW_CONFIDENCE:.0%}).")
        return
    digit = reading.digits[0]
    st.markdown(f"## Prediction: {digit.digit}")
    st.markdown(f"confidence **{digit.confidence:.1%}** · top 3: "
                + ", ".join(f"{d} ({p:.0%})" for d, p in digit.top(3)))
    if digit.low_confidence:
        st.warning(f"Low confidence: this looks most like a {digit.digit}, but the model is unsure. "
                   "Try writing it larger or more clearly.")
    st.plotly_chart(charts.probability_bars(digit.probabilities), key=f"bars_{key}",
                    config={"displayModeBar": False})


def show_steps(view) -> None:
    """The preprocessing strip: the whole picture's steps once, then each digit's own (PNG made once per picture)."""
    for row in view.steps:
        for column, picture in zip(st.columns(max(len(STEP_CAPTIONS), len(row))), row):
            column.image(picture.png, caption=picture.caption, width=picture.width or "stretch")


def show_votes(view) -> None:
    if view.skipped:
        st.caption("Left out: " + "; ".join(view.skipped))
    st.dataframe(pd.DataFrame([{
        "model": vote.model, "reads": vote.reads, "confidence": vote.confidence * 100,
        "MNIST test accuracy": (vote.mnist_test_accuracy or 0) * 100, "parameters": vote.parameters,
    } for vote in view.votes]), key="votes", hide_index=True, column_config={
        "confidence": st.column_config.ProgressColumn("confidence (least sure digit)", format="%.0f %%",
                                                      min_value=0, max_value=100),
        "MNIST test accuracy": st.column_config.NumberColumn(format="%.2f %%"),
        "parameters": st.column_config.NumberColumn(format="localized"),
    })


def _number_mode_changed() -> None:
    # The toggle lives in the drawing's fragment, but the uploads below read with it too.
    st.session_state["draw_rerun_page"] = True


@st.fragment
def drawing_panel(model_name: str) -> None:
    """Canvas, reading, steps and votes: a stroke reruns only this, and a drawing is read once for everyone."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        controls = st.columns([2, 2, 1])
        stroke_width = controls[0].slider("Pen width", 6, 40, 18, key="stroke_width")
        number_mode = controls[1].toggle("Read a number", value=True, key="number_mode",
                                         on_change=_number_mode_changed)
        if "canvas" not in st.session_state:  # the canvas is new on this visit: start from the drawing Learn left
            st.session_state.draw_initial = list(st.session_state.get(ui.DRAWING_KEY) or [])
        if controls[2].button("Clear", key="clear", width="stretch"):
            st.session_state.clear_count += 1
            st.session_state.draw_initial = st.session_state[ui.DRAWING_KEY] = []
        # A new initial drawing empties the canvas in place: changing its key would remount it and
        # lose strokes drawn while it mounts.
        canvas = st_canvas(
            stroke_width=stroke_width, stroke_color="#000000", background_color="#ffffff",
            height=CANVAS_HEIGHT, width=CANVAS_WIDTH, drawing_mode="freedraw", return_image_data=True,
            initial_drawing={"objects": st.session_state.draw_initial,
                             "digitlab_clear": st.session_state.clear_count},
            key="canvas",
        )
        raw = canvas.json_data  # what the browser sent: any JSON at all
        if isinstance(raw, dict) and isinstance(raw.get("objects"), list):
            st.session_state[ui.DRAWING_KEY] = raw["objects"]  # Learn opens with this drawing
    if st.session_state.pop("draw_rerun_page", False):
        st.rerun()
    png = reading_cache.canvas_png(canvas)
    if png is None and st.session_state.draw_initial:  # brought from Learn: the canvas has sent no picture yet
        png = reading_cache.strokes_png(st.session_state.draw_initial, width=CANVAS_WIDTH, height=CANVAS_HEIGHT)
    view = reading_cache.canvas_view(png, model_name, number_mode, reading_cache.roster()) \
        if isinstance(png, bytes) else png
    with right:
        st.caption(f"Model: **{model_name}**")
        if view is None:
            st.info("Draw a digit on the canvas, or several in a row for a number.")
        elif isinstance(view, str):
            st.error(view)
        else:
            show_reading(view, key="canvas")
    if view is None or isinstance(view, str) or view.reading.empty:
        return
    st.subheader("What the model sees")
    st.caption("Like MNIST: ink found and turned white on black, cropped, strokes widened to MNIST's pen, "
               "longest side scaled to 20 px, then centred by its centre of mass in 28×28 — "
               "which is why a digit drawn in a corner still reads.")
    show_steps(view)
    st.subheader("How every model reads it")
    show_votes(view)


ui.require_shell("pages/draw.py")

st.title("Draw a digit")
drawing_panel(model_name)

st.divider()
st.subheader("Or upload photos or scans")
uploads = st.file_uploader("Images of handwritten digits (PNG, JPEG, WebP, BMP, TIFF, GIF)",
                           accept_multiple_files=True, key="uploads", max_upload_size=20) or []
if len(uploads) > MAX_UPLOADS:
    st.warning(f"{len(uploads)} files: only the first {MAX_UPLOADS} are read.")
    uploads = uploads[:MAX_UPLOADS]
number_mode = st.session_state.get("number_mode", True)
runs = reading_cache.roster()
rows = []
for upload in uploads:
    result = reading_cache.upload_view(upload.file_id, upload.name, model_name, number_mode, runs, _upload=upload)
    if isinstance(result, str):
        st.error(result)
        rows.append({"file": upload.name, "reads": "—", "confidence": None, "note": result})
        continue
    reading = result.reading
    if reading.empty:
        rows.append({"file": upload.name, "reads": "—", "confidence": None, "note": "no digit found"})
    else:
        least_sure = min(d.confidence for d in reading.digits)
        rows.append({"file": upload.name, "reads": reading.number, "confidence": least_sure * 100,
                     "note": "low confidence" if least_sure < LOW_CONFIDENCE else ""})
    with st.expander(f"{upload.name}: {reading.number or 'no digit found'}", expanded=len(uploads) == 1):
        columns = st.columns([2, 3])
        with columns[0]:
            st.image(result.shown, caption=upload.name)
        with columns[1]:
            show_reading(result, key=f"upload_{upload.file_id}")
        if not reading.empty:
            show_steps(result)
if len(rows) > 1:
    st.dataframe(pd.DataFrame(rows), key="upload_table", hide_index=True, column_config={
        "confidence": st.column_config.NumberColumn(format="%.0f %%")})
