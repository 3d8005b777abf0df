"""The worker process: `python -m digitlab.jobs.worker NAME` trains one queued job and writes its files as it goes."""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import keras
import tensorflow as tf

from digitlab import registry, training
from digitlab.architectures import ArchSpec, build_model
from digitlab.jobs.files import CURVE_POINTS, LAST_WEIGHTS, STOP_FILE, Progress, read_progress, write_progress
from digitlab.jobs.queue import THREADS_ENV
from digitlab.records import ProgressEvent, RunRecord


class ProgressWriter:
    """The worker's progress function: writes progress.json and, after each epoch, run.json."""

    def __init__(self, record: RunRecord, root: Path):
        self.record, self.root = record, root
        self.folder = registry.run_path(record.name, root)
        self.points: list[list] = []
        self.lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self.lock:
            if event.kind == "evaluating":
                previous = read_progress(self.record.name, root=self.root)
                event = previous.event.replace(kind="evaluating") if previous else event
            elif event.kind == "batch":
                x = event.epoch - 1 + event.step / event.steps
                self.points.append([round(x, 4), event.loss, event.accuracy])
                del self.points[:-CURVE_POINTS]
            elif event.kind == "epoch":
                history = self.record.history
                for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                    history.setdefault(key, []).append(getattr(event, key))
                if event.val_confusion_matrix is not None:
                    history.setdefault("val_confusion_matrix", []).append(event.val_confusion_matrix)
                self.record.epochs_run = len(history["loss"])
                registry.write_record(self.record.name, self.record, root=self.root)
            write_progress(self.folder, Progress(event, self.points, time.time()))


class Checkpointer(keras.callbacks.Callback):
    """After each epoch: the last weights to last.weights.h5, the best (lowest val loss) to model.keras.

    Only copying the weights happens on the training thread; writing the files happens on
    a thread of its own, so checkpoints do not slow training down.
    """

    def __init__(self, spec: ArchSpec, folder: Path):
        super().__init__()
        self.folder = folder
        self.best_loss = math.inf
        self.serving = build_model(spec)  # float32, whatever precision trains
        self.writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self.pending = []

    def _write(self, weights, best: bool):
        self.serving.set_weights(weights)
        with registry.atomic_file(self.folder / LAST_WEIGHTS) as tmp:
            self.serving.save_weights(tmp)
        if best:
            with registry.atomic_file(self.folder / registry.MODEL_FILE) as tmp:
                self.serving.save(tmp, include_optimizer=False)

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
    record.status, record.error = "running", None
    record.job.pid, record.job.started = os.getpid(), time.time()
    registry.write_record(name, record, root=root)
    try:
        threads = int(os.environ.get(THREADS_ENV, "0"))
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2) if threads > 1 else 1)
        final = training.train_run(record, progress=ProgressWriter(record, root), stop_event=stop, root=root,
                                   extra_callbacks=[Checkpointer(record.spec, folder)])
        print(f"{name}: {final.status}, test accuracy {final.test_accuracy:.4f}", flush=True)
        return 0
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        print(f"{name}: failed: {message}", flush=True)
        try:
            current = registry.read_record(name, root=root)
        except registry.RegistryError:
            current = record
        if current.active:  # train_run did not get as far as storing the failure
            registry.write_record(name, current.replace(status="failed", error=message), root=root)
        return 1
    finally:
        finished.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digitlab.jobs.worker", description="digitlab's training worker")
    parser.add_argument("name", help="the queued job to train (the app starts these)")
    args = parser.parse_args(argv)
    return run_worker(args.name)


if __name__ == "__main__":
    sys.exit(main())
