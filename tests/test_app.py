"""Every page starts under AppTest without an error box; bad run folders are warnings."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
PAGES = ["pages/draw.py", "pages/train.py", "pages/compare.py", "pages/models.py"]


@pytest.fixture(autouse=True)
def repo_models(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)


def run_app(page=None):
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    app.run()
    if page:
        app.switch_page(page).run()
    return app


def test_shell_opens_on_draw_with_the_active_model():
    app = run_app()
    assert not app.exception and not app.error
    assert app.title[0].value == "Draw a digit"
    assert app.sidebar.selectbox[0].value  # the active model
    assert any("Draw a digit on the canvas" in info.value for info in app.info)


def test_the_sidebar_shows_each_runs_pen_figure_and_names_the_better_pen_reader():
    app = run_app()
    picker = app.sidebar.selectbox(key="model_name")
    assert picker.value == "digitlab"
    # Each run: MNIST's figure, then the pen digits of writers outside MNIST (run.json, stored runs' 85.96 / 97.43 %).
    assert "digitlab-traces · 99.53 % · pen 97 %" in picker.options
    hint = " ".join(caption.value for caption in app.sidebar.caption)
    assert "digitlab-traces (MNIST 99.53 %) reads their pen digits at 97.4 %, this one at 86.0 %" in hint
    picker.set_value("digitlab-traces").run()
    assert not any("reads their pen digits" in caption.value for caption in app.sidebar.caption)


def test_the_pen_hint_needs_a_clear_gain_and_figures_to_compare():
    from pages.ui import pen_reader_hint

    def run(name, pen, mnist=0.99):
        return {"name": name, "outside_writers_accuracy": pen, "mnist_test_accuracy": mnist}

    assert pen_reader_hint([run("a", 0.80), run("b", 0.90)], "a").startswith("Writers outside MNIST: b (MNIST 99.00 %) reads")
    assert pen_reader_hint([run("a", 0.80), run("b", 0.84)], "a") is None  # under 5 points: not worth a line
    assert pen_reader_hint([run("a", None), run("b", 0.90)], "a") is None  # an old upload: nothing to compare
    assert pen_reader_hint([run("a", 0.80)], "a") is None


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(page):
    app = run_app(page)
    assert not app.exception and not app.error


def test_models_page_lists_the_reference_runs():
    app = run_app("pages/models.py")
    names = set(app.dataframe[0].value["name"])
    assert {"paper-h", "paper-s-1"} <= names


def test_a_broken_run_folder_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{")
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    app = run_app("pages/models.py")
    assert not app.exception
    assert "broken" in app.warning[0].value


def test_train_page_leaves_the_chosen_styles_out_of_the_job(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    monkeypatch.setenv("DIGITLAB_MAX_JOBS", "0")  # keep it queued: no worker starts
    app = run_app("pages/train.py")
    app.selectbox(key="train_preset").set_value("digitlab").run()
    app.multiselect(key="train_digitlab_styles_left_out").set_value(["nine-hook", "seven-crossed"]).run()
    app.multiselect(key="train_digitlab_styles_added").set_value(["nine-slanted"]).run()
    app.text_input(key="train_digitlab_name_0").set_value("apptest-unseen")
    app.button(key="train_start").click().run()
    assert not app.exception and not app.error
    record = json.loads((tmp_path / "apptest-unseen" / "run.json").read_text())
    assert record["config"]["styles_left_out"] == ["nine-hook", "seven-crossed"]
    assert "--styles-left-out nine-hook seven-crossed" in record["command"]
    assert record["config"]["styles_added"] == ["nine-slanted"] and "--styles-added nine-slanted" in record["command"]


def test_train_page_queues_a_job_and_takes_it_off_the_queue(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    monkeypatch.setenv("DIGITLAB_MAX_JOBS", "0")  # keep it queued: no worker starts
    app = run_app("pages/train.py")
    assert not app.exception and not app.error
    assert any("per epoch" in caption.value for caption in app.caption)  # the time estimate
    app.number_input(key="train_paper-s-1_train_size").set_value(1000)
    app.number_input(key="train_paper-s-1_epochs").set_value(2)
    app.text_input(key="train_paper-s-1_name_0").set_value("apptest-job")
    app.button(key="train_start").click().run()
    assert not app.exception and not app.error
    record = json.loads((tmp_path / "apptest-job" / "run.json").read_text())
    assert record["status"] == "queued" and record["config"]["train_size"] == 1000
    assert any("number 1 in the queue" in str(p.text) for p in app.get("progress"))
    app.button(key="stop_apptest-job").click().run()
    assert json.loads((tmp_path / "apptest-job" / "run.json").read_text())["status"] == "cancelled"


def test_train_page_says_in_one_line_when_a_distilled_recipes_teachers_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    monkeypatch.setenv("DIGITLAB_MAX_JOBS", "0")  # keep it queued: no worker starts
    app = run_app("pages/train.py")
    app.selectbox(key="train_preset").set_value("digitlab-distilled").run()
    assert not app.exception and any("per epoch" in caption.value for caption in app.caption)
    app.text_input(key="train_digitlab-distilled_name_0").set_value("apptest-distilled")
    app.button(key="train_start").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == [
        "teacher 'digitlab' is not a trained run here: train it first (python -m digitlab train ... --name digitlab)"]
    assert not (tmp_path / "apptest-distilled").exists()
