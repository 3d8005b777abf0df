"""Background training jobs: queued in run folders on disk, trained by worker processes, stopped by a file.

A job is a run folder whose run.json says `queued`, then `running`, then how it ended.
Everything a page shows is read back from that folder, so leaving the page, a second tab,
a refreshed browser or a restarted server all see the same jobs:

- `run.json` holds the spec, knobs and per-epoch history (rewritten after each epoch);
- `progress.json` holds the latest batch report and the running curve (about twice a second);
- `model.keras` is the best epoch so far, `last.weights.h5` the last one;
- a file named `STOP` asks the worker to stop at its next batch.

`JobManager` (one per server) starts queued jobs in worker processes, at most
`max_running` at once, oldest first, and marks a job whose worker died `interrupted`
(keeping its history and best weights). A worker is `python -m digitlab.jobs run NAME`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from digitlab import registry
from digitlab.architectures import PRESETS, ArchSpec

PROGRESS_FILE = "progress.json"
STOP_FILE = "STOP"
LOG_FILE = "worker.log"
LAST_WEIGHTS = "last.weights.h5"
ACTIVE = ("queued", "running")
MAX_JOBS_ENV = "DIGITLAB_MAX_JOBS"
THREADS_ENV = "DIGITLAB_JOB_THREADS"
CURVE_POINTS = 400  # intra-epoch points kept in progress.json
REPO = Path(__file__).resolve().parent.parent


def default_max_running() -> int:
    """Jobs trained at once: `$DIGITLAB_MAX_JOBS`, else one per 4 cores (at least one).

    TensorFlow already spreads one job over every core; two jobs on 2 cores only take
    turns, and each finishes later than if they had queued. 0 holds every job in the queue.
    """
    if os.environ.get(MAX_JOBS_ENV):
        return max(0, int(os.environ[MAX_JOBS_ENV]))
    return max(1, (os.cpu_count() or 1) // 4)


def training_command(name: str, arch: str, spec: ArchSpec, config) -> str:
    """The `python -m digitlab train` line that trains the same run from a shell."""
    from digitlab.training import CONFIG_PRESETS, TrainConfig

    parts = ["python", "-m", "digitlab", "train", "--arch", arch if arch in PRESETS else "small", "--name", name]
    base = CONFIG_PRESETS.get(arch, TrainConfig())
    flags = {
        "protocol": "--protocol", "epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr",
        "lr_decay": "--lr-decay", "optimizer": "--optimizer", "early_stopping": "--patience",
        "train_size": "--train-size", "seed": "--seed", "precision": "--precision", "styles_share": "--styles-share",
    }
    for field, flag in flags.items():
        value = getattr(config, field)
        if value != getattr(base, field) and value is not None:
            parts += [flag, str(value)]
    if config.augment != base.augment:
        parts.append("--augment" if config.augment else "--no-augment")
    if config.restore_best != base.restore_best:
        parts.append("--restore-best" if config.restore_best else "--no-restore-best")
    if arch not in PRESETS or spec != PRESETS[arch]:
        parts += ["--spec-json", json.dumps(spec.to_dict(), separators=(",", ":"))]
    return shlex.join(parts)


def submit(name: str, arch: str, spec: ArchSpec, config, *, root: Path | None = None) -> dict:
    """Queue a new run `name`; raises RegistryError if the name is invalid or taken."""
    record = {
        "name": name, "arch": arch, "spec": spec.to_dict(), "config": config.to_dict(),
        "command": training_command(name, arch, spec, config), "seed": config.seed,
        "status": "queued", "error": None,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "history": {},
        "job": {"submitted": time.time(), "pid": None},
    }
    registry.create_run(name, record, root=root)
    return record


def read_progress(name: str, *, root: Path | None = None) -> dict | None:
    """The latest progress.json of a running job, or None (not started, finished, or mid-write)."""
    try:
        return json.loads((registry.run_path(name, root) / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return None


def _write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _worker_alive(pid: int | None) -> bool:
    """True if `pid` is a live digitlab job worker (a reused pid of another program is not)."""
    if not pid:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            return b"digitlab.jobs" in cmdline.read_bytes()
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Job:
    """A job as a page shows it: its record, latest progress and place in the queue."""

    name: str
    record: dict
    progress: dict | None
    queue_position: int | None  # 1 = next to start; None unless queued

    @property
    def status(self) -> str:
        return self.record.get("status", "unknown")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def history(self) -> dict:
        return self.record.get("history") or {}

    @property
    def fraction(self) -> float:
        """Share of the planned epochs done (1.0 once finished)."""
        if not self.active:
            return 1.0
        if self.progress:
            return float(self.progress["event"].get("fraction") or 0.0)
        return 0.0

    @property
    def evaluating(self) -> bool:
        return bool(self.progress) and self.progress["event"].get("kind") == "evaluating"

    def progress_line(self) -> str:
        """One line for the progress bar: where training is, how fast, how long left."""
        if self.status == "queued":
            return f"waiting: number {self.queue_position} in the queue"
        if self.status == "running" and not self.progress:
            return "starting: loading TensorFlow and the data…"
        if self.status == "running":
            event = self.progress["event"]
            if self.evaluating:
                return f"training done after {event.get('epoch')} epochs; measuring accuracy on the test set…"
            line = (f"epoch {event['epoch']}/{event['epochs']} · step {event['step']}/{event['steps']} · "
                    f"{event['images_per_s']:,.0f} images/s · {format_duration(event.get('elapsed_s'))} elapsed")
            if event.get("eta_s") is not None:
                line += f" · about {format_duration(event['eta_s'])} left"
            return line
        test = ((self.record.get("metrics") or {}).get("test") or {}).get("accuracy")
        line = f"{self.status} after {self.record.get('epochs_run') or 0} epochs"
        if self.record.get("train_time_s") is not None:
            line += f" in {format_duration(self.record['train_time_s'])}"
        if test is not None:
            line += f" · test accuracy {100 * test:.2f} %"
        if self.record.get("error") and self.status not in ("complete", "stopped"):
            line += f" · {self.record['error']}"
        return line

    def live_points(self) -> dict | None:
        """The training curve inside the current epoch, for `charts.accuracy_loss_curves(partial=...)`."""
        points = (self.progress or {}).get("points") or []
        done = len(self.history.get("loss", []))
        points = [p for p in points if p[0] > done]  # finished epochs are drawn from the history
        if not points:
            return None
        return {"x": [p[0] for p in points], "loss": [p[1] for p in points], "accuracy": [p[2] for p in points]}

    def latest_report(self) -> tuple[int, dict] | None:
        """(epoch, classification report) of the last finished epoch's validation pass."""
        matrices = self.history.get("val_confusion_matrix") or []
        if not matrices:
            return None
        from digitlab.metrics import report_from_confusion

        return len(matrices), report_from_confusion(matrices[-1])


class JobManager:
    """Starts queued jobs as worker processes and watches them; one per server process.

    Several managers (a restarted server, a second server on the same folder) agree
    through a lock file, so a job is never started twice.
    """

    def __init__(self, root: Path | None = None, *, max_running: int | None = None, poll_s: float = 0.5,
                 python: str | None = None, background: bool = True):
        self.root = Path(root or registry.models_dir())
        self.max_running = default_max_running() if max_running is None else max_running
        self.poll_s = poll_s
        self.python = python or sys.executable
        self._procs: dict[str, subprocess.Popen] = {}
        self._records: dict[str, tuple[int, dict]] = {}  # name -> (run.json mtime_ns, record)
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.schedule()
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="digitlab-jobs", daemon=True)
            self._thread.start()

    # -- what pages call -------------------------------------------------------------

    def submit(self, name: str, arch: str, spec: ArchSpec, config) -> dict:
        record = submit(name, arch, spec, config, root=self.root)
        self.schedule()
        return record

    def stop(self, name: str) -> str:
        """Stop a running job at its next batch, or take a queued one off the queue; returns what happened."""
        with self._locked():
            record = registry.read_record(name, root=self.root)
            if record.get("status") == "queued":
                record.update(status="cancelled", error="cancelled before it started")
                registry.write_record(name, record, root=self.root)
                return "cancelled"
            if record.get("status") == "running":
                (registry.run_path(name, self.root) / STOP_FILE).touch()
                return "stopping"
            return record.get("status", "unknown")

    def jobs(self, *, include_finished: bool = True) -> list[Job]:
        """Jobs started from the app: running, then queued (in order), then finished, newest first."""
        records = [r for r in self._job_records() if include_finished or r.get("status") in ACTIVE]
        queued = sorted((r for r in records if r.get("status") == "queued"), key=lambda r: r["job"]["submitted"])
        position = {r["name"]: i + 1 for i, r in enumerate(queued)}
        order = {"running": 0, "queued": 1}
        records.sort(key=lambda r: (order.get(r.get("status"), 2),
                                    r["job"]["submitted"] if r.get("status") == "queued" else -r["job"]["submitted"]))
        return [
            Job(r["name"], r, read_progress(r["name"], root=self.root) if r.get("status") == "running" else None,
                position.get(r["name"]))
            for r in records
        ]

    def job(self, name: str) -> Job | None:
        """One job by name (None if there is no such job)."""
        return next((job for job in self.jobs() if job.name == name), None)

    def _job_records(self) -> list[dict]:
        """The records of every job folder, parsed again only when its run.json changed.

        Pages ask every second or two; the reference runs' long records need not be read each time.
        """
        records = []
        seen = set()
        for folder in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            try:
                stamp = (folder / registry.RUN_FILE).stat().st_mtime_ns
            except OSError:
                continue
            seen.add(folder.name)
            cached = self._records.get(folder.name)
            if cached is None or cached[0] != stamp:
                try:
                    cached = (stamp, registry.read_record(folder.name, root=self.root))
                except registry.RegistryError:
                    continue
                self._records[folder.name] = cached
            if "job" in cached[1]:
                records.append(cached[1])
        for gone in set(self._records) - seen:
            del self._records[gone]
        return records

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)

    # -- scheduling ----------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        """This process's lock and a lock file shared with any other server on the same folder."""
        with self._lock:
            with open(self.root / ".jobs.lock", "a") as handle:
                try:
                    import fcntl
                except ImportError:  # Windows: one server per folder
                    yield
                    return
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            try:
                self.schedule()
            except Exception as exc:  # a broken folder must not kill the scheduler
                print(f"digitlab jobs: {exc}", file=sys.stderr)

    def schedule(self) -> None:
        """Mark dead workers' jobs, then start queued jobs while there is room."""
        if not self.root.is_dir():
            return  # no models folder (yet): nothing to schedule
        with self._locked():
            runs, _ = registry.list_runs(root=self.root)
            records = {run.name: run.record for run in runs if "job" in run.record}
            for name, record in records.items():
                if record.get("status") == "running":
                    self._check_worker(name, record)
            running = sum(1 for r in records.values() if r.get("status") == "running")
            queued = sorted((r for r in records.values() if r.get("status") == "queued"),
                            key=lambda r: r["job"]["submitted"])
            for record in queued[: max(0, self.max_running - running)]:
                self._start(record)

    def _check_worker(self, name: str, record: dict) -> None:
        proc = self._procs.get(name)
        if proc is not None:
            if proc.poll() is None:
                return
            del self._procs[name]
            code = proc.returncode
        elif _worker_alive(record["job"].get("pid")):
            return  # started by an earlier server; still training
        else:
            code = None
        # The worker ended without writing how: a crash, a kill, or a server restart.
        try:
            record = registry.read_record(name, root=self.root)  # it may have finished meanwhile
        except registry.RegistryError:
            return
        if record.get("status") != "running":
            return
        folder = registry.run_path(name, self.root)
        has_model = (folder / registry.MODEL_FILE).is_file()
        if code is not None and code > 0:
            status, error = "failed", f"the training process exited with code {code}: {_last_line(folder / LOG_FILE)}"
        else:
            status, error = "interrupted", "the training process ended early (server restarted or process killed)"
        record.update(status=status, error=error,
                      weights="best epoch so far (lowest validation loss)" if has_model else None)
        registry.write_record(name, record, root=self.root)
        (folder / PROGRESS_FILE).unlink(missing_ok=True)

    def _start(self, record: dict) -> None:
        name = record["name"]
        folder = registry.run_path(name, self.root)
        threads = max(1, (os.cpu_count() or 1) // max(1, self.max_running))
        env = {**os.environ, THREADS_ENV: str(threads), "OMP_NUM_THREADS": str(threads),
               registry.MODELS_ENV_VAR: str(self.root), "TF_CPP_MIN_LOG_LEVEL": "2",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        with open(folder / LOG_FILE, "ab") as log:
            proc = subprocess.Popen([self.python, "-m", "digitlab.jobs", "run", name], cwd=REPO, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._procs[name] = proc
        record["status"] = "running"
        record["job"] = {**record["job"], "pid": proc.pid, "started": time.time()}
        registry.write_record(name, record, root=self.root)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no log"


# -- the worker process ------------------------------------------------------------------


class ProgressWriter:
    """The worker's progress function: writes progress.json and, after each epoch, run.json."""

    def __init__(self, name: str, root: Path, record: dict):
        self.name, self.root, self.record = name, root, record
        self.folder = registry.run_path(name, root)
        self.points: list[list] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict) -> None:
        with self.lock:
            if event["kind"] == "evaluating":
                previous = read_progress(self.name, root=self.root) or {}
                event = {**previous.get("event", {}), "kind": "evaluating"}
            elif event["kind"] == "batch":
                x = event["epoch"] - 1 + event["step"] / event["steps"]
                self.points.append([round(x, 4), event["loss"], event["accuracy"]])
                del self.points[:-CURVE_POINTS]
            elif event["kind"] == "epoch":
                history = self.record.setdefault("history", {})
                for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                    history.setdefault(key, []).append(event.get(key))
                if "val_confusion_matrix" in event:
                    history.setdefault("val_confusion_matrix", []).append(event["val_confusion_matrix"])
                self.record["epochs_run"] = len(history["loss"])
                registry.write_record(self.name, self.record, root=self.root)
            _write_json_atomic(self.folder / PROGRESS_FILE,
                               {"event": event, "points": self.points, "updated": time.time()})


def _checkpointer(spec: ArchSpec, folder: Path):
    import concurrent.futures

    import keras

    from digitlab.architectures import build_model

    class Checkpointer(keras.callbacks.Callback):
        """After each epoch: the last weights to last.weights.h5, the best (lowest val loss) to model.keras.

        Only copying the weights happens on the training thread; writing the files happens on
        a thread of its own, so checkpoints do not slow training down.
        """

        def __init__(self):
            super().__init__()
            self.best_loss = math.inf
            self.serving = build_model(spec)  # float32, whatever precision trains
            self.writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
            self.pending = []

        def _write(self, weights, best: bool):
            self.serving.set_weights(weights)
            tmp = folder / f".last.{uuid.uuid4().hex[:8]}.weights.h5"
            self.serving.save_weights(tmp)
            os.replace(tmp, folder / LAST_WEIGHTS)
            if best:
                tmp = folder / f".model.{uuid.uuid4().hex[:8]}.keras"
                self.serving.save(tmp, include_optimizer=False)
                os.replace(tmp, folder / registry.MODEL_FILE)

        def on_epoch_end(self, epoch, logs=None):
            val_loss = (logs or {}).get("val_loss")
            best = val_loss is not None and float(val_loss) < self.best_loss
            if best:
                self.best_loss = float(val_loss)
            for future in [f for f in self.pending if f.done()]:
                future.result()  # a failed write surfaces here
                self.pending.remove(future)
            self.pending.append(self.writer.submit(self._write, self.model.get_weights(), best))

        def on_train_end(self, logs=None):
            self.writer.shutdown(wait=True)
            for future in self.pending:
                future.result()

    return Checkpointer()


def run_worker(name: str, root: Path | None = None) -> int:
    """Train queued-or-running job `name` in this process; returns the exit status."""
    root = Path(root or registry.models_dir())
    folder = registry.run_path(name, root)
    record = registry.read_record(name, root=root)
    stop = threading.Event()
    finished = threading.Event()

    def on_signal(signum, frame):
        stop.reason = "interrupted"
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stop_file():
        while not finished.wait(0.3):
            if (folder / STOP_FILE).exists():
                stop.reason = "stopped"
                stop.set()
                return

    threading.Thread(target=watch_stop_file, daemon=True).start()
    record.update(status="running", error=None)
    record["job"] = {**record.get("job", {}), "pid": os.getpid(), "started": time.time()}
    registry.write_record(name, record, root=root)
    try:
        import tensorflow as tf

        threads = int(os.environ.get(THREADS_ENV, "0"))
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2) if threads > 1 else 1)
        from digitlab import training

        spec = ArchSpec.from_dict(record["spec"])
        config = training.TrainConfig.from_dict(record["config"])
        writer = ProgressWriter(name, root, record)
        final = training.train_run(
            name, record["arch"], spec, config, command=record["command"], progress=writer, stop_event=stop,
            root=root, extra_callbacks=[_checkpointer(spec, folder)], record_extra={"job": record["job"]},
        )
        print(f"{name}: {final['status']}, test accuracy {final['metrics']['test']['accuracy']:.4f}", flush=True)
        return 0
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        print(f"{name}: failed: {message}", flush=True)
        try:
            current = registry.read_record(name, root=root)
        except registry.RegistryError:
            current = record
        if current.get("status") in ACTIVE:  # train_run did not get as far as storing the failure
            current.update(status="failed", error=message)
            registry.write_record(name, current, root=root)
        return 1
    finally:
        finished.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digitlab.jobs", description="digitlab's training worker")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train one queued job (the app starts these)")
    run.add_argument("name")
    args = parser.parse_args(argv)
    return run_worker(args.name)


if __name__ == "__main__":
    sys.exit(main())
