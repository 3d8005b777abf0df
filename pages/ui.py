"""Streamlit helpers shared by the pages: cached models and runs, the active model of this tab."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from digitlab import classroom, papers, registry
from digitlab.jobs import JobManager
from digitlab.records import RunRecord

MODEL_KEY = "model_name"
SESSION_ID_KEY = "session_id"  # this browser session's id: the owner of the jobs it queues
TEACHER_KEY = "teacher_unlocked"  # the teacher's passcode was entered in this session
DRAWING_KEY = "shared_drawing"  # the canvas objects (Fabric.js JSON) Draw and Learn hand each other
SHELL_KEY = "shell_ran"  # the app shell has run in this session
WANTED_PAGE_KEY = "wanted_page"  # where the shell sends a page opened without it
OUTSIDE_WRITERS_HELP = ("2,799 pen digits by 14 writers MNIST never saw, traced on a tablet in Istanbul and drawn "
                        "again as on the canvas (UCI pendigits' test writers; no fives or sevens). A class that "
                        "writes flagged ones, open fours or curled nines is read more like this than like MNIST.")


def require_shell(page: str) -> None:
    """Send a page opened without the app shell through it.

    A fresh server's very first request, if it is a page's own address (/train), runs
    that page alone: Streamlit's old rule for a `pages/` folder, until the shell has
    called st.navigation once. `page` ("pages/train.py") is where the shell then sends
    the visitor.
    """
    if not st.session_state.get(SHELL_KEY):
        # The address's settings (a Learn link's step and model) go along: a detour must not lose them.
        st.session_state[WANTED_PAGE_KEY] = (page, st.query_params.to_dict())
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


@st.cache_data(ttl=3, show_spinner=False)
def _model_catalog(root: str) -> tuple[list[dict], list[tuple[str, str]]]:
    from digitlab import catalog

    return catalog.catalog(root=Path(root))


def model_catalog() -> tuple[list[dict], list[tuple[str, str]]]:
    """The Models page's rows (default first) and broken folders (cached a few seconds)."""
    return _model_catalog(str(registry.models_dir()))


def forget_runs() -> None:
    """Drop the cached listings after this session changed the stored runs (upload, rename, delete, default)."""
    _stored_runs.clear()
    _model_catalog.clear()
    _timed_records.clear()


def servable_runs() -> list[dict]:
    """Runs with a trained model, the default first."""
    runs, _ = stored_runs()
    return sorted((r for r in runs if r["servable"]), key=lambda r: (not r["default"], r["name"]))


@st.cache_resource(show_spinner=False)
def predictor_pool():
    """The server's one PredictorPool: every stored model loaded once, whatever the number of runs."""
    from digitlab.predictors import PredictorPool

    return PredictorPool()


def predictor(name: str):
    """The shared, thread-safe Predictor of a stored run, reloaded when its model file changes.

    Raises `predictors.ModelUnavailable` (a RegistryError) with one line when it cannot be loaded.
    """
    return predictor_pool().get(name, registry.get_run(name).model_path)


def _passcode() -> str | None:
    try:
        secrets = dict(st.secrets)
    except Exception:  # no secrets.toml: Streamlit raises rather than returning nothing
        secrets = {}
    return classroom.passcode(secrets)


def person() -> classroom.Person:
    """Who this browser session is: its own id, and the teacher's rights if unlocked (or if no passcode is set)."""
    if SESSION_ID_KEY not in st.session_state:
        st.session_state[SESSION_ID_KEY] = uuid.uuid4().hex[:12]
    teacher = _passcode() is None or st.session_state.get(TEACHER_KEY, False)
    return classroom.Person(session=st.session_state[SESSION_ID_KEY], teacher=teacher)


def teacher_login() -> None:
    """The sidebar's passcode box, shown only when the server has a teacher's passcode."""
    expected = _passcode()
    if expected is None:
        return
    if st.session_state.get(TEACHER_KEY):
        st.caption(":material/school: Teacher's rights in this tab")
        if st.button("Leave teacher mode", key="teacher_logout"):
            st.session_state[TEACHER_KEY] = False
            st.rerun()
        return
    with st.expander("Teacher", icon=":material/lock:"):
        entered = st.text_input("Passcode", type="password", key="teacher_passcode_input")
        if st.button("Unlock", key="teacher_unlock"):
            if classroom.is_teacher(entered, expected):
                st.session_state[TEACHER_KEY] = True
                st.rerun()
            st.error("That is not the teacher's passcode.")


def model_picker() -> None:
    """The sidebar's choice of this tab's model, with each run's MNIST accuracy; the default first."""
    runs = servable_runs()
    if not runs:
        st.warning("No trained model yet: run `python -m digitlab reproduce`.")
        return
    names = [r["name"] for r in runs]
    labels = {r["name"]: f"{r['name']}{' (default)' if r['default'] else ''} · {_figures(r)}" for r in runs}
    if st.session_state.get(MODEL_KEY) not in names:
        st.session_state[MODEL_KEY] = names[0]
    chosen = st.selectbox("Active model (this tab)", names, key=MODEL_KEY, format_func=labels.get,
                          help="The first figure: MNIST's 10,000 test digits, by American writers. Pen: "
                               + OUTSIDE_WRITERS_HELP)
    hint = pen_reader_hint(runs, chosen)
    if hint:
        st.caption(hint)


def _figures(run: dict) -> str:
    """A run's two figures, short enough for the sidebar: MNIST's test set, and pen digits by writers outside MNIST."""
    if run["mnist_test_accuracy"] is None:
        return run["status"]
    pen = run.get("outside_writers_accuracy")
    return f"{100 * run['mnist_test_accuracy']:.2f} %" + (f" · pen {100 * pen:.0f} %" if pen is not None else "")


PEN_HINT_GAIN = 0.05  # another run reading outside writers' pen digits this much better is worth a line


def pen_reader_hint(runs: list[dict], chosen: str) -> str | None:
    """A line naming the stored run that reads outside writers' pen digits best, when it beats the chosen one clearly."""
    pens = {r["name"]: r.get("outside_writers_accuracy") for r in runs if r.get("outside_writers_accuracy") is not None}
    if chosen not in pens:
        return None
    best = max(pens, key=pens.get)
    if pens[best] < pens[chosen] + PEN_HINT_GAIN:
        return None
    mnist = next(r["mnist_test_accuracy"] for r in runs if r["name"] == best)
    return (f"Writers outside MNIST: {best}" + (f" (MNIST {100 * mnist:.2f} %)" if mnist is not None else "")
            + f" reads their pen digits at {100 * pens[best]:.1f} %, this one at {100 * pens[chosen]:.1f} %. "
            "Choose it for a class that writes flagged ones, open fours or curled nines.")


def active_model() -> str | None:
    """This tab's model: chosen in the sidebar, else the default run."""
    names = [r["name"] for r in servable_runs()]
    chosen = st.session_state.get(MODEL_KEY)
    return chosen if chosen in names else (names[0] if names else None)


@st.cache_resource(show_spinner=False)
def _warmed(root: str):
    return predictor_pool().warm_up((run["name"], run["path"]) for run in servable_runs())


def warm_models() -> None:
    """Load every stored model in the background, once per server: a fresh server's first drawing waits for none."""
    _warmed(str(registry.models_dir()))


@st.cache_resource(show_spinner=False)
def _cleaned(root: str) -> list[str]:
    return registry.clean_leftovers(root=Path(root))


def clean_models_folder() -> None:
    """Remove what killed writes left in the models folder, once per server (registry.clean_leftovers)."""
    _cleaned(str(registry.models_dir()))


@st.cache_resource(show_spinner=False)
def _job_manager(root: str) -> JobManager:
    return JobManager(Path(root))


def job_manager():
    """The server's one JobManager for the models folder: every session and tab shares its jobs."""
    return _job_manager(str(registry.models_dir()))


@st.cache_data(ttl=10, show_spinner=False)
def _timed_records(root: str) -> list[RunRecord]:
    runs, _ = registry.list_runs(root=Path(root))
    return [run.record for run in runs if run.status == "complete"]


def timed_records() -> list[RunRecord]:
    """The timing facts of finished runs, for estimating training time on this machine."""
    return _timed_records(str(registry.models_dir()))

