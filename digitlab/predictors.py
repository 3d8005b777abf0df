"""Every stored model loaded once per server, reloaded when its file changes, a broken one reported instead of raised."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from digitlab.registry import RegistryError


class ModelUnavailable(RegistryError):
    """A stored model that cannot be loaded; the message is one line naming the run."""


class PredictorPool:
    """The server's loaded Predictors by run name, shared and thread-safe.

    A least-recently-used cache of N models reloads every one of them on every use once
    more than N are cycled through (the vote table asks every stored run on every drawing);
    this pool keeps one Predictor per stored run instead — the runs themselves bound it —
    and reloads one only when its model file's path or modification time changes. A model that
    fails to load is remembered as failed for that file, so it costs one attempt, not one
    per drawing. Loads of different runs may proceed at once; one run loads once.
    """

    def __init__(self, load=None):
        # `load(name) -> Predictor`; Predictor.load by default (imported late: TensorFlow).
        self._load = load
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[str, int], object]] = {}  # name -> ((path, mtime), Predictor or the error)
        self._loading: dict[str, threading.Lock] = {}

    def get(self, name: str, model_path: str | Path):
        """The Predictor of run `name` whose model file is `model_path`; raises ModelUnavailable."""
        try:
            # The file's path as well as its time: a run of that name in another models folder (or
            # copied back with its time kept) is another model, not the one loaded, or failed, before.
            stamp = (str(model_path), Path(model_path).stat().st_mtime_ns)
        except OSError:
            raise ModelUnavailable(f"{name}: its model file is missing") from None
        entry = self._entries.get(name)
        if entry is None or entry[0] != stamp:
            with self._lock:
                name_lock = self._loading.setdefault(name, threading.Lock())
            with name_lock:
                entry = self._entries.get(name)
                if entry is None or entry[0] != stamp:
                    entry = (stamp, self._load_one(name, Path(model_path)))
                    with self._lock:
                        self._entries[name] = entry
        if isinstance(entry[1], ModelUnavailable):
            raise ModelUnavailable(str(entry[1]))
        return entry[1]

    def warm_up(self, runs) -> threading.Thread:
        """Load every `(name, model_path)` of `runs` in a background thread; returns the started thread.

        The Draw page asks every stored run for its vote, so a fresh server's first drawing would
        wait for all of them to load (seconds per run, with every student's first drawing queued
        behind it). Started when the server first serves a page, the loads are done before anyone
        has finished drawing; a drawing that comes sooner waits only for the runs still loading,
        each of which loads once either way. A broken run is remembered as broken, as in `get`.
        """
        runs = list(runs)

        def load_all():
            for name, model_path in runs:
                try:
                    self.get(name, model_path)
                except ModelUnavailable:
                    pass
            if self._load is None:
                from digitlab.counting import HEIGHT, WIDTH, Counter

                counter = Counter.load()
                if counter is not None:  # its first call traces it: not on a student's first number
                    counter.counts_inputs(np.zeros((1, HEIGHT, WIDTH), np.float32))

        # Not a daemon: a process leaving while a daemon thread is inside TensorFlow can hang or abort
        # at exit; this way an exit waits for the loads (seconds, once per server) and ends cleanly.
        thread = threading.Thread(target=load_all, name="digitlab-warm-up", daemon=False)
        thread.start()
        return thread

    def forget_except(self, names) -> None:
        """Drop the models of runs no longer stored (deleted or renamed)."""
        keep = set(names)
        with self._lock:
            for name in [n for n in self._entries if n not in keep]:
                del self._entries[name]

    def _load_one(self, name: str, model_path: Path):
        try:
            if self._load is not None:
                return self._load(name)
            from digitlab.inference import BATCH_SIZES, Predictor

            # From the folder that holds the file stamped, not whichever models folder is current now.
            predictor = Predictor.load(name, root=model_path.parent.parent)
            # Compile every batch shape now, while loading, rather than on some student's stroke.
            for size in BATCH_SIZES:
                predictor.predict(np.zeros((size, 28, 28), np.float32))
            return predictor
        except Exception as error:  # a broken model.keras or run.json must not break the page for everyone
            return ModelUnavailable(f"{name}: cannot be loaded ({' '.join(str(error).split())[:200]})")
