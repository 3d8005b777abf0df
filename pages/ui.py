"""Streamlit helpers shared by the pages: cached models and runs, the active model of this tab."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from digitlab import papers, registry

MODEL_KEY = "model_name"
DRAWING_KEY = "shared_drawing"  # the canvas objects (Fabric.js JSON) Draw and Learn hand each other
SHELL_KEY = "shell_ran"  # the app shell has run in this session
WANTED_PAGE_KEY = "wanted_page"  # where the shell sends a page opened without it


def require_shell(page: str) -> None:
    """Send a page opened without the app shell through it.

    A fresh server's very first request, if it is a page's own address (/train), runs
    that page alone: Streamlit's old rule for a `pages/` folder, until the shell has
    called st.navigation once. `page` ("pages/train.py") is where the shell then sends
    the visitor.
    """
    if not st.session_state.get(SHELL_KEY):
        st.session_state[WANTED_PAGE_KEY] = page
        st.switch_page("streamlit_app.py")


@st.cache_data(ttl=3, show_spinner=False)
def _stored_runs(root: str) -> tuple[list[dict], list[tuple[str, str]], list[dict]]:
    runs, errors = registry.list_runs(root=Path(root))
    return [run.to_json() for run in runs], errors, papers.reproduction_rows(runs)


def stored_runs() -> tuple[list[dict], list[tuple[str, str]]]:
    """JSON summaries of the stored runs and the folders that could not be read (cached a few seconds)."""
    runs, errors, _ = _stored_runs(str(registry.models_dir()))
    return runs, errors


def reproduction_rows() -> list[dict]:
    """The papers' figures beside the stored reference runs, from the same cached listing."""
    return _stored_runs(str(registry.models_dir()))[2]


def servable_runs() -> list[dict]:
    """Runs with a trained model, the default first."""
    runs, _ = stored_runs()
    usable = [r for r in runs if r["status"] in ("complete", "stopped", "interrupted") and Path(r["path"]).is_file()]
    return sorted(usable, key=lambda r: (not r["default"], r["name"]))


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _predictor(name: str, stamp: float):
    from digitlab.inference import Predictor

    return Predictor.load(name)


def predictor(name: str):
    """The shared, thread-safe Predictor of a stored run, reloaded when its model file changes."""
    path = registry.get_run(name).model_path
    return _predictor(name, path.stat().st_mtime)


def active_model() -> str | None:
    """This tab's model: chosen in the sidebar, else the default run."""
    names = [r["name"] for r in servable_runs()]
    chosen = st.session_state.get(MODEL_KEY)
    return chosen if chosen in names else (names[0] if names else None)


@st.cache_resource(show_spinner=False)
def _job_manager(root: str):
    from digitlab.jobs import JobManager

    return JobManager(Path(root))


def job_manager():
    """The server's one JobManager for the models folder: every session and tab shares its jobs."""
    return _job_manager(str(registry.models_dir()))


@st.cache_data(ttl=10, show_spinner=False)
def _timed_records(root: str) -> list[dict]:
    runs, _ = registry.list_runs(root=Path(root))
    return [{key: run.record.get(key) for key in ("spec", "config", "images_per_s", "global_batch_size", "replicas")}
            for run in runs if run.status == "complete"]


def timed_records() -> list[dict]:
    """The timing facts of finished runs, for estimating training time on this machine."""
    return _timed_records(str(registry.models_dir()))

