"""Compare's charts and gathering: curves, metric bars, confusion heatmaps, per-class tables, misread digits."""

import shutil
import sys

import numpy as np
import pytest

from digitlab import charts, comparison, papers, registry
from digitlab.records import RunRecord

REPO_MODELS = registry.models_dir()


def history(epochs: int, **extra) -> dict:
    steps = np.arange(1, epochs + 1)
    return {"accuracy": list(1 - 0.5 / steps), "loss": list(1.0 / steps),
            "val_accuracy": list(1 - 0.6 / steps), "val_loss": list(1.2 / steps), **extra}


def traces(figure, name: str) -> list:
    return [t for t in figure.data if t.name == name and t.x != (None,)]


# --- accuracy_loss_curves -------------------------------------------------------------------------------


def test_curves_draw_training_dashed_and_validation_solid_per_run_in_one_colour():
    matrices = [np.eye(10, dtype=int).tolist()] * 3  # a per-epoch list of matrices is not a curve
    figure = charts.accuracy_loss_curves({"a": history(3, val_confusion_matrix=matrices), "b": history(2)})
    a = traces(figure, "a")
    assert len(a) == 4 and len(traces(figure, "b")) == 4
    assert {t.line.color for t in a} == {charts.run_colours(["a", "b"])["a"]}
    assert sorted(t.line.dash for t in a) == ["dash", "dash", "solid", "solid"]
    assert all(t.x == (1, 2, 3) for t in a)  # epochs count from 1
    training_accuracy = next(t for t in a if t.line.dash == "dash" and t.xaxis == "x")
    assert training_accuracy.y == pytest.approx([0.5, 0.75, 1 - 0.5 / 3])
    # The legend lists each run once, plus the two line styles.
    assert [t.name for t in figure.data if t.showlegend is not False] == ["a", "b", "training", "validation"]
    assert figure.layout.yaxis2.type == "log"


def test_one_epoch_is_drawn_as_markers_and_zero_epochs_say_so():
    one = charts.accuracy_loss_curves({"a": history(1)})
    assert all("markers" in t.mode and t.y[0] is not None for t in traces(one, "a"))
    empty = charts.accuracy_loss_curves({"a": {"accuracy": [], "loss": []}})
    assert traces(empty, "a") == []
    assert "no finished epoch yet" in empty.layout.annotations[-1].text


def test_partial_epoch_is_a_dotted_line_from_the_last_finished_epoch():
    live = {"x": [2.25, 2.5], "accuracy": [0.8, 0.82], "loss": [0.4, 0.35]}
    figure = charts.accuracy_loss_curves({"a": history(2)}, partial={"a": live})
    dotted = [t for t in traces(figure, "a") if t.line.dash == "dot"]
    assert len(dotted) == 2
    accuracy = next(t for t in dotted if t.xaxis == "x")
    assert accuracy.x == (2, 2.25, 2.5) and accuracy.y == pytest.approx([0.75, 0.8, 0.82])
    # A run still in its first epoch has only the dotted stretch.
    first = charts.accuracy_loss_curves({"b": {}}, partial={"b": live})
    assert [t.line.dash for t in traces(first, "b")] == ["dot", "dot"]
    # Its very first report is a single point: drawn as a dot, since a line needs two.
    single = {"x": [0.1], "accuracy": [0.3], "loss": [2.0]}
    one = charts.accuracy_loss_curves({"c": {}}, partial={"c": single})
    assert all("markers" in t.mode for t in traces(one, "c"))


def test_nan_losses_are_gaps_not_errors():
    figure = charts.accuracy_loss_curves({"a": {"loss": [1.0, float("nan"), 0.5], "accuracy": [0.1, 0.2, 0.3]}})
    loss = next(t for t in traces(figure, "a") if t.xaxis == "x2")
    assert loss.y == (1.0, None, 0.5)


# --- metric_bars, confusion_heatmap, per-class table --------------------------------------------------


def test_metric_bars_group_four_macro_metrics_per_run_in_percent():
    rows = [{"run": "a", "accuracy": 0.97, "macro_precision": 0.96, "macro_recall": 0.95, "macro_f1": 0.955},
            {"run": "b", "accuracy": 0.99, "macro_precision": 0.99, "macro_recall": 0.98, "macro_f1": 0.985}]
    figure = charts.metric_bars(rows)
    assert [t.name for t in figure.data] == ["a", "b"]
    assert figure.data[0].x == ("accuracy", "precision", "recall", "F1")
    assert figure.data[0].y == pytest.approx((97, 96, 95, 95.5))
    assert figure.layout.barmode == "group"
    # The value axis starts below the lowest bar and says so.
    assert figure.layout.yaxis.range[0] == 94 and "starts at 94" in figure.layout.yaxis.title.text


def test_confusion_heatmap_counts_top_to_bottom_with_clickable_cells():
    matrix = np.diag([90, 80, 70, 60, 50, 40, 30, 20, 10, 5])
    matrix[4, 9] = 7
    figure = charts.confusion_heatmap(matrix, title="run", highlight=(4, 9))
    heatmap, cells = figure.data
    assert np.asarray(heatmap.z).shape == (10, 10)
    assert heatmap.text[4][9] == "7" and heatmap.text[4][8] == ""  # zeros stay blank
    assert list(figure.layout.yaxis.range) == [9.5, -0.5]  # digit 0 on top
    clicked = list(cells.x).index(9) + 40  # row 4, column 9
    assert (cells.x[clicked], cells.y[clicked]) == (9, 4)
    assert list(cells.customdata[clicked][:3]) == [4, 9, 7]
    (outline,) = figure.layout.shapes
    assert (outline.x0, outline.y0) == (8.5, 3.5)
    assert figure.layout.title.text == "run"


def test_confusion_heatmap_normalised_rows_are_percentages():
    matrix = np.zeros((10, 10), int)
    matrix[:, 0] = 3
    matrix[:, 1] = 1
    figure = charts.confusion_heatmap(matrix, normalise=True)
    heatmap = figure.data[0]
    assert heatmap.text[2][0] == "75.0" and heatmap.text[2][1] == "25.0" and heatmap.text[2][2] == ""
    empty_row = charts.confusion_heatmap(np.zeros((10, 10), int), normalise=True)  # no support: no division by 0
    assert all(t == "" for row in empty_row.data[0].text for t in row)


def test_per_class_table_colours_scores_without_matplotlib():
    per_class = [{"label": d, "precision": 0.9 + d / 100, "recall": 1.0, "f1": 0.95, "support": 100}
                 for d in range(10)]
    frame = charts.per_class_frame(per_class)
    assert list(frame.columns) == ["digit", "precision", "recall", "F1", "support"]
    assert frame["precision"].iloc[0] == pytest.approx(90)
    html = charts.per_class_styler(frame, low=90).to_html()
    assert "background-color: rgba(248, 105, 107" in html  # 90 %: red
    assert "background-color: rgba(99, 190, 123" in html  # 100 %: green
    assert "90.00" in html and "matplotlib" not in sys.modules


# --- gathering runs ---------------------------------------------------------------------------------------


def test_compare_gathers_the_reference_runs_in_the_order_chosen():
    names, _ = comparison.comparable_runs()
    chosen = comparison.reference_runs(names)
    assert chosen == ["paper-s-1", "paper-s-2", "paper-s-3", "paper-s-4", "paper-h", "paper-h-stated"]
    gathered = comparison.compare(["paper-h", "paper-s-1", "nope"])
    assert [row["run"] for row in gathered.rows] == ["paper-h", "paper-s-1"]
    assert gathered.skipped[0][0] == "nope"
    h = gathered.rows[0]
    record = registry.read_record("paper-h")
    assert h["params"] == record.params and h["images_per_s"] == record.images_per_s
    assert h["dtype"] == record.precision and h["test_images"] == 10_000
    assert h["macro_f1"] == record.report("test")["macro"]["f1"]
    assert gathered.rows[1]["test_images"] == 2_964
    assert gathered.confusion_matrices["paper-h"].sum() == 10_000
    assert set(gathered.histories["paper-h"]) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert len(gathered.per_class["paper-s-1"]) == 10
    assert [row["run"] for row in gathered.reproduction] == ["paper-s-1", "paper-h"]
    sentence = papers.why_they_differ(gathered.reproduction)
    ours = f"{100 * record.test_accuracy:.2f} %"
    assert "150×150×3" in sentence and "99.40 %" in sentence and ours in sentence and "0.001" not in sentence


def test_runs_without_test_results_are_skipped_with_a_reason(models_root):
    shutil.copytree(REPO_MODELS / "paper-h", models_root / "done")
    finished = registry.read_record("paper-h", root=REPO_MODELS)
    base = RunRecord(arch=finished.arch, spec=finished.spec, config=finished.config, data=finished.data)
    registry.save_run("training", base.replace(status="running"))
    registry.save_run("broke", base.replace(status="failed", error="ValueError: no data"))
    (models_root / "garbled").mkdir()
    (models_root / "garbled" / "run.json").write_text("{")
    names, skipped = comparison.comparable_runs()
    assert names == ["done"]
    reasons = dict(skipped)
    assert reasons["training"] == "running, no test results yet"
    assert reasons["broke"] == "failed: ValueError: no data"
    assert reasons["garbled"].startswith("unreadable")
    assert comparison.reference_runs(names) == []
    assert [row["run"] for row in comparison.compare(["training", "done"]).rows] == ["done"]


def test_most_confused_cell_and_picking_a_cell():
    matrix = np.diag(np.full(10, 50))
    assert comparison.most_confused(matrix) is None
    matrix[3, 5], matrix[7, 1] = 2, 4
    assert comparison.most_confused(matrix) == (7, 1)
    examples = [comparison.MisreadDigit(i, np.zeros((28, 28)), t, p, [(p, 0.9), (t, 0.1)])
                for i, (t, p) in enumerate([(7, 1), (3, 5), (7, 1)])]
    assert [e.index for e in comparison.pick(examples, 7, 1)] == [0, 2]
    assert [e.index for e in comparison.pick(examples, predicted_label=5)] == [1]
    assert len(comparison.pick(examples, limit=2)) == 2


def test_captions_read_like_the_papers_figures():
    digit = comparison.MisreadDigit(0, np.zeros((28, 28)), 4, 9, [(9, 0.87), (4, 0.12), (7, 0.01)])
    assert digit.caption.replace("\u00a0", " ") == "true 4 → read 9 (87 %), then 4 (12 %)"
    assert [comparison.share(p).replace("\u00a0", " ") for p in (0.9999, 0.004, 0.00001)] == [
        ">99.9 %", "0.4 %", "<0.1 %"]


def test_prediction_batches_keep_one_shape():
    shapes = []

    def predict(images):
        shapes.append(images.shape)
        return np.eye(10, dtype=np.float32)[images[:, 0, 0, 0].astype(int)]  # "reads" the digit in a corner

    images = np.zeros((1203, 28, 28, 1), np.float32)
    images[:, 0, 0, 0] = np.arange(1203) % 10
    probabilities = comparison.predict_in_batches(predict, images)
    assert set(shapes) == {(500, 28, 28, 1)} and len(shapes) == 3
    assert (probabilities.argmax(axis=1) == np.arange(1203) % 10).all()


@pytest.fixture(scope="module")
def paper_h_misread():
    return comparison.misclassified_examples("paper-h", limit=None)


def test_misclassified_examples_are_the_stored_runs_mistakes(paper_h_misread):
    stored = np.asarray(registry.read_record("paper-h").report("test")["confusion_matrix"])
    errors = stored.sum() - np.trace(stored)
    # oneDNN may sum in another order than when the run was stored: allow 3 images either way.
    assert abs(len(paper_h_misread) - errors) <= 3
    confidences = [e.confidence for e in paper_h_misread]
    assert confidences == sorted(confidences, reverse=True)  # the hardest digits first
    first = paper_h_misread[0]
    assert first.image.shape == (28, 28) and first.image.dtype == np.float32 and first.image.max() > 0.5
    assert first.true_label != first.predicted_label == first.top[0][0] and len(first.top) == 3


def test_misclassified_examples_of_one_cell(paper_h_misread):
    stored = np.asarray(registry.read_record("paper-h").report("test")["confusion_matrix"])
    true_label, predicted_label = comparison.most_confused(stored)
    cell = comparison.pick(paper_h_misread, true_label, predicted_label)
    assert abs(len(cell) - stored[true_label, predicted_label]) <= 3 and cell
    assert all((e.true_label, e.predicted_label) == (true_label, predicted_label) for e in cell)
    # The stored test set: the labels of the images found are those of MNIST's test set at those indices.
    _, labels = comparison.run_test_set(registry.read_record("paper-h"))
    assert all(labels[e.index] == e.true_label for e in cell)


def test_misclassified_examples_on_a_paper_s_subset_with_a_limit():
    record = registry.read_record("paper-s-1")
    _, labels = comparison.run_test_set(record)
    assert len(labels) == 2_964
    few = comparison.misclassified_examples("paper-s-1", limit=5)
    assert len(few) == 5 and all(labels[e.index] == e.true_label for e in few)
