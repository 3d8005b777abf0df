"""Every page starts under AppTest without an error box; bad run folders are warnings."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
PAGES = ["pages/draw.py", "pages/models.py"]


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
