"""Streamlit runtime behaviour the classroom server changes where its config has no setting."""

from __future__ import annotations

import sys


def keep_keras_session() -> None:
    """Stop Streamlit from clearing Keras's session after every script run (idempotent).

    Streamlit's script runner calls `keras.backend.clear_session()` after each run, fragment
    runs included, for scripts that build a model per run. Keras 3 makes that a full garbage
    collection: measured here, 190 ms of CPU per run with TensorFlow loaded — most of a Draw
    stroke's cost. Our models are loaded once per server (`PredictorPool`) and train in worker
    processes, so there is no per-run Keras state to clear. Matplotlib figures are still closed.
    """
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "_clean_problem_modules", None)
    if original is None or getattr(original, "digitlab_keeps_keras", False):
        return

    def clean_problem_modules() -> None:
        if "matplotlib.pyplot" in sys.modules:
            try:
                sys.modules["matplotlib.pyplot"].close("all")
            except Exception:  # noqa: S110 - as Streamlit's own: never fail a run over it
                pass

    clean_problem_modules.digitlab_keeps_keras = True
    script_runner._clean_problem_modules = clean_problem_modules
