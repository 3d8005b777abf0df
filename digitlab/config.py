"""Training configuration without TensorFlow: `TrainConfig`, its options, its CLI flags and the time estimate."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from digitlab import data
from digitlab.architectures import ArchSpec, flops_per_image
from digitlab.strokes import ADDED_STYLE_NAMES, STYLE_NAMES, styles_count

OPTIMIZERS = ("adam", "sgd", "rmsprop")
PRECISIONS = ("auto", "float32", "bfloat16")
STRATEGIES = ("auto", "none", "mirrored")


@dataclass(frozen=True)
class TrainConfig:
    """The training knobs both papers vary. `batch_size` is per replica: the global batch is
    `batch_size` x replicas, Paper H's rule for several accelerators.

    `lr_decay` multiplies the learning rate once per epoch (Paper H states 0.99), applied smoothly
    per step as Keras' ExponentialDecay. `early_stopping` is the patience in epochs on
    validation loss (Paper H: 2), counted once BatchNorm has settled (`training.bn_settling_epochs`);
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
    boxed_share: float = 0.0  # share of it stretched to fill a box (`strokes.fill_box`), aspect ratio lost
    boxed_from_styles: float | None = None  # share of the boxed copies drawn from the styles (None: as they stand)
    styles_left_out: tuple[str, ...] = ()  # generated styles never drawn for training: what does it make of them?
    styles_added: tuple[str, ...] = ()  # of `strokes.ADDED_STYLES`, the ones also drawn for training
    traces_share: float = 0.0  # share of it drawn from real writers' pen traces (`pentraces`, UCI pendigits)
    elastic: float = 0.0  # with `augment`: share of the augmented images also bent elastically
    weight_ema: float | None = None  # keep a moving average of the weights, this momentum per step
    teachers: tuple[str, ...] = ()  # stored runs whose averaged probabilities it also learns ("NAME" or "NAME:WEIGHT")
    distill_share: float = 0.0  # with teachers: the loss's share from their probabilities, the rest from the labels
    init_from: str | None = None  # a stored run of the same architecture whose weights training starts from

    def __post_init__(self):
        if self.protocol not in data.PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(data.PROTOCOLS)}")
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
        if not 0 <= self.boxed_share <= 0.5:
            raise ValueError("boxed share must be between 0 and 0.5 (MNIST stays the bulk of training)")
        if not 0 <= self.traces_share <= 0.5:
            raise ValueError("traces share must be between 0 and 0.5 (MNIST stays the bulk of training)")
        # run.json stores the names as a list; a frozen field is set once, here.
        object.__setattr__(self, "styles_left_out", tuple(self.styles_left_out))
        unknown = sorted(set(self.styles_left_out) - set(STYLE_NAMES))
        if unknown:
            raise ValueError(f"unknown writing style {unknown[0]!r}; styles: {', '.join(STYLE_NAMES)}")
        object.__setattr__(self, "styles_added", tuple(self.styles_added))
        unknown = sorted(set(self.styles_added) - set(ADDED_STYLE_NAMES))
        if unknown:
            raise ValueError(f"unknown added writing style {unknown[0]!r}; added styles: {', '.join(ADDED_STYLE_NAMES)}")
        if self.styles_share and set(self.styles_left_out) >= set(STYLE_NAMES):
            raise ValueError("every writing style is left out: keep at least one, or set the styles share to 0")
        if self.boxed_from_styles is not None and not 0 <= self.boxed_from_styles <= 1:
            raise ValueError("share of the boxed copies drawn from the styles must be between 0 and 1")
        if not 0 <= self.elastic <= 1:
            raise ValueError("elastic share must be between 0 and 1")
        if self.weight_ema is not None and not 0 < self.weight_ema < 1:
            raise ValueError("weight EMA momentum must be in (0, 1), e.g. 0.999")
        object.__setattr__(self, "teachers", tuple(self.teachers))
        teacher_weights(self.teachers)  # raises on a malformed weight
        if not 0 <= self.distill_share <= 1:
            raise ValueError("distillation share must be between 0 and 1")
        if bool(self.teachers) != bool(self.distill_share):
            raise ValueError("distillation needs both teachers and a share above 0 (or neither)")
        if self.early_stopping is not None and self.early_stopping < 1:
            raise ValueError("early-stopping patience must be at least 1 epoch (or off)")
        if self.train_size is not None and self.train_size < 10:
            raise ValueError("training-set size must be at least 10 (one image per digit)")
        if self.protocol == "all" and (self.restore_best or self.early_stopping):
            raise ValueError("protocol all trains on its validation images too, so no epoch can be chosen by them: "
                             "use --no-restore-best and no --patience")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in fields})

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Flag:
    """How one TrainConfig field is set from the command line: `--flag VALUE`, or a --x/--no-x switch."""

    field: str
    flag: str
    type: Callable[[str], object] = str
    choices: tuple[str, ...] | None = None
    help: str = ""
    switch: bool = False  # argparse.BooleanOptionalAction: --augment / --no-augment
    many: bool = False  # a list of values: --flag A B (none: --flag alone)
    off: str | None = None  # the value that turns the knob off (the field None), e.g. --patience 0

    def value(self, parsed):
        """The config value of a parsed command-line value (None where it means off)."""
        if self.off is not None and parsed is not None and parsed == self.type(self.off):
            return None
        return parsed


def share_or_auto(text: str) -> float | str:
    """A command-line share in [0, 1] as a float, or "auto" as it is (the config's None)."""
    return text if text == "auto" else float(text)


# The one table from config fields to `python -m digitlab train` flags: the CLI's parser, the
# CLI's overrides and the command recorded for a job started in the browser all read it.
CONFIG_FLAGS: tuple[Flag, ...] = (
    Flag("protocol", "--protocol", choices=data.PROTOCOLS, help="data protocol: paper-h, paper-s, full; all: full's 6,000 validation images train too "
                                                              "(for a recipe whose epochs are already fixed)"),
    Flag("epochs", "--epochs", int),
    Flag("batch_size", "--batch-size", int, help="per replica; the global batch is this x replicas"),
    Flag("learning_rate", "--lr", float, help="initial learning rate"),
    Flag("lr_decay", "--lr-decay", float, help="learning-rate factor per epoch (Paper H states 0.99; 1: none)",
         off="1"),
    Flag("optimizer", "--optimizer", choices=OPTIMIZERS),
    Flag("early_stopping", "--patience", int, help="early stopping: epochs without a lower validation loss, "
                                                   "counted once BatchNorm's running statistics have settled; 0: off",
         off="0"),
    Flag("train_size", "--train-size", int, help="keep a stratified subset of this many training images"),
    Flag("seed", "--seed", int),
    Flag("precision", "--precision", choices=PRECISIONS,
         help="auto: bfloat16 mixed precision on GPUs and CPUs with AMX/AVX512-BF16"),
    Flag("strategy", "--strategy", choices=STRATEGIES, help="auto: MirroredStrategy when several GPUs are visible"),
    Flag("augment", "--augment", help="handwriting-style augmentation (rotation, shift, scale, shear, stroke width)",
         switch=True),
    Flag("styles_share", "--styles-share", float,
         help="share of the training set drawn as writing styles MNIST lacks (digitlab/strokes.py)"),
    Flag("traces_share", "--traces-share", float,
         help="share of the training set drawn from real writers' pen traces (UCI pendigits' training writers; "
              "digitlab/pentraces.py)"),
    Flag("boxed_share", "--boxed-share", float,
         help="share of the training set made of its digits stretched to fill a box, aspect ratio lost "
              "(as forms and some scanners keep them)"),
    Flag("boxed_from_styles", "--boxed-from-styles", share_or_auto,
         help="share of those boxed copies drawn from the generated styles; auto: drawn as the training set "
              "stands (about one in eight)", off="auto"),
    Flag("styles_left_out", "--styles-left-out", choices=STYLE_NAMES, many=True,
         help="generated styles never drawn for training, to see what the network makes of a way of writing "
              "it never saw (tests/realistic/unseen_styles.py)"),
    Flag("styles_added", "--styles-added", choices=ADDED_STYLE_NAMES, many=True,
         help="writing styles drawn after the first set was fixed, added to this run's generated digits "
              "(earlier runs' digits stay as they were)"),
    Flag("elastic", "--elastic", float,
         help="with --augment: share of the augmented images also bent by a smooth random field (Simard 2003)"),
    Flag("weight_ema", "--weight-ema", float,
         help="validate, keep and serve a moving average of the weights (Polyak averaging), this momentum "
              "per step, e.g. 0.999; 0: off", off="0"),
    Flag("teachers", "--teachers", many=True,
         help="stored runs to distil (NAME or NAME:WEIGHT): the network also learns their averaged probabilities "
              "on each augmented batch (Hinton et al. 2015), with --distill-share"),
    Flag("distill_share", "--distill-share", float,
         help="with --teachers: the loss's share from the teachers' probabilities (0-1), the rest from the labels"),
    Flag("init_from", "--init-from",
         help="start from this stored run's weights instead of random ones (fine-tuning; the same architecture)"),
    Flag("restore_best", "--restore-best", help="keep the epoch of lowest validation loss (else the last epoch)",
         switch=True),
)


def teacher_weights(teachers: tuple[str, ...]) -> list[tuple[str, float]]:
    """("A:0.3", "B:0.7") or ("A", "B") -> [(name, weight)], the weights normalised to sum to 1."""
    pairs = []
    for teacher in teachers:
        name, _, weight = teacher.partition(":")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"teacher {teacher!r}: the weight after ':' must be a number") from None
        if not name or value <= 0:
            raise ValueError(f"teacher {teacher!r}: a run name, and a weight above 0 after ':' if any")
        pairs.append((name, value))
    total = sum(weight for _, weight in pairs)
    return [(name, weight / total) for name, weight in pairs]


def flag_arguments(config: TrainConfig, base: TrainConfig) -> list[str]:
    """The CLI arguments that turn `base` into `config` (only the fields that differ)."""
    arguments = []
    for flag in CONFIG_FLAGS:
        value = getattr(config, flag.field)
        if value == getattr(base, flag.field):
            continue
        if flag.switch:
            arguments.append(flag.flag if value else flag.flag.replace("--", "--no-", 1))
        elif flag.many:
            arguments += [flag.flag, *value]
        elif value is not None:
            arguments += [flag.flag, str(value)]
        elif flag.off is not None:  # the base has the knob on, this config has it off
            arguments += [flag.flag, flag.off]
    return arguments


def cpu_supports_bfloat16() -> bool:
    """True where the CPU has AMX or AVX512-BF16, which oneDNN uses for bfloat16 math."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


# Used when no run has been timed on this machine yet: a per-step overhead and a FLOP rate
# measured once on the 2-core development machine in bfloat16.
FALLBACK_STEP_S = 0.008
FALLBACK_FLOPS_PER_S = 9.4e10


def timing_model(records) -> tuple[float, float, int]:
    """Fit seconds per training image = step_s / batch + 3 * flops / rate on finished runs.

    `records` are `RunRecord`s; runs trained with augmentation (its input pipeline is slower),
    on several replicas or without a measured throughput are left out. Returns (step_s,
    flops_per_s, runs used); the fallback constants when fewer than two runs fit.
    """
    rows, targets = [], []
    for record in records:
        if (not record.images_per_s or record.spec is None or record.config is None or record.config.augment
                or record.replicas != 1 or not record.global_batch_size):
            continue
        try:
            flops = flops_per_image(record.spec)
        except ValueError:
            continue
        rows.append([1.0 / record.global_batch_size, 3.0 * flops])
        targets.append(1.0 / record.images_per_s)
    if len(rows) >= 2:
        # Relative errors: a small network's seconds matter as much as a big one's.
        weights = 1.0 / np.array(targets)
        (step_s, seconds_per_flop), *_ = np.linalg.lstsq(np.array(rows) * weights[:, None], np.ones(len(rows)),
                                                         rcond=None)
        if step_s > 0 and seconds_per_flop > 0:
            return float(step_s), float(1.0 / seconds_per_flop), len(rows)
    return FALLBACK_STEP_S, FALLBACK_FLOPS_PER_S, 0


def training_images(config: TrainConfig) -> int:
    """How many images one epoch trains on: MNIST's part, the generated styles, the pen traces and the boxed copies."""
    count = data.planned_sizes(config.protocol, config.train_size)["train"]
    count += styles_count(count, config.styles_share)
    count += styles_count(count, config.traces_share)
    return count + styles_count(count, config.boxed_share)


def same_network_run(spec: ArchSpec, config: TrainConfig, records):
    """The newest finished run of this very network (its description aside), batch and augmentation with a measured speed, or None."""
    twins = [record for record in records
             if record.spec is not None and record.spec.replace(description="") == spec.replace(description="")
             and record.config is not None and record.config.augment == config.augment
             and record.global_batch_size == config.batch_size and record.replicas == 1 and record.images_per_s]
    return max(twins, key=lambda record: record.created or "", default=None)


def estimate_epoch_seconds(spec: ArchSpec, config: TrainConfig, records) -> dict:
    """Rough seconds per epoch before training: training steps plus the validation pass.

    A run of the same network, batch and augmentation already timed here gives its measured
    training speed (`same_run` names it). Otherwise `timing_model(records)`, within about a
    third of the measured time for the reference runs on the development machine, though it
    took digitlab's BatchNorm network for 3.7 times slower than it trains; `runs_used` says how
    many timed runs it rests on (0: a built-in guess). Real throughput shows once the job runs.
    """
    step_s, flops_per_s, used = timing_model(records)
    sizes = data.planned_sizes(config.protocol, config.train_size)
    sizes["train"] = training_images(config)
    flops = flops_per_image(spec)
    steps = math.ceil(sizes["train"] / config.batch_size)
    twin = same_network_run(spec, config, records)

    def step_flops(teachers) -> float:
        # A training step is about three passes of the network; each teacher adds one forward pass.
        return 3 * flops + sum(flops_per_image(record.spec) for name, _ in teacher_weights(teachers)
                               for record in records if record.name == name and record.spec is not None)

    if twin is not None:
        train_s = sizes["train"] / twin.images_per_s * step_flops(config.teachers) / step_flops(twin.config.teachers)
    else:
        train_s = steps * step_s + sizes["train"] * step_flops(config.teachers) / flops_per_s
        if config.augment:
            train_s *= 1.5  # the augmentation pipeline, measured on the digitlab preset
    validation_s = math.ceil(sizes["validation"] / config.batch_size) * step_s / 3 + sizes["validation"] * flops / flops_per_s
    return {"seconds": train_s + validation_s, "train_images": sizes["train"],
            "validation_images": sizes["validation"], "runs_used": used,
            "same_run": twin.name if twin is not None else None}
