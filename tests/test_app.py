"""The Streamlit app starts and shows the stored runs without an error box."""

from streamlit.testing.v1 import AppTest


def test_home_page_renders_the_stored_runs(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)
    app = AppTest.from_file("streamlit_app.py", default_timeout=60).run()
    assert not app.exception
    assert not app.error
    assert app.title[0].value == "digitlab"
    assert len(app.dataframe) >= 1
    names = set(app.dataframe[0].value["name"])
    assert {"paper-h", "paper-s-1", "paper-s-4"} <= names


def test_a_broken_run_folder_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{")
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    app = AppTest.from_file("streamlit_app.py", default_timeout=60).run()
    assert not app.exception
    assert "broken" in app.warning[0].value
