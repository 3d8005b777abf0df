"""The Compare page under AppTest: reference runs by default, every section, the misread digits, no error box."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from digitlab import registry
from digitlab.records import RunRecord

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "pages" / "compare.py"
SECTIONS = ["Accuracy and loss per epoch", "Accuracy, precision, recall and F1 (Paper S's Graph 1)",
            "Size and speed", "The papers' figures beside ours", "Writers MNIST never saw", "Confusion matrices",
            "Per-class precision, recall and F1", "Misread test digits", "The hardest digits"]


@pytest.fixture(autouse=True)
def repo_models(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)


@pytest.fixture
def shell(tmp_path):
    """The app shell with Compare in its navigation (added here until streamlit_app.py lists it)."""
    source = (REPO / "streamlit_app.py").read_text()
    if "pages/compare.py" not in source:
        source = source.replace(
            '    st.Page("pages/models.py"',
            '    st.Page("pages/compare.py", title="Compare", icon="📊"),\n    st.Page("pages/models.py"')
    # Absolute page paths: the copy of the shell lives outside the repository.
    script = tmp_path / "streamlit_app.py"
    script.write_text(source.replace('st.Page("pages/', f'st.Page("{REPO}/pages/'))
    return script


def open_compare(shell):
    app = AppTest.from_file(str(shell), default_timeout=180)
    app.run()
    app.switch_page(str(PAGE)).run()
    assert not app.exception and not app.error
    return app


def captions(app) -> list[str]:
    return [c.value.replace("\u00a0", " ") for c in app.caption]


def test_compare_shows_the_reference_runs_from_curves_to_misread_digits(shell):
    app = open_compare(shell)
    assert app.multiselect(key="compare_runs").value == ["paper-s-1", "paper-s-2", "paper-s-3", "paper-s-4",
                                                         "paper-h", "paper-h-stated"]
    assert [s.value for s in app.subheader] == SECTIONS
    charts = app.get("plotly_chart")
    assert len(charts) == 2 + 6  # curves, bars, one confusion matrix per run
    assert list(app.dataframe[0].value["run"]) == app.multiselect(key="compare_runs").value  # size and speed
    assert any("150×150×3" in c and "99.40 %" in c for c in captions(app))
    assert len(app.tabs) == 6
    # The misread digits start from the first run's most frequent confusion (stored matrix).
    matrix = registry.read_record("paper-s-1").report("test")["confusion_matrix"]
    cell = (app.selectbox(key="compare_misread_true").value, app.selectbox(key="compare_misread_predicted").value)
    assert matrix[cell[0]][cell[1]] == max(matrix[t][p] for t in range(10) for p in range(10) if t != p)
    assert any(c.startswith(f"paper-s-1 read {matrix[cell[0]][cell[1]]} test images of a {cell[0]} as {cell[1]}")
               for c in captions(app))

    app.selectbox(key="compare_misread_run").select("paper-h").run()
    assert not app.exception and not app.error
    assert app.selectbox(key="compare_misread_true").value != cell[0] or \
        app.selectbox(key="compare_misread_predicted").value != cell[1]  # paper-h's own worst cell
    app.selectbox(key="compare_misread_true").select(1).run()
    app.selectbox(key="compare_misread_predicted").select(1).run()
    assert any("choose two different digits" in info.value for info in app.info)

    app.radio(key="compare_matrix_scale").set_value("row-normalised (%)").run()
    assert not app.exception and not app.error

    app.multiselect(key="compare_runs").set_value([]).run()
    assert not app.exception and not app.error
    assert [info.value for info in app.info] == ["Choose one or more runs to compare."]


def test_runs_still_training_are_listed_not_compared(shell, models_root):
    shutil.copytree(REPO / "models" / "paper-h", models_root / "mine")
    finished = registry.read_record("paper-h", root=REPO / "models")
    registry.save_run("training", RunRecord(arch=finished.arch, spec=finished.spec, config=finished.config,
                                            data=finished.data, status="running"))
    app = open_compare(shell)
    # No reference run here: the first runs stored are chosen instead.
    assert app.multiselect(key="compare_runs").options == ["mine"]
    assert app.multiselect(key="compare_runs").value == ["mine"]
    assert any("training" in c and "running" in c for c in captions(app))
    assert "The papers' figures beside ours" not in [s.value for s in app.subheader]


def test_compare_reads_outside_writers_only_when_asked(shell, monkeypatch):
    monkeypatch.setenv("DIGITLAB_SEMEION", "/nonexistent/semeion.npz")  # optdigits alone: it ships with the code
    app = open_compare(shell)
    assert not any("optdigits" in frame.value.columns for frame in app.dataframe)  # off: nothing read
    app.multiselect(key="compare_runs").set_value(["paper-h", "paper-s-1"]).run()
    app.toggle(key="compare_outside").set_value(True).run()
    assert not app.exception and not app.error
    summary = next(frame.value for frame in app.dataframe if "optdigits" in frame.value.columns and "mnist" in frame.value.columns)
    assert list(summary["run"]) == ["paper-h", "paper-s-1"] and "semeion" not in summary.columns
    accuracy = dict(zip(summary["run"], summary["optdigits"]))
    assert 85 <= accuracy["paper-h"] <= 100 and 50 <= accuracy["paper-s-1"] <= 100  # read, and well above chance
    assert dict(zip(summary["run"], summary["mnist"]))["paper-h"] == pytest.approx(99.33, abs=0.01)
    per_digit = next(frame.value for frame in app.dataframe if "9" in frame.value.columns)
    assert list(per_digit.columns) == ["run"] + [str(d) for d in range(10)] and len(per_digit) == 2
    assert any(tab.label == "optdigits per digit" for tab in app.tabs)
