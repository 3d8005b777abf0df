"""What a run folder's run.json and a job's progress.json hold, as typed records read and written in one place."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any

from digitlab.architectures import ArchSpec
from digitlab.config import TrainConfig

ACTIVE_STATUSES = ("queued", "running")
# A run with one of these statuses has trained weights (its model file says whether they were kept).
TRAINED_STATUSES = ("complete", "stopped", "interrupted")
STATUSES = (*TRAINED_STATUSES, "failed", *ACTIVE_STATUSES, "cancelled")
UPLOADED = "uploaded"  # `origin` of a model uploaded from a file: no spec, its model.keras is its architecture


class RecordError(ValueError):
    """A run.json whose content is not a run record (no spec, or a spec that is not one)."""


@dataclass
class JobInfo:
    """A run queued from the app: when it was submitted and started, its worker's pid, and whose it is.

    `owner` is the browser session that queued it (None: the command line or an older version);
    `teacher` says it was queued with the teacher's rights (it goes first in the queue).
    """

    submitted: float = 0.0
    pid: int | None = None
    started: float | None = None
    owner: str | None = None
    teacher: bool = True


@dataclass
class RunRecord:
    """A run as stored in run.json: what was trained, how, and how well it reads.

    Every field has a default, so a record written by an older version, or cut short by a
    failure, still reads; keys this version does not know are kept in `extra` and written back.
    `metrics` maps "train", "validation", "test" and "mnist_test" to reports (see
    `training.evaluate`), and "outside_writers" to `realworld.outside_writers_report`; `history` holds per-epoch lists (loss, accuracy, val_loss, ...).
    `origin` is "trained", or "uploaded" for a model uploaded from a file (digitlab.uploads):
    that one has no `spec` or `config`, and `upload` says which file it was.
    """

    name: str = ""
    arch: str = ""
    spec: ArchSpec | None = None
    config: TrainConfig | None = None
    command: str = ""
    seed: int | None = None
    status: str = "unknown"
    error: str | None = None
    created: str | None = None
    machine: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    augmentation: dict | None = None
    styles: dict | None = None  # the writing styles mixed into training: share, count, seed (digitlab/strokes.py)
    traces: dict | None = None  # real writers' pen traces mixed into training: share, count, seed (`pentraces`)
    boxed: dict | None = None  # training digits stretched to fill a box: share, count, seed (`strokes.with_boxed`)
    data: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int | None = None
    early_stopped: bool = False
    early_stopping_from_epoch: int | None = None
    weights: str | None = None
    params: int | None = None
    train_time_s: float | None = None
    images_per_s: float | None = None
    precision: str | None = None
    replicas: int = 1
    global_batch_size: int | None = None
    metrics: dict = field(default_factory=dict)
    job: JobInfo | None = None
    origin: str = "trained"
    upload: dict | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def new(cls, name: str, arch: str, spec: ArchSpec, config: TrainConfig, *, command: str,
            status: str = "running", job: JobInfo | None = None) -> "RunRecord":
        """A record for a run about to train (or to wait in the queue, with `job`)."""
        return cls(name=name, arch=arch, spec=spec, config=config, command=command, seed=config.seed,
                   status=status, created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   job=job)

    # -- reading and writing ---------------------------------------------------------------

    @classmethod
    def from_dict(cls, values: Any) -> "RunRecord":
        """Parse a run.json object; missing or null fields take their defaults.

        Raises RecordError when `values` is not an object or has no valid architecture spec.
        """
        if not isinstance(values, dict):
            raise RecordError("run.json does not hold an object")
        uploaded = values.get("origin") == UPLOADED and values.get("spec") is None
        if not isinstance(values.get("spec"), dict) and not uploaded:
            raise RecordError("run.json has no architecture spec")
        try:
            spec = None if uploaded else ArchSpec.from_dict(values["spec"])
            config = TrainConfig.from_dict(values["config"]) if isinstance(values.get("config"), dict) else None
        except (TypeError, ValueError, KeyError) as exc:
            raise RecordError(f"run.json has an invalid spec or config ({exc})") from None
        job = values.get("job")
        known = {f.name: f for f in dataclasses.fields(cls)}
        parsed: dict[str, Any] = {"spec": spec, "config": config,
                                  "job": _job(job) if isinstance(job, dict) else None}
        for name, value in values.items():
            if name in parsed or name not in known or name == "extra" or value is None:
                continue
            default = known[name].default_factory() if known[name].default_factory is not dataclasses.MISSING \
                else known[name].default
            # A field of the wrong shape (a list where an object belongs) reads as missing.
            parsed[name] = value if not isinstance(default, dict) or isinstance(value, dict) else default
        parsed["extra"] = {k: v for k, v in values.items() if k not in known}
        return cls(**parsed)

    def to_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        values["spec"] = self.spec.to_dict() if self.spec else None
        values["config"] = self.config.to_dict() if self.config else None
        values["job"] = dataclasses.asdict(self.job) if self.job else None
        if self.job is None:
            del values["job"]  # a run trained from the command line, not a job
        if not self.uploaded:  # a trained run's run.json keeps the layout it always had
            del values["origin"], values["upload"]
        return {**values, **self.extra}

    def replace(self, **changes) -> "RunRecord":
        return dataclasses.replace(self, **changes)

    # -- what pages and commands ask ---------------------------------------------------------

    @property
    def uploaded(self) -> bool:
        return self.origin == UPLOADED

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def trained(self) -> bool:
        """Training got far enough to keep weights (whether the model file exists is the folder's to say)."""
        return self.status in TRAINED_STATUSES

    @property
    def protocol(self) -> str | None:
        return self.data.get("protocol") or (self.config.protocol if self.config else None)

    def report(self, split: str) -> dict:
        """The metrics report of "train", "validation", "test", "mnist_test" or "outside_writers" ({} when absent)."""
        report = self.metrics.get(split)
        return report if isinstance(report, dict) else {}

    @property
    def test_accuracy(self) -> float | None:
        return self.report("test").get("accuracy")

    @property
    def mnist_test_accuracy(self) -> float | None:
        return self.report("mnist_test").get("accuracy")

    @property
    def outside_writers_accuracy(self) -> float | None:
        """On pendigits' test writers' pen digits (`realworld.outside_writers_report`); None for older runs."""
        return self.report("outside_writers").get("accuracy")

    @property
    def has_test_results(self) -> bool:
        """A full test report: confusion matrix and per-class scores (what Compare needs)."""
        test = self.report("test")
        return "confusion_matrix" in test and "per_class" in test

    def curve(self, key: str) -> list[float]:
        """A per-epoch history list (e.g. "val_accuracy") as floats; [] when absent."""
        values = self.history.get(key)
        return [float(v) for v in values if v is not None] if isinstance(values, list) else []


def _job(values: dict) -> JobInfo:
    """A job's fields, each of the wrong type or missing read as its default: one bad value must
    not take the scheduler (and every page) down."""
    def number(key, kind, default):
        try:
            return kind(values[key]) if values.get(key) is not None else default
        except (TypeError, ValueError):
            return default

    owner = values.get("owner")
    return JobInfo(submitted=number("submitted", float, 0.0), pid=number("pid", int, None),
                   started=number("started", float, None), owner=owner if isinstance(owner, str) else None,
                   teacher=values.get("teacher") is not False)


@dataclass(frozen=True)
class ProgressEvent:
    """One report of training progress, from the engine to whoever watches (CLI, job files, tests).

    `kind` is "batch" (within an epoch), "epoch" (after the epoch's validation) or "evaluating"
    (training done, test metrics being measured). `fraction` is the share of the whole run done;
    epoch events add the validation figures and, when tracked, the validation confusion matrix.
    `partial` marks an epoch cut short by Stop.
    """

    kind: str
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    fraction: float = 0.0
    loss: float | None = None
    accuracy: float | None = None
    images_per_s: float = 0.0
    eta_s: float | None = None
    elapsed_s: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    learning_rate: float | None = None
    partial: bool = False
    val_confusion_matrix: list | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ProgressEvent":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in fields and v is not None})

    def replace(self, **changes) -> "ProgressEvent":
        return dataclasses.replace(self, **changes)
