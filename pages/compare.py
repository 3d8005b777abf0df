"""Compare: chosen runs side by side, from their training curves down to the test digits they misread."""

from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from digitlab import charts, comparison, data, papers, registry
from digitlab.data import DataUnavailableError
from pages import ui

RUNS_KEY = "compare_runs"
MISREAD_RUN_KEY = "compare_misread_run"
TRUE_KEY = "compare_misread_true"
PREDICTED_KEY = "compare_misread_predicted"
CELL_RUN_KEY = "compare_cell_run"  # the run whose cell the two digit boxes currently show
OUTSIDE_KEY = "compare_outside"
DIGITS = list(range(10))
MATRICES_PER_ROW = 3
IMAGES_PER_ROW = 8


@st.cache_data(ttl=3, show_spinner=False)
def _choices(root: str) -> tuple[list[str], list[tuple[str, str]]]:
    return comparison.comparable_runs(root=Path(root))


def _stamp(name: str, file: str) -> float:
    """A run file's modification time: a retrained run gets new cache entries."""
    try:
        return (registry.run_path(name) / file).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=32)
def _comparison(root: str, names: tuple[str, ...], stamps: tuple[float, ...]) -> comparison.Comparison:
    return comparison.compare(names, root=Path(root))


@st.cache_data(show_spinner="Reading the test set again…", max_entries=16)
def _misread(root: str, name: str, stamp: float) -> list[comparison.MisreadDigit]:
    return comparison.misclassified_examples(name, limit=None, root=Path(root), predict=ui.predictor(name).predict)


@st.cache_data(show_spinner="Preparing the outside writers' digits…")
def _outside_sets():
    from digitlab import realworld

    return realworld.outside_sets(data.REALISTIC_SETS)


@st.cache_data(show_spinner="Reading the outside writers' digits…", max_entries=32)
def _outside_scores(root: str, name: str, stamp: float) -> dict[str, dict]:
    from digitlab import realworld

    reader = ui.predictor(name)
    return {set_name: realworld.score(reader, prepared) for set_name, prepared in _outside_sets().items()}


def _choose_cell(name: str) -> None:
    """A click on a confusion-matrix cell picks that run and cell for the misread digits below."""
    points = st.session_state[f"compare_confusion_{name}"].selection.points
    if points:
        st.session_state[MISREAD_RUN_KEY] = name
        st.session_state[TRUE_KEY] = int(round(points[0]["y"]))
        st.session_state[PREDICTED_KEY] = int(round(points[0]["x"]))
        st.session_state[CELL_RUN_KEY] = name


def _show_digits(examples: list[comparison.MisreadDigit]) -> None:
    for start in range(0, len(examples), IMAGES_PER_ROW):
        for column, example in zip(st.columns(IMAGES_PER_ROW), examples[start:start + IMAGES_PER_ROW]):
            column.image(charts.enlarge(example.image, 112), caption=example.caption, width=112)


ui.require_shell("pages/compare.py")

st.title("Compare runs")
root = str(registry.models_dir())
names, skipped = _choices(root)
if skipped:
    st.caption("Not comparable yet: " + "; ".join(f"**{n}** ({why[:100]})" for n, why in skipped))
if not names:
    st.info("No finished run to compare yet: `python -m digitlab reproduce` trains the reference runs.")
    st.stop()

# A fresh visit starts from the papers' reference runs; runs deleted since drop out of the choice.
if RUNS_KEY in st.session_state:
    st.session_state[RUNS_KEY] = [n for n in st.session_state[RUNS_KEY] if n in names]
else:
    st.session_state[RUNS_KEY] = comparison.reference_runs(names) or names[:3]
chosen = st.multiselect("Runs to compare", names, key=RUNS_KEY)
if not chosen:
    st.info("Choose one or more runs to compare.")
    st.stop()

gathered = _comparison(root, tuple(chosen), tuple(_stamp(n, registry.RUN_FILE) for n in chosen))
rows = gathered.rows
# A run deleted or retrained since the list was read drops out here rather than failing below.
chosen = [row["run"] for row in rows]
if not chosen:
    st.info("The chosen runs are no longer stored: choose others.")
    st.stop()

st.subheader("Accuracy and loss per epoch")
st.plotly_chart(charts.accuracy_loss_curves(gathered.histories), key="compare_curves", width="stretch")

st.subheader("Accuracy, precision, recall and F1 (Paper S's Graph 1)")
st.caption("Each run on its own test set (Paper S runs: 2,964 MNIST test images; the others: all 10,000); "
           "precision, recall and F1 are macro averages over the ten digits.")
st.plotly_chart(charts.metric_bars(rows), key="compare_bars", width="stretch")

st.subheader("Size and speed")
table = pd.DataFrame(rows)[["run", "arch", "protocol", "params", "epochs", "train_time_s", "images_per_s",
                            "dtype", "accuracy", "test_images", "mnist_test_accuracy"]]
number = lambda column: pd.to_numeric(table[column], errors="coerce")  # noqa: E731 (a run may lack a figure)
st.dataframe(
    table.assign(train_time_s=number("train_time_s") / 60, accuracy=number("accuracy") * 100,
                 mnist_test_accuracy=number("mnist_test_accuracy") * 100),
    key="compare_table", hide_index=True,
    column_config={
        "params": st.column_config.NumberColumn("parameters", format="localized"),
        "train_time_s": st.column_config.NumberColumn("training (min)", format="%.1f"),
        "images_per_s": st.column_config.NumberColumn("images/s", format="%.0f",
                                                      help="training throughput, images per second"),
        "dtype": st.column_config.TextColumn("arithmetic"),
        "accuracy": st.column_config.NumberColumn("test accuracy", format="%.2f %%"),
        "test_images": st.column_config.NumberColumn("test images", format="localized"),
        "mnist_test_accuracy": st.column_config.NumberColumn("MNIST test (10k)", format="%.2f %%"),
    },
)

if gathered.reproduction:
    st.subheader("The papers' figures beside ours")
    # Size, epochs and time are in the table above; this one keeps to accuracies.
    frame = pd.DataFrame(gathered.reproduction).drop(
        columns=["command", "precision", "params", "epochs", "train time (s)"])
    percent_columns = [c for c in frame.columns if c.startswith(("paper ", "ours "))]
    st.dataframe(
        frame.assign(**{c: pd.to_numeric(frame[c]) * 100 for c in percent_columns}),
        key="compare_papers", hide_index=True,
        column_config={**{c: st.column_config.NumberColumn(c, format="%.2f %%") for c in percent_columns},
                       "test images": st.column_config.NumberColumn(format="localized")},
    )
    st.caption(papers.why_they_differ(gathered.reproduction))

st.subheader("Writers MNIST never saw")
st.caption("MNIST's writers were American; a class writes the world's ways. The same runs on real digits by writers "
           "outside MNIST, read one per picture as the Draw page reads an upload: measured only, never trained on.")
if st.toggle("Read their digits with the chosen runs (a few seconds per run, once for the whole class)", key=OUTSIDE_KEY):
    from digitlab import realworld

    try:
        scores = {name: _outside_scores(root, name, _stamp(name, registry.MODEL_FILE)) for name in chosen}
    except registry.RegistryError as exc:
        st.info(f"Cannot read the outside writers' digits: {exc}")
        scores = {}
    if scores and not any(scores.values()):
        st.info("No outside writers' digits found: tests/realistic/optdigits/ is missing from this copy.")
    elif scores:
        summary, per_digit = realworld.outside_rows(scores)
        mnist = {row["run"]: 100 * row["mnist_test_accuracy"] for row in rows if row.get("mnist_test_accuracy") is not None}
        frame = pd.DataFrame(summary).assign(mnist=lambda f: f["run"].map(mnist))[["run", "mnist", *per_digit]]
        st.dataframe(frame, key="compare_outside_table", hide_index=True, column_config={
            "mnist": st.column_config.NumberColumn("MNIST test (10k)", format="%.2f %%"),
            **{name: st.column_config.NumberColumn(name, format="%.2f %%", help=realworld.OUTSIDE_WRITERS[name])
               for name in per_digit}})
        st.caption(" · ".join(f"**{name}**: {realworld.OUTSIDE_WRITERS[name]}" for name in per_digit))
        for tab, name in zip(st.tabs([f"{name} per digit" for name in per_digit]), per_digit):
            with tab:
                st.dataframe(pd.DataFrame(per_digit[name]), key=f"compare_outside_{name}", hide_index=True,
                             column_config={str(d): st.column_config.NumberColumn(str(d), format="%.1f %%")
                                            for d in range(10)})

# The misread digits below start from their run's most frequent confusion, unless a cell was clicked;
# settled here, before the matrices, so the chosen cell is outlined in its matrix.
if st.session_state.get(MISREAD_RUN_KEY) not in chosen:
    st.session_state[MISREAD_RUN_KEY] = chosen[0]
highlighted_run = st.session_state[MISREAD_RUN_KEY]
if st.session_state.get(CELL_RUN_KEY) != highlighted_run:
    cell = comparison.most_confused(gathered.confusion_matrices[highlighted_run]) or (0, 1)
    st.session_state[TRUE_KEY], st.session_state[PREDICTED_KEY] = cell
    st.session_state[CELL_RUN_KEY] = highlighted_run

st.subheader("Confusion matrices")
scale = st.radio("Cells show", ["counts", "row-normalised (%)"], key="compare_matrix_scale", horizontal=True)
st.caption("Rows: the true digit; columns: what the run read. Click a cell to see those test images below.")
highlight = (st.session_state[TRUE_KEY], st.session_state[PREDICTED_KEY])
for start in range(0, len(chosen), MATRICES_PER_ROW):
    for column, name in zip(st.columns(MATRICES_PER_ROW), chosen[start:start + MATRICES_PER_ROW]):
        figure = charts.confusion_heatmap(
            gathered.confusion_matrices[name], normalise=scale != "counts", title=name,
            highlight=highlight if name == highlighted_run else None,
        )
        column.plotly_chart(figure, key=f"compare_confusion_{name}", on_select=partial(_choose_cell, name),
                            selection_mode="points", width="stretch", config={"displayModeBar": False})

st.subheader("Per-class precision, recall and F1")
frames = {name: charts.per_class_frame(gathered.per_class[name]) for name in chosen}
lowest = min(float(f[list(charts.PER_CLASS_SCORES)].min().min()) for f in frames.values())
st.caption(f"In %, each run on its own test set. Colours run from red at {lowest:.2f} % (the lowest score "
           "among the chosen runs) to green at 100 %, the same in every tab.")
for tab, name in zip(st.tabs(chosen), chosen):
    with tab:
        st.dataframe(charts.per_class_styler(frames[name], low=lowest), key=f"compare_per_class_{name}",
                     hide_index=True)

st.subheader("Misread test digits")
controls = st.columns(3)
run_name = controls[0].selectbox("Run", chosen, key=MISREAD_RUN_KEY)
true_label = controls[1].selectbox("True digit", DIGITS, key=TRUE_KEY)
predicted_label = controls[2].selectbox("Read as", DIGITS, key=PREDICTED_KEY)

try:
    misread = _misread(root, run_name, _stamp(run_name, registry.MODEL_FILE))
except (DataUnavailableError, registry.RegistryError) as exc:
    st.info(f"Cannot read {run_name}'s test set again: {exc}")
    st.stop()

if true_label == predicted_label:
    st.info(f"The diagonal holds the {true_label}s read correctly: choose two different digits.")
else:
    cell_examples = comparison.pick(misread, true_label, predicted_label, limit=3 * IMAGES_PER_ROW)
    total = len(comparison.pick(misread, true_label, predicted_label))
    if total == 0:
        st.info(f"{run_name} read no test {true_label} as {predicted_label}.")
    else:
        shown = f", the {len(cell_examples)} most confident shown" if total > len(cell_examples) else ""
        st.caption(f"{run_name} read {total} test image{'s' if total > 1 else ''} of a {true_label} "
                   f"as {predicted_label}{shown}, most confident mistake first.")
        _show_digits(cell_examples)

st.subheader("The hardest digits")
st.caption(f"{run_name}'s most confident mistakes among its {len(misread)} misread test images "
           "(Paper H's figures of hardest digits).")
_show_digits(comparison.pick(misread, limit=2 * IMAGES_PER_ROW))
