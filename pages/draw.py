"""Draw: write a digit or a number, or upload photos, and see what the model reads and why."""

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitlab import charts
from digitlab.canvas import render_strokes
from digitlab.imageio import ImageError, read_image
from digitlab.inference import LOW_CONFIDENCE, read_picture
from pages import ui

STEP_CAPTIONS = ("raw", "ink (white on black)", "cropped", "20 px, MNIST pen", "28×28: what the model sees")

st.session_state.setdefault("clear_count", 0)

model_name = ui.active_model()
if model_name is None:
    st.error("No trained model is stored: run `python -m digitlab reproduce` first.")
    st.stop()
predictor = ui.predictor(model_name)


def show_reading(reading, rgba, *, key: str) -> None:
    """Prediction text, chart, top 3 and the preprocessing strip of one picture's reading."""
    if reading.empty:
        st.info("Draw a digit (or several in a row): nothing to read yet.")
        return
    if len(reading.digits) > 1:
        st.markdown(f"## Number: {reading.number}")
        labels = [f"{d.digit} {d.confidence:.0%}" for d in reading.digits]
        st.image(charts.annotate_digits(rgba, [d.steps.box for d in reading.digits], labels),
                 caption="each digit as segmented, with its reading")
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


def show_steps(reading) -> None:
    """The preprocessing strip: the whole picture's steps once, then each digit's own."""
    first = reading.digits[0].steps
    rows = [(first.raw, first.gray)] if len(reading.digits) > 1 else []
    for d in reading.digits:
        steps = d.steps
        own = (steps.cropped, steps.scaled, steps.image)
        rows.append(own if rows else (steps.raw, steps.gray, *own))
    for row in rows:
        captions = STEP_CAPTIONS[-len(row):] if len(row) != 2 else STEP_CAPTIONS[:2]
        for column, picture, caption in zip(st.columns(len(STEP_CAPTIONS)), row, captions):
            if picture.ndim == 3:
                column.image(picture, caption=caption, width="stretch")
            else:
                column.image(charts.enlarge(picture, 112), caption=caption, width=112)


ui.require_shell("pages/draw.py")

st.title("Draw a digit")
left, right = st.columns([3, 2], gap="large")
with left:
    controls = st.columns([2, 2, 1])
    stroke_width = controls[0].slider("Pen width", 6, 40, 18, key="stroke_width")
    number_mode = controls[1].toggle("Read a number", value=True, key="number_mode")
    if "canvas" not in st.session_state:  # the canvas is new on this visit: start from the drawing Learn left
        st.session_state.draw_initial = list(st.session_state.get(ui.DRAWING_KEY) or [])
    if controls[2].button("Clear", key="clear", width="stretch"):
        st.session_state.clear_count += 1
        st.session_state.draw_initial = st.session_state[ui.DRAWING_KEY] = []
    # A new initial drawing empties the canvas in place: changing its key would remount it and
    # lose strokes drawn while it mounts.
    canvas = st_canvas(
        stroke_width=stroke_width, stroke_color="#000000", background_color="#ffffff",
        height=280, width=460, drawing_mode="freedraw", return_image_data=True,
        initial_drawing={"objects": st.session_state.draw_initial, "digitlab_clear": st.session_state.clear_count},
        key="canvas",
    )
    if (canvas.json_data or {}).get("objects") is not None:
        st.session_state[ui.DRAWING_KEY] = canvas.json_data["objects"]  # Learn opens with this drawing
    drawn = canvas.image_data
    has_strokes = bool((canvas.json_data or {}).get("objects"))
    rgba = np.asarray(drawn, dtype=np.uint8) if drawn is not None and has_strokes else None
    if rgba is None and (has_strokes or st.session_state.draw_initial):  # brought from Learn: no picture sent yet
        rgba = render_strokes((canvas.json_data or {}).get("objects") or st.session_state.draw_initial,
                              width=460, height=280)

reading = read_picture(predictor, rgba, number=number_mode) if rgba is not None else None
with right:
    st.caption(f"Model: **{model_name}**")
    if reading is None:
        st.info("Draw a digit on the canvas, or several in a row for a number.")
    else:
        show_reading(reading, rgba, key="canvas")

if reading is not None and not reading.empty:
    st.subheader("What the model sees")
    st.caption("Like MNIST: ink found and turned white on black, cropped, strokes widened to MNIST's pen, "
               "longest side scaled to 20 px, then centred by its centre of mass in 28×28 — "
               "which is why a digit drawn in a corner still reads.")
    show_steps(reading)

    st.subheader("How every model reads it")
    votes = []
    for run in ui.servable_runs():
        probabilities = ui.predictor(run["name"]).predict(reading.images)
        digits = probabilities.argmax(axis=1)
        votes.append({
            "model": run["name"] + (" (active)" if run["name"] == model_name else ""),
            "reads": "".join(map(str, digits)),
            "confidence": float(probabilities.max(axis=1).min()) * 100,
            "MNIST test accuracy": (run["mnist_test_accuracy"] or 0) * 100,
            "parameters": run["params"],
        })
    st.dataframe(pd.DataFrame(votes), key="votes", hide_index=True, column_config={
        "confidence": st.column_config.ProgressColumn("confidence (least sure digit)", format="%.0f %%",
                                                      min_value=0, max_value=100),
        "MNIST test accuracy": st.column_config.NumberColumn(format="%.2f %%"),
        "parameters": st.column_config.NumberColumn(format="localized"),
    })

st.divider()
st.subheader("Or upload photos or scans")
uploads = st.file_uploader("Images of handwritten digits (PNG, JPEG, WebP, BMP, TIFF, GIF)",
                           accept_multiple_files=True, key="uploads")
rows = []
for upload in uploads or []:
    try:
        picture = read_image(upload.getvalue(), name=upload.name)
    except ImageError as exc:
        st.error(str(exc))
        rows.append({"file": upload.name, "reads": "—", "confidence": None, "note": str(exc)})
        continue
    result = read_picture(predictor, picture, number=number_mode)
    if result.empty:
        rows.append({"file": upload.name, "reads": "—", "confidence": None, "note": "no digit found"})
    else:
        least_sure = min(d.confidence for d in result.digits)
        rows.append({"file": upload.name, "reads": result.number, "confidence": least_sure * 100,
                     "note": "low confidence" if least_sure < LOW_CONFIDENCE else ""})
    with st.expander(f"{upload.name}: {result.number or 'no digit found'}", expanded=len(uploads) == 1):
        columns = st.columns([2, 3])
        with columns[0]:
            st.image(picture, caption=upload.name)
        with columns[1]:
            show_reading(result, picture, key=f"upload_{upload.file_id}")
        if not result.empty:
            show_steps(result)
if len(rows) > 1:
    st.dataframe(pd.DataFrame(rows), key="upload_table", hide_index=True, column_config={
        "confidence": st.column_config.NumberColumn(format="%.0f %%")})
