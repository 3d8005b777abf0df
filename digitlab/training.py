"""Training engine: Keras `fit` driven by an ArchSpec and a TrainConfig, reporting to a plain callable."""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import platform
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

import digitlab
from digitlab import data as data_module
from digitlab import registry, strokes
from digitlab.architectures import ArchSpec, build_model
from digitlab.augmentation import Augmentation, training_dataset
from digitlab.metrics import classification_report, per_class_accuracy

OPTIMIZERS = ("adam", "sgd", "rmsprop")
PRECISIONS = ("auto", "float32", "bfloat16")
STRATEGIES = ("auto", "none", "mirrored")

ProgressFn = Callable[[dict], None]


@dataclass(frozen=True)
class TrainConfig:
    """The training knobs both papers vary. `batch_size` is per replica: the global batch is
    `batch_size` x replicas, Paper H's rule for several accelerators.

    `lr_decay` multiplies the learning rate once per epoch (Paper H states 0.99), applied smoothly
    per step as Keras' ExponentialDecay. `early_stopping` is the patience in epochs on
    validation loss (Paper H: 2), counted once BatchNorm has settled (`bn_settling_epochs`);
    `restore_best` then keeps the epoch of lowest validation loss.
    """

    protocol: str = "full"
    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_decay: float | None = None
    optimizer: str = "adam"
    early_stopping: int | None = None
    restore_best: bool = True
    train_size: int | None = None
    seed: int = 0
    precision: str = "auto"
    strategy: str = "auto"
    augment: bool = False
    styles_share: float = 0.0  # share of the training set drawn from `strokes` (styles MNIST lacks)

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if self.learning_rate <= 0:
            raise ValueError("learning rate must be positive")
        if self.lr_decay is not None and not 0 < self.lr_decay <= 1:
            raise ValueError("learning-rate decay must be in (0, 1]")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
        if not 0 <= self.styles_share <= 0.5:
            raise ValueError("styles share must be between 0 and 0.5 (MNIST stays the bulk of training)")
        if self.train_size is not None and self.train_size < 10:
            raise ValueError("training-set size must be at least 10 (one image per digit)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


PAPER_S_CONFIG = TrainConfig(protocol="paper-s", epochs=40, batch_size=32, learning_rate=1e-3, restore_best=False)
# Paper H as its text states it: Adam 1e-3 decayed x0.99, batch 1,000. Here that reads
# 98.9-99.2 % of MNIST's test digits (README), not the paper's 99.40 %.
PAPER_H_STATED_CONFIG = TrainConfig(
    protocol="paper-h", epochs=100, batch_size=1000, learning_rate=1e-3, lr_decay=0.99, early_stopping=2
)
# Paper H's network is the one of Martin Gorner's codelab "TensorFlow, Keras and deep
# learning, without a PhD" (keras_05_mnist_batch_norm), where Adam starts at 0.01 and decays
# per epoch. With that schedule, the paper's batch rule (128 x accelerators) and its early
# stopping, the network behaves as the paper reports its run (converged within 10 epochs,
# best epoch near 8, 99.8 % train) and reads 99.18-99.33 % of the test digits over seeds
# 0-4 (seed 0: 99.33 %); the stated knobs do not. `paper-h` trains this way.
PAPER_H_CONFIG = TrainConfig(
    protocol="paper-h", epochs=30, batch_size=128, learning_rate=1e-2, lr_decay=0.7, early_stopping=2
)
# The knobs each architecture preset was published with (Paper S does not state its
# optimizer or batch size: Keras' defaults, Adam and 32, are assumed).
CONFIG_PRESETS: dict[str, TrainConfig] = {
    "paper-s-1": PAPER_S_CONFIG,
    "paper-s-2": PAPER_S_CONFIG,
    "paper-s-3": PAPER_S_CONFIG,
    "paper-s-4": PAPER_S_CONFIG,
    "paper-h": PAPER_H_CONFIG,
    "paper-h-stated": PAPER_H_STATED_CONFIG,
    # 15 % of its training digits drawn from strokes in styles MNIST lacks: chosen on held-out
    # generated styles and MNIST validation (pilot runs in the README), never on Semeion.
    "digitlab": TrainConfig(protocol="full", epochs=20, batch_size=128, learning_rate=2e-3, lr_decay=0.85,
                            early_stopping=5, augment=True, styles_share=0.15),
    "small": TrainConfig(protocol="full", epochs=5, batch_size=128),
}


def cpu_supports_bfloat16() -> bool:
    """True where the CPU has AMX or AVX512-BF16, which oneDNN uses for bfloat16 math."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(choice: str) -> str:
    """'auto' -> 'bfloat16' on a GPU or a CPU with bfloat16 units, else 'float32'."""
    if choice != "auto":
        return choice
    if tf.config.list_physical_devices("GPU") or cpu_supports_bfloat16():
        return "bfloat16"
    return "float32"


def resolve_strategy(choice: str):
    """A MirroredStrategy over every GPU (or, without GPUs, every logical CPU) or None.

    'auto' mirrors only when more than one GPU is visible.
    """
    gpus = tf.config.list_logical_devices("GPU")
    if choice == "none" or (choice == "auto" and len(gpus) < 2):
        return None
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices=devices)


class ProgressCallback(keras.callbacks.Callback):
    """Forwards training progress to `report(event)` and honours a stop flag.

    Events are dicts with `kind` "batch" (at most every `min_interval` seconds, and at
    each epoch's last batch) or "epoch" (after the epoch's validation). Both carry epoch,
    epochs, step, steps, fraction (of the whole run), loss, accuracy, images_per_s
    (training steps only, validation excluded) and eta_s; epoch events add val_loss,
    val_accuracy, learning_rate, elapsed_s, partial (the epoch was cut short by Stop) and,
    when the model tracks it, val_confusion_matrix (10x10 counts of the epoch's validation).

    Batch ends are handled off the training thread (`async_safe`): a synchronous batch
    hook makes Keras wait for every step's numbers before starting the next step, which
    cost about a fifth of the throughput. Counting steps and checking the stop flag
    happen at batch *begin*, which Keras calls cheaply on the training thread.
    """

    async_safe = True

    def __init__(self, report: ProgressFn | None, *, epochs: int, steps: int, global_batch: int,
                 stop_event: threading.Event | None = None, min_interval: float = 0.5):
        super().__init__()
        self.report = report or (lambda event: None)
        self.epochs = epochs
        self.steps = steps
        self.global_batch = global_batch
        self.stop_event = stop_event
        self.min_interval = min_interval
        self.train_seconds = 0.0  # finished epochs' training steps
        self.images_seen = 0
        self.stopped_by_user = False
        self.lock = threading.Lock()

    def on_train_begin(self, logs=None):
        self.run_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        with self.lock:
            self.epoch = epoch
            self.epoch_start = self.last_report = time.perf_counter()
            self.steps_done = 0
            self.in_steps = True

    def on_train_batch_begin(self, batch, logs=None):
        self.steps_done = batch  # steps finished before this one
        if self.stop_event is not None and self.stop_event.is_set():
            self.stopped_by_user = True
            self.model.stop_training = True

    def _close_steps(self):
        with self.lock:
            if self.in_steps:
                self.steps_done = min(self.steps_done + 1, self.steps)  # the last step has finished too
                self.train_seconds += time.perf_counter() - self.epoch_start
                self.images_seen += self.steps_done * self.global_batch
                self.in_steps = False

    def _common(self, logs, step: int) -> dict:
        seconds = self.train_seconds + (time.perf_counter() - self.epoch_start if self.in_steps else 0.0)
        images = self.images_seen + (step * self.global_batch if self.in_steps else 0)
        done = self.epoch * self.steps + step
        total = self.epochs * self.steps
        elapsed = time.perf_counter() - self.run_start
        return {
            "epoch": self.epoch + 1, "epochs": self.epochs, "step": step, "steps": self.steps,
            "fraction": done / total, "loss": _float(logs.get("loss")), "accuracy": _float(logs.get("accuracy")),
            "images_per_s": images / seconds if seconds > 0 else 0.0,
            "eta_s": elapsed / done * (total - done) if done else None, "elapsed_s": elapsed,
        }

    def on_train_batch_end(self, batch, logs=None):
        with self.lock:
            if not self.in_steps or batch < self.steps_done - 1:
                return  # a late report from a thread, after the epoch moved on
            now = time.perf_counter()
            if now - self.last_report < self.min_interval and batch + 1 < self.steps:
                return
            self.last_report = now
            event = {"kind": "batch", **self._common(logs or {}, batch + 1)}
        self.report(event)

    def on_test_begin(self, logs=None):
        self._close_steps()

    def on_epoch_end(self, epoch, logs=None):
        self._close_steps()
        logs = logs or {}
        event = {
            "kind": "epoch", **self._common(logs, self.steps_done), "val_loss": _float(logs.get("val_loss")),
            "val_accuracy": _float(logs.get("val_accuracy")), "learning_rate": _float(logs.get("learning_rate")),
            "partial": self.steps_done < self.steps,
        }
        if logs.get("val_confusion") is not None:
            event["val_confusion_matrix"] = _counts(logs["val_confusion"])
        self.report(event)


class ConfusionMatrixMetric(keras.metrics.Metric):
    """Running 10x10 confusion counts (rows true, columns predicted) as a Keras metric.

    Keras computes it inside the validation pass it already makes each epoch, so live
    confusion matrices cost no extra pass over the validation images.
    """

    def __init__(self, num_classes: int = 10, name: str = "confusion", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.counts = self.add_variable(shape=(num_classes * num_classes,), initializer="zeros",
                                        dtype="float32", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):
        k = self.num_classes
        truth = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
        cells = keras.ops.bincount(truth * k + predicted, minlength=k * k)[: k * k]
        self.counts.assign_add(keras.ops.cast(cells, "float32"))

    def result(self):
        return keras.ops.reshape(self.counts, (self.num_classes, self.num_classes))

    def reset_state(self):
        self.counts.assign(keras.ops.zeros_like(self.counts))

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name}


def _counts(matrix) -> list[list[int]]:
    return np.rint(np.asarray(matrix)).astype(np.int64).tolist()


class BestWeights(keras.callbacks.Callback):
    """Remembers the weights of the epoch with the lowest validation loss; optional patience.

    Keras' EarlyStopping restores the best weights only when its patience runs out; this
    keeps them for every way a run can end (all epochs done, Stop pressed, interrupted).
    Patience starts counting only after `settling_epochs` (see `bn_settling_epochs`).
    """

    def __init__(self, patience: int | None = None, settling_epochs: int = 0):
        super().__init__()
        self.patience = patience
        self.settling_epochs = settling_epochs
        self.best_loss = math.inf
        self.best_epoch = None
        self.best_weights = None
        self.early_stopped = False

    def on_epoch_end(self, epoch, logs=None):
        val_loss = (logs or {}).get("val_loss")
        if val_loss is None:
            return
        if float(val_loss) < self.best_loss:
            self.best_loss = float(val_loss)
            self.best_epoch = epoch + 1
            self.best_weights = self.model.get_weights()
        elif self.patience is not None and epoch + 1 - max(self.best_epoch, self.settling_epochs) >= self.patience:
            self.early_stopped = True
            self.model.stop_training = True


BN_SETTLED = 0.05  # BatchNorm's running statistics count as settled when this little is left of their start


def bn_settling_epochs(spec: ArchSpec, steps_per_epoch: int) -> int:
    """Epochs until BatchNorm's running mean and variance are mostly this run's own (0 without BN).

    Validation runs on those running statistics, which start at mean 0, variance 1 and move
    by (1 - momentum) per step. With Paper H's batch of 1,000 there are only 55 steps per
    epoch, so at Keras' momentum of 0.99 over half the start remains after epoch 1 and the
    validation loss can rise while the network is learning fast: float32 seed 0 stopped at
    epoch 3 with 92 % that way. Early stopping waits until at most 5 % is left.
    """
    if not any(conv.batch_norm for conv in spec.convs) or spec.bn_momentum == 0:
        return 0
    steps = math.log(BN_SETTLED) / math.log(spec.bn_momentum)
    return math.ceil(steps / steps_per_epoch)


def _float(value):
    return None if value is None else float(value)


@dataclass
class TrainResult:
    """What `train` returns: a float32 model with the kept weights and how training went."""

    model: keras.Model
    history: dict
    status: str  # "complete", "stopped" (Stop pressed) or "interrupted" (Ctrl-C)
    epochs_run: int
    best_epoch: int | None
    early_stopped: bool
    settling_epochs: int  # no early stop before this epoch: BatchNorm's statistics still settling
    train_time_s: float
    images_per_s: float
    precision: str
    replicas: int
    global_batch_size: int


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    learning_rate = config.learning_rate
    if config.lr_decay is not None and config.lr_decay < 1:
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            config.learning_rate, decay_steps=steps_per_epoch, decay_rate=config.lr_decay
        )
    return {
        "adam": keras.optimizers.Adam,
        "sgd": lambda learning_rate: keras.optimizers.SGD(learning_rate, momentum=0.9),
        "rmsprop": keras.optimizers.RMSprop,
    }[config.optimizer](learning_rate=learning_rate)


def train(spec: ArchSpec, config: TrainConfig, data, *, progress: ProgressFn | None = None,
          stop_event: threading.Event | None = None, extra_callbacks=()) -> TrainResult:
    """Train `spec` on `data` (a `digitlab.data.Split`) with `config`; never raises on Stop or Ctrl-C.

    Returns a float32 model (whatever precision trained it) holding the best epoch's
    weights when `config.restore_best`, else the last weights.
    """
    keras.utils.set_random_seed(config.seed)
    precision = resolve_precision(config.precision)
    strategy = resolve_strategy(config.strategy)
    replicas = strategy.num_replicas_in_sync if strategy else 1
    global_batch = config.batch_size * replicas
    steps = math.ceil(len(data.y_train) / global_batch)
    policy = "mixed_bfloat16" if precision == "bfloat16" else None

    def build_and_compile():
        model = build_model(spec, dtype_policy=policy)
        model.compile(
            optimizer=make_optimizer(config, steps),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy", ConfusionMatrixMetric()],
        )
        return model

    if strategy:
        with strategy.scope():
            model = build_and_compile()
    else:
        model = build_and_compile()

    reporter = ProgressCallback(progress, epochs=config.epochs, steps=steps, global_batch=global_batch,
                                stop_event=stop_event)
    settling_epochs = bn_settling_epochs(spec, steps)
    best = BestWeights(config.early_stopping, settling_epochs)
    status = "complete"
    history: dict[str, list] = {}

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                if key == "val_confusion":
                    history.setdefault("val_confusion_matrix", []).append(_counts(value))
                elif key != "confusion":  # the training-side matrix mixes a whole epoch of changing weights
                    history.setdefault(key, []).append(float(value))

    if config.augment:
        inputs = {"x": training_dataset(data.x_train, data.y_train, global_batch, Augmentation(), config.seed)}
    else:
        inputs = {"x": data.x_train, "y": data.y_train, "batch_size": global_batch}
    try:
        model.fit(
            **inputs,
            epochs=config.epochs,
            validation_data=(data.x_val, data.y_val),
            # History first: a Ctrl-C right after a progress line must not lose that epoch.
            callbacks=[Record(), best, reporter, *extra_callbacks],
            verbose=0,
        )
    except KeyboardInterrupt:
        status = "interrupted"
    if reporter.stopped_by_user:
        # A Stop button leaves the run "stopped"; a Ctrl-C handler may name its own reason.
        status = getattr(stop_event, "reason", "stopped")

    if config.restore_best and best.best_weights is not None:
        model.set_weights(best.best_weights)
    # Serve and store in float32: the trained variables already are float32 under mixed precision.
    final = build_model(spec)
    final.set_weights(model.get_weights())
    train_seconds = reporter.train_seconds
    return TrainResult(
        model=final,
        history=history,
        status=status,
        epochs_run=len(history.get("loss", [])),
        best_epoch=best.best_epoch,
        early_stopped=best.early_stopped,
        settling_epochs=settling_epochs,
        train_time_s=time.perf_counter() - reporter.run_start,
        images_per_s=reporter.images_seen / train_seconds if train_seconds else 0.0,
        precision=precision,
        replicas=replicas,
        global_batch_size=global_batch,
    )


def predict_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """(n, 28, 28, 1) float32 in [0, 1] -> (n, 10) float32 probabilities, in batches."""
    return np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float32)


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, loss, per-class P/R/F1, confusion matrix and per-class accuracy on a labelled set."""
    probabilities = predict_probabilities(model, images)
    predictions = probabilities.argmax(axis=1)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    report = classification_report(labels, predictions)
    report["loss"] = float(-np.mean(np.log(picked)))
    report["per_class_accuracy"] = per_class_accuracy(labels, predictions).tolist()
    report["count"] = int(len(labels))
    return report


def library_versions() -> dict:
    return {
        "digitlab": digitlab.__version__, "tensorflow": tf.__version__, "keras": keras.__version__,
        "numpy": np.__version__, "python": platform.python_version(),
    }


def train_run(name: str, arch: str, spec: ArchSpec, config: TrainConfig, *, command: str,
              progress: ProgressFn | None = None, stop_event: threading.Event | None = None,
              root: Path | None = None, extra_callbacks=(), record_extra: dict | None = None) -> dict:
    """Load the data, train, evaluate and store run `name`; return its record.

    The run is stored whatever happens: `complete`, `stopped` (Stop pressed),
    `interrupted` (Ctrl-C) with the weights learned so far, or `failed` (with the error
    message and no model) before the error is raised again.
    """
    registry.validate_name(name)
    # Missing data is the user's to fix, not a failed run: it raises before anything is stored.
    split = data_module.load_split(config.protocol, train_size=config.train_size, seed=config.seed)
    mnist_sizes = split.sizes()  # the record's data sizes speak of MNIST; generated styles are counted apart
    if config.styles_share:
        split = strokes.with_styles(split, config.styles_share, config.seed)
    record = {
        "name": name, "arch": arch, "spec": spec.to_dict(), "config": config.to_dict(), "command": command,
        "seed": config.seed, "status": "running", "error": None,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "cpu_bfloat16": cpu_supports_bfloat16(),
                    "gpus": len(tf.config.list_physical_devices("GPU"))},
        "versions": library_versions(),
        "augmentation": Augmentation().to_dict() if config.augment else None,
        "styles": {"share": config.styles_share, "count": len(split.y_train) - mnist_sizes["train"],
                   "seed": strokes.TRAIN_SEED_OFFSET + config.seed} if config.styles_share else None,
        "data": {
            "protocol": config.protocol, "source": os.environ.get(data_module.ENV_VAR) or "keras.datasets.mnist",
            "sizes": mnist_sizes, "train_size": config.train_size,
        },
        **(record_extra or {}),
    }
    try:
        result = train(spec, config, split, progress=progress, stop_event=stop_event,
                       extra_callbacks=extra_callbacks)
        model = result.model
        if progress is not None:
            progress({"kind": "evaluating"})
        test = evaluate(model, split.x_test, split.y_test)
        # Only Paper S tests on a subset; the others' test set is MNIST's 10,000 already.
        mnist_test = evaluate(model, *data_module.mnist_test_set()) if config.protocol == "paper-s" else test
        summary = lambda report: {"accuracy": report["accuracy"], "loss": report["loss"]}  # noqa: E731
        record.update(
            status=result.status,
            history=result.history,
            epochs_run=result.epochs_run,
            best_epoch=result.best_epoch,
            early_stopped=result.early_stopped,
            early_stopping_from_epoch=result.settling_epochs + 1 if config.early_stopping else None,
            weights="best epoch (lowest validation loss)" if config.restore_best and result.best_epoch else "last epoch",
            params=int(model.count_params()),
            train_time_s=round(result.train_time_s, 2),
            images_per_s=round(result.images_per_s, 1),
            precision=result.precision,
            replicas=result.replicas,
            global_batch_size=result.global_batch_size,
            metrics={
                "train": summary(evaluate(model, split.x_train, split.y_train)),
                "validation": summary(evaluate(model, split.x_val, split.y_val)),
                "test": test,
                "mnist_test": mnist_test,
            },
        )
    except BaseException as exc:
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        registry.save_run(name, record, root=root)
        raise
    registry.save_run(name, record, model, root=root)
    return record


# Used when no run has been timed on this machine yet: a per-step overhead and a FLOP rate
# measured once on the 2-core development machine in bfloat16.
FALLBACK_STEP_S = 0.008
FALLBACK_FLOPS_PER_S = 9.4e10


def timing_model(records: list[dict]) -> tuple[float, float, int]:
    """Fit seconds per training image = step_s / batch + 3 * flops / rate on finished runs.

    `records` are run.json dicts; runs trained with augmentation (its input pipeline is
    slower) or without a measured throughput are left out. Returns (step_s, flops_per_s,
    runs used); the fallback constants when fewer than two runs fit.
    """
    from digitlab.architectures import flops_per_image

    rows, targets = [], []
    for record in records:
        config = record.get("config") or {}
        if not record.get("images_per_s") or config.get("augment") or record.get("replicas", 1) != 1:
            continue
        try:
            flops = flops_per_image(ArchSpec.from_dict(record["spec"]))
        except (ValueError, KeyError, TypeError):
            continue
        rows.append([1.0 / record["global_batch_size"], 3.0 * flops])
        targets.append(1.0 / record["images_per_s"])
    if len(rows) >= 2:
        # Relative errors: a small network's seconds matter as much as a big one's.
        weights = 1.0 / np.array(targets)
        (step_s, seconds_per_flop), *_ = np.linalg.lstsq(np.array(rows) * weights[:, None], np.ones(len(rows)),
                                                         rcond=None)
        if step_s > 0 and seconds_per_flop > 0:
            return float(step_s), float(1.0 / seconds_per_flop), len(rows)
    return FALLBACK_STEP_S, FALLBACK_FLOPS_PER_S, 0


def estimate_epoch_seconds(spec: ArchSpec, config: TrainConfig, records: list[dict]) -> dict:
    """Rough seconds per epoch before training: training steps plus the validation pass.

    Based on `timing_model(records)`, within about a third of the measured time for the
    reference runs on the development machine; `runs_used` says how many timed runs it rests on
    (0: a built-in guess). Real throughput shows once the job runs.
    """
    from digitlab.architectures import flops_per_image

    step_s, flops_per_s, used = timing_model(records)
    sizes = data_module.planned_sizes(config.protocol, config.train_size)
    sizes["train"] += strokes.styles_count(sizes["train"], config.styles_share)  # generated styles train too
    flops = flops_per_image(spec)
    steps = math.ceil(sizes["train"] / config.batch_size)
    train_s = steps * step_s + sizes["train"] * 3 * flops / flops_per_s
    if config.augment:
        train_s *= 1.5  # the augmentation pipeline, measured on the digitlab preset
    validation_s = math.ceil(sizes["validation"] / config.batch_size) * step_s / 3 + sizes["validation"] * flops / flops_per_s
    return {"seconds": train_s + validation_s, "train_images": sizes["train"],
            "validation_images": sizes["validation"], "runs_used": used}
