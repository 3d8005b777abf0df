"""The Learn page under AppTest: every lesson step renders without an error box and shows live numbers."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digitlab import augmentation, lesson
from digitlab.architectures import ArchSpec, ConvSpec
from digitlab.data import mnist_test_set
from digitlab.inference import Predictor
from digitlab.config import TrainConfig
from digitlab.records import RunRecord
from digitlab.training import train_run

REPO = Path(__file__).resolve().parent.parent


def open_learn(query: dict | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=180)  # TensorFlow imports slowly
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    app.switch_page("pages/learn.py").run()
    assert not app.exception, app.exception
    return app


@pytest.fixture(scope="module")
def app():
    import os

    saved = os.environ.pop("DIGITLAB_MODELS", None)  # the repository's reference runs
    yield open_learn()
    if saved is not None:
        os.environ["DIGITLAB_MODELS"] = saved


def show_step(app: AppTest, key: str) -> AppTest:
    app.session_state["learn_step"] = lesson.step_index(key)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert app.header[0].value == lesson.STEPS[lesson.step_index(key)].title
    return app


def texts(app: AppTest) -> str:
    return "\n".join([m.value for m in app.markdown] + [c.value for c in app.caption] + [i.value for i in app.info])


@pytest.mark.parametrize("key", lesson.STEP_KEYS)
def test_every_step_renders_with_its_question(app, key):
    show_step(app, key)
    question = lesson.STEPS[lesson.step_index(key)].question
    assert any(question in radio.label for radio in app.radio)


def test_nothing_drawn_shows_mnist_digit_zero_until_a_drawing_comes(app):
    show_step(app, "input")
    assert "Nothing drawn yet" in texts(app)
    assert "### Reads: 7" in texts(app)


def test_a_guess_is_answered_with_the_reveal(app):
    show_step(app, "size")
    app.radio(key="learn_guess_size").set_value("13").run()
    assert "⌊27 / 2⌋ + 1" in app.info[0].value and "14" in app.info[0].value
    app.radio(key="learn_guess_size").set_value("14").run()
    assert app.success[0].value.startswith("Right.")


def test_next_and_back_walk_the_steps(app):
    show_step(app, "input")
    app.button(key="learn_next").click().run()
    assert app.header[0].value == lesson.STEPS[1].title
    app.button(key="learn_back").click().run()
    assert app.header[0].value == lesson.STEPS[0].title


def test_editing_a_kernel_cell_changes_the_sum(app):
    show_step(app, "conv")
    app.selectbox(key="learn_kernel_choice").set_value("identity").run()
    sum_line = next(m.value for m in app.markdown if m.value.startswith("sum of the 9 products"))
    image = mnist_test_set()[0][0, ..., 0]
    row, col = app.slider(key="learn_conv_row").value, app.slider(key="learn_conv_col").value
    assert f"= **{image[row, col]:.3f}**" in sum_line  # identity: the pixel itself
    app.number_input(key="learn_k11").set_value(3.0).run()
    changed = next(m.value for m in app.markdown if m.value.startswith("sum of the 9 products"))
    assert changed != sum_line and f"**{3 * image[row, col]:.3f}**" in changed


def test_a_learned_filter_follows_the_chosen_model(app):
    from digitlab import registry

    def grid_shows_the_sliders_filter(name):
        kernel, bias = registry.load_model(name, root=REPO / "models").get_layer("conv1").get_weights()
        index = app.slider(key=f"learn_filter_{name}").value
        shown = np.array([[app.number_input(key=f"learn_k{i}{j}").value for j in range(3)] for i in range(3)])
        assert np.allclose(shown, kernel[:, :, 0, index], atol=1e-4), (name, index)
        assert app.number_input(key="learn_bias").value == pytest.approx(float(bias[index]), abs=1e-4)

    show_step(app, "conv")
    app.selectbox(key="learn_kernel_choice").set_value("learned filter of the model").run()
    for name in ("paper-s-1", "paper-h"):
        app.selectbox(key="learn_model").set_value(name).run()
        grid_shows_the_sliders_filter(name)
        app.slider(key=f"learn_filter_{name}").set_value(2).run()
        assert not app.exception
        grid_shows_the_sliders_filter(name)
    app.selectbox(key="learn_model").set_value("digitlab").run()
    app.selectbox(key="learn_kernel_choice").set_value("identity").run()


def test_softmax_table_equals_the_models_probabilities(app):
    show_step(app, "softmax")
    table = app.dataframe[0].value
    model = app.selectbox(key="learn_model").value
    image = mnist_test_set()[0][:1]
    expected = Predictor.load(model, root=REPO / "models").predict(image)[0]
    assert np.allclose(table["probability"].to_numpy() / 100, expected, atol=1e-5)
    app.select_slider(key="learn_temperature").set_value(8.0).run()
    hotter = app.dataframe[0].value["probability"].to_numpy() / 100
    assert hotter.max() < expected.max()


def test_card_parameters_match_keras(app):
    show_step(app, "card")
    line = next(m.value for m in app.markdown if "Keras counts" in m.value)
    ours, keras_count = [int(n.replace(",", "")) for n in
                         (line.split(" parameters**")[0].strip("*"), line.split("Keras counts ")[1].split(" ")[0])]
    assert ours == keras_count


def test_break_finds_the_smallest_flip(app):
    show_step(app, "break")
    app.button(key="learn_attack").click().run()
    assert not app.exception
    assert "pixels changed by more than 0.1" in texts(app)


def test_replay_says_in_one_line_when_a_run_has_no_snapshots(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)
    app = open_learn({"step": "replay", "model": "paper-s-2"})  # stored before training kept snapshots
    assert "trained before training kept snapshots" in app.info[0].value


def test_the_default_model_replays_its_training(app):
    # digitlab's stored run kept its snapshots: the replay opens on it with no "no snapshots" line.
    show_step(app, "replay")
    assert not app.info
    assert app.selectbox(key="learn_replay_run").value == "digitlab"


def test_a_link_opens_its_step_model_and_settings(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)
    app = open_learn({"step": "softmax", "model": "paper-s-2", "t": "4.0", "source": "mnist", "digit": "3"})
    assert app.header[0].value == "8 · Softmax"
    assert app.selectbox(key="learn_model").value == "paper-s-2"
    assert app.select_slider(key="learn_temperature").value == 4.0
    assert app.number_input(key="learn_mnist_index").value == 3
    assert app.query_params["step"] == ["softmax"] or app.query_params["step"] == "softmax"


def test_projector_mode_hides_the_advanced_controls(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)
    app = open_learn({"step": "maps", "projector": "1"})
    assert app.toggle(key="learn_projector").value
    assert not [r for r in app.radio if r.label == "Colours"]


def test_replay_scrubs_a_run_trained_with_snapshots(tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(REPO / "models" / "paper-s-1", root / "paper-s-1")
    train_run(RunRecord.new("tiny", "custom", ArchSpec(convs=(ConvSpec(4),), dense_units=(16,)),
                            TrainConfig(epochs=2, batch_size=64, train_size=300), command="test"), root=root)
    monkeypatch.setenv("DIGITLAB_MODELS", str(root))
    app = open_learn({"step": "replay", "model": "tiny"})
    assert not app.error and not app.info  # the chosen run has a replay: no "no snapshots" line
    assert app.selectbox(key="learn_replay_run").value == "tiny"
    slider = app.slider(key="learn_replay_epoch_tiny")
    assert slider.value == 2
    slider.set_value(0).run()
    assert "before training" in texts(app)
    captions = [img.caption for element in app.get("image") for img in element.proto.imgs]
    assert sum(" reads " in caption for caption in captions) == 20  # the probe digits and their readings
    app.slider(key="learn_replay_epoch_tiny").set_value(1).run()
    assert "after epoch 1" in texts(app)


def test_many_hands_shows_the_drawing_as_training_changes_it_and_new_draws_change_them(app):
    import re

    show_step(app, "hands")
    summary = next(m.value for m in app.markdown if " of 16** read as" in m.value)
    count = int(re.search(r"\*\*(\d+) of 16\*\*", summary).group(1))
    assert 0 <= count <= 16
    app.button(key="learn_hands_shuffle").click().run()
    assert not app.exception and app.session_state["learn_hands_seed"] == 1
    for kind in augmentation.SHOWN:
        app.selectbox(key="learn_hands_kind").set_value(kind).run()
        assert not app.exception and not app.error


def test_dead_units_counts_the_dense_units_that_fire_and_marks_the_dead(app):
    import re

    show_step(app, "units")
    summary = next(m.value for m in app.markdown if "units of" in m.value and "first dense layer" in m.value)
    alive, units, now = map(int, re.search(r"\*\*(\d+) of (\d+)\*\*.*\*\*(\d+)\*\* fire", summary).groups())
    assert 0 < now <= units and 0 < alive <= units
    assert not app.exception and not app.error


def test_live_and_dead_units_are_told_apart_by_what_they_fire_for():
    from digitlab.explain import firing_share

    outputs = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    assert firing_share(outputs).tolist() == [0.0, 0.75, 0.25]
