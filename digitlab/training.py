"""Training engine: Keras `fit` driven by an ArchSpec and a TrainConfig, reporting to a plain callable."""

from __future__ import annotations

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
from digitlab import pentraces, realworld, registry, strokes
from digitlab.architectures import ArchSpec, build_model
from digitlab.augmentation import augmentation, training_dataset
from digitlab.config import TrainConfig, cpu_supports_bfloat16, teacher_weights
from digitlab.metrics import classification_report, per_class_accuracy
from digitlab.records import ProgressEvent, RunRecord
from digitlab.snapshots import EpochSnapshots

ProgressFn = Callable[[ProgressEvent], None]


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

    Events are `ProgressEvent`s of kind "batch" (at most every `min_interval` seconds, and
    at each epoch's last batch) or "epoch" (after the epoch's validation, with its figures
    and, when the model tracks it, the 10x10 counts of the epoch's validation).
    `images_per_s` counts training steps only, validation excluded.

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
        """The fields every event carries, at `step` of the current epoch."""
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
            event = ProgressEvent("batch", **self._common(logs or {}, batch + 1))
        self.report(event)

    def on_test_begin(self, logs=None):
        self._close_steps()

    def on_epoch_end(self, epoch, logs=None):
        self._close_steps()
        logs = logs or {}
        confusion = logs.get("val_confusion")
        self.report(ProgressEvent(
            "epoch", **self._common(logs, self.steps_done), val_loss=_float(logs.get("val_loss")),
            val_accuracy=_float(logs.get("val_accuracy")), learning_rate=_float(logs.get("learning_rate")),
            partial=self.steps_done < self.steps, val_confusion_matrix=None if confusion is None else _counts(confusion),
        ))


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


class DistillingModel(keras.Model):
    """The student's own layers, trained on a mix of the labels' loss and its teachers' probabilities.

    `teach` maps an input batch to (batch, 10) probabilities; it is a plain function so its
    models are neither tracked nor trained. Validation loss stays the labels' loss alone, so
    the best epoch means what it means in every other run.
    """

    def __init__(self, student: keras.Model, teach, share: float):
        super().__init__(inputs=student.inputs, outputs=student.outputs, name=student.name)
        self.teach = teach
        self.distill_share = share

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        if not training:
            return loss
        taught = keras.ops.mean(keras.losses.categorical_crossentropy(self.teach(x), y_pred))
        return (1 - self.distill_share) * loss + self.distill_share * taught


def teacher_function(teachers: tuple[str, ...]):
    """The stored runs `teachers` names (see `config.teacher_weights`) as one function: their weighted mean probabilities."""
    weighted = [(registry.load_model(name), weight) for name, weight in teacher_weights(teachers)]

    def teach(images):
        return sum(weight * model(images, training=False) for model, weight in weighted)

    return teach


def start_from(model: keras.Model, name: str) -> None:
    """Load the stored run `name`'s weights into `model`; raise ValueError unless every weight's shape matches."""
    weights = registry.load_model(name).get_weights()
    shapes = [w.shape for w in weights]
    if shapes != [tuple(v.shape) for v in model.weights]:
        raise ValueError(f"run {name!r} has another architecture: its weights do not fit this network")
    model.set_weights(weights)


def _counts(matrix) -> list[list[int]]:
    return np.rint(np.asarray(matrix)).astype(np.int64).tolist()


class BestWeights(keras.callbacks.Callback):
    """Remembers the weights of the epoch with the lowest validation loss; optional patience.

    Keras' EarlyStopping restores the best weights only when its patience runs out; this
    keeps them for every way a run can end (all epochs done, Stop pressed, interrupted).
    Patience starts counting only after `settling_epochs` (see `bn_settling_epochs`).
    `keep_last` also keeps each epoch's weights: with a weight average, Keras puts the raw
    weights back when a run ends before its last epoch.
    """

    def __init__(self, patience: int | None = None, settling_epochs: int = 0, keep_last: bool = False):
        super().__init__()
        self.patience = patience
        self.settling_epochs = settling_epochs
        self.best_loss = math.inf
        self.best_epoch = None
        self.best_weights = None
        self.last_weights = None  # with a weight average: the averaged weights of the last epoch
        self.keep_last = keep_last
        self.early_stopped = False

    def on_epoch_end(self, epoch, logs=None):
        if self.keep_last:
            self.last_weights = self.model.get_weights()
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


def learning_rate(config: TrainConfig, steps_per_epoch: int):
    """The learning rate: constant, or decayed by `config.lr_decay` per epoch, smoothly step by step."""
    if config.lr_decay is None or config.lr_decay >= 1:
        return config.learning_rate
    return keras.optimizers.schedules.ExponentialDecay(
        config.learning_rate, decay_steps=steps_per_epoch, decay_rate=config.lr_decay
    )


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    rate = learning_rate(config, steps_per_epoch)
    # Polyak averaging: the optimizer keeps a moving average of the weights beside them.
    ema = {"use_ema": True, "ema_momentum": config.weight_ema} if config.weight_ema else {}
    return {
        "adam": keras.optimizers.Adam,
        "sgd": lambda **kwargs: keras.optimizers.SGD(momentum=0.9, **kwargs),
        "rmsprop": keras.optimizers.RMSprop,
    }[config.optimizer](learning_rate=rate, **ema)


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

    teach = teacher_function(config.teachers) if config.teachers else None

    def build_and_compile():
        model = build_model(spec, dtype_policy=policy)
        if teach is not None:
            model = DistillingModel(model, teach, config.distill_share)
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
    if config.init_from:
        start_from(model, config.init_from)

    reporter = ProgressCallback(progress, epochs=config.epochs, steps=steps, global_batch=global_batch,
                                stop_event=stop_event)
    settling_epochs = bn_settling_epochs(spec, steps)
    best = BestWeights(config.early_stopping, settling_epochs, keep_last=bool(config.weight_ema))
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
        inputs = {"x": training_dataset(data.x_train, data.y_train, global_batch, augmentation(config), config.seed)}
    else:
        inputs = {"x": data.x_train, "y": data.y_train, "batch_size": global_batch}
    try:
        model.fit(
            **inputs,
            epochs=config.epochs,
            validation_data=(data.x_val, data.y_val),
            # History first: a Ctrl-C right after a progress line must not lose that epoch.
            # With a weight average, the swap comes first: validation, the epoch's record, the best
            # weights and the replay's snapshots all see the averaged weights; training goes on with
            # its own.
            callbacks=[*([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.weight_ema else []),
                       Record(), best, reporter, *extra_callbacks],
            verbose=0,
        )
    except KeyboardInterrupt:
        status = "interrupted"
    if reporter.stopped_by_user:
        # A Stop button leaves the run "stopped"; a Ctrl-C handler may name its own reason.
        status = getattr(stop_event, "reason", "stopped")

    if config.restore_best and best.best_weights is not None:
        model.set_weights(best.best_weights)
    elif config.weight_ema and best.last_weights is not None:
        # Keras swaps the averages back out when a run ends before its last epoch.
        model.set_weights(best.last_weights)
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
    return evaluate_probabilities(predict_probabilities(model, images), labels)


def evaluate_probabilities(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """`evaluate`'s report from (n, 10) probabilities already computed and (n,) labels."""
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


def train_run(record: RunRecord, *, progress: ProgressFn | None = None, stop_event: threading.Event | None = None,
              root: Path | None = None, extra_callbacks=()) -> RunRecord:
    """Load the data, train `record.spec` with `record.config`, evaluate, and store the run; return its record.

    The run is stored whatever happens: `complete`, `stopped` (Stop pressed),
    `interrupted` (Ctrl-C) with the weights learned so far, or `failed` (with the error
    message and no model) before the error is raised again. Nothing is lost: training
    happens in memory and the stored run is replaced only by one that got this far (in
    one staged swap, `registry.save_run`); a failure leaves a stored run untouched and is
    recorded beside it (`registry.record_failure`).
    """
    name, spec, config = registry.validate_name(record.name), record.spec, record.config
    # Missing data is the user's to fix, not a failed run: it raises before anything is stored.
    split = data_module.load_split(config.protocol, train_size=config.train_size, seed=config.seed)
    registry.require_teachers(config.teachers)  # as missing data: nothing is stored
    if config.init_from:
        registry.require_teachers((config.init_from,), role="run to start from")
    mnist_sizes = split.sizes()  # the record's data sizes speak of MNIST; generated styles are counted apart
    if config.styles_share:
        split = strokes.with_styles(split, config.styles_share, config.seed, left_out=config.styles_left_out,
                                    added=config.styles_added)
    generated_count = len(split.y_train) - mnist_sizes["train"]
    if config.traces_share:
        split = pentraces.with_traces(split, config.traces_share, config.seed)
    styled_count = len(split.y_train)
    if config.boxed_share:
        split = strokes.with_boxed(split, config.boxed_share, config.seed, from_styles=config.boxed_from_styles,
                                   styles_start=mnist_sizes["train"])
    record = record.replace(
        status="running", error=None,
        machine={"cpu_count": os.cpu_count(), "cpu_bfloat16": cpu_supports_bfloat16(),
                 "gpus": len(tf.config.list_physical_devices("GPU"))},
        versions=library_versions(),
        augmentation=augmentation(config).to_dict() if config.augment else None,
        styles={"share": config.styles_share, "count": generated_count,
                "seed": strokes.TRAIN_SEED_OFFSET + config.seed,
                **({"left_out": list(config.styles_left_out)} if config.styles_left_out else {}),
                **({"added": list(config.styles_added)} if config.styles_added else {})}
        if config.styles_share else None,
        traces={"share": config.traces_share, "count": styled_count - mnist_sizes["train"] - generated_count,
                "seed": pentraces.TRACES_SEED_OFFSET + config.seed, "labels": list(pentraces.LABELS)}
        if config.traces_share else None,
        boxed={"share": config.boxed_share, "count": len(split.y_train) - styled_count,
               "seed": strokes.BOXED_SEED_OFFSET + config.seed,
               **({"from_styles": config.boxed_from_styles} if config.boxed_from_styles is not None else {})}
        if config.boxed_share else None,
        data={"protocol": config.protocol, "source": os.environ.get(data_module.ENV_VAR) or "keras.datasets.mnist",
              "sizes": mnist_sizes, "train_size": config.train_size},
    )
    try:
        snapshots = EpochSnapshots.from_test_set(split.x_test, split.y_test)  # Learn page's training replay
        result = train(spec, config, split, progress=progress, stop_event=stop_event,
                       extra_callbacks=(*extra_callbacks, snapshots))
        model = result.model
        if progress is not None:
            progress(ProgressEvent("evaluating"))
        test = evaluate(model, split.x_test, split.y_test)
        # Only Paper S tests on a subset; the others' test set is MNIST's 10,000 already.
        mnist_test = evaluate(model, *data_module.mnist_test_set()) if config.protocol == "paper-s" else test
        summary = lambda report: {"accuracy": report["accuracy"], "loss": report["loss"]}  # noqa: E731
        record = record.replace(
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
                "outside_writers": realworld.outside_writers_report(lambda images: predict_probabilities(model, images)),
            },
        )
        if record.status != "complete" and _stored_status(name, root) == "complete":
            raise registry.RegistryError(f"training {record.status} after {record.epochs_run} epochs; the complete run "
                                         f"{name!r} was kept, not replaced by an unfinished one")
        registry.save_run(name, record, model, root=root)  # a full disk here also leaves the old run
    except BaseException as exc:
        _keep_failure(name, record.replace(status="failed", error=f"{type(exc).__name__}: {exc}"), root)
        raise
    snapshots.save(registry.save_run(name, record, model, root=root))
    return record


def _stored_status(name: str, root: Path | None) -> str | None:
    try:
        return registry.read_record(name, root=root).status
    except registry.RegistryError:
        return None


def _keep_failure(name: str, failed: RunRecord, root: Path | None) -> None:
    """Record a failed training of run `name` without costing what is stored under that name.

    An existing run folder (a good run, or a job's own folder with its best checkpoint) is
    kept as it is, and the failure is noted beside it; only where nothing was stored yet
    does the failed record itself become the run, so the failure stays visible.
    """
    try:
        if not registry.run_path(name, root).exists():
            registry.save_run(name, failed, root=root)
        registry.record_failure(name, failed.error, failed.command or None, root=root)
    except OSError:
        pass  # a full disk: the error being raised says what happened; nothing stored was touched
