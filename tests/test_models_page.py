"""The Models page under AppTest: set the default, rename, delete with confirmation, delete a broken folder."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def models(models_root):
    """Two stored reference runs copied into an empty models folder, paper-s-1 the default."""
    for name in ("paper-s-1", "paper-h"):
        shutil.copytree(REPO / "models" / name, models_root / name)
    (models_root / "DEFAULT").write_text("paper-s-1\n")
    return models_root


def models_page():
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    app.run()
    app.switch_page("pages/models.py").run()
    assert not app.exception, app.exception
    return app


def stored(models):
    """What the folder holds, without the job manager's hidden lock file."""
    return sorted(p.name for p in models.iterdir() if not p.name.startswith("."))


def button(app, key):
    return next(b for b in app.button if b.key == key)


def test_set_default_rename_and_delete_with_confirmation(models):
    app = models_page()
    assert app.selectbox(key="models_detail_run").value == "paper-s-1"  # the default first
    app.selectbox(key="models_detail_run").set_value("paper-h").run()
    button(app, "models_set_default").click().run()
    assert (models / "DEFAULT").read_text().strip() == "paper-h"
    assert app.session_state["model_name"] == "paper-h"  # this tab's Draw reads with it at once

    app.text_input(key="models_rename_to").input("paper-h-renamed")
    button(app, "models_rename").click().run()
    assert stored(models) == ["DEFAULT", "paper-h-renamed", "paper-s-1"]
    assert (models / "DEFAULT").read_text().strip() == "paper-h-renamed"
    assert app.selectbox(key="models_detail_run").value == "paper-h-renamed"

    assert button(app, "models_delete").disabled  # not before the box is ticked
    app.checkbox(key="models_delete_confirm_paper-h-renamed").check().run()
    button(app, "models_delete").click().run()
    assert not app.exception and stored(models) == ["paper-s-1"]
    assert "is deleted" in app.success[0].value
    assert button(app, "models_delete").disabled  # the next run shown is not armed


def test_a_bad_new_name_is_one_line_and_changes_nothing(models):
    app = models_page()
    app.text_input(key="models_rename_to").input("../escape")
    button(app, "models_rename").click().run()
    assert "invalid run name" in app.error[0].value
    assert stored(models) == ["DEFAULT", "paper-h", "paper-s-1"]


def test_a_broken_folder_is_listed_with_its_error_and_can_be_deleted(models):
    (models / "broken").mkdir()
    (models / "broken" / "run.json").write_text("{")
    app = models_page()
    assert any("models/broken" in w.value and "unreadable run.json" in w.value for w in app.warning)
    assert button(app, "models_broken_delete_broken").disabled
    app.checkbox(key="models_broken_confirm_broken").check().run()
    button(app, "models_broken_delete_broken").click().run()
    assert not (models / "broken").exists() and not app.warning


def test_with_a_passcode_only_the_teacher_changes_models(models, monkeypatch):
    monkeypatch.setenv("DIGITLAB_TEACHER_PASSCODE", "owl")
    app = models_page()
    for key in ("models_set_default", "models_rename", "models_delete"):
        assert button(app, key).disabled, key
    assert any("teacher" in info.value for info in app.info)  # the upload box is not offered
    assert not any(b.key == "models_upload_button" for b in app.button)
    assert app.checkbox(key="models_delete_confirm_paper-s-1").disabled

    app.session_state["teacher_unlocked"] = True  # what the sidebar's Unlock does with the right passcode
    app.run()
    assert not button(app, "models_rename").disabled
    assert any(b.key == "models_upload_button" for b in app.button)
    app.checkbox(key="models_delete_confirm_paper-s-1").check().run()
    button(app, "models_delete").click().run()
    assert stored(models) == ["paper-h"]


def test_an_uploaded_default_reads_on_draw_and_stays_out_of_learns_layer_panels(models, tmp_path):
    import keras

    from digitlab import registry, uploads

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "flat.keras")
    uploads.upload_model((tmp_path / "flat.keras").read_bytes(), "flat.keras")
    registry.set_default("flat")
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=180)
    app.run()
    assert not app.exception and app.sidebar.selectbox[0].value == "flat"  # Draw reads with it
    app.switch_page("pages/learn.py").run()
    assert not app.exception, [e.value for e in app.exception]
    learn_models = app.selectbox(key="learn_model")
    assert "flat" not in learn_models.options and learn_models.value in ("paper-h", "paper-s-1")


def test_the_streamlit_config_parses_and_lets_a_model_upload_through():
    import tomllib

    from digitlab import uploads

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())  # a repeated table voids it all
    assert config["server"]["maxUploadSize"] << 20 >= uploads.MAX_UPLOAD_BYTES
    assert config["client"]["showErrorDetails"] == "none" and config["runner"]["postScriptGC"] is False
