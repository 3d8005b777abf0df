"""The job file protocol: what a job folder holds besides run.json, and how a job is queued."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from digitlab import registry
from digitlab.architectures import ArchSpec
from digitlab.config import TrainConfig
from digitlab.presets import training_command
from digitlab.records import ACTIVE_STATUSES, JobInfo, ProgressEvent, RunRecord

PROGRESS_FILE = "progress.json"
STOP_FILE = "STOP"
LOG_FILE = "worker.log"
LAST_WEIGHTS = "last.weights.h5"
ACTIVE = ACTIVE_STATUSES
CURVE_POINTS = 400  # intra-epoch points kept in progress.json


@dataclass(frozen=True)
class Progress:
    """A running job's progress.json: its latest event and the curve within the run so far.

    `points` are [epoch position (1.5 = half-way through epoch 2), loss, accuracy].
    """

    event: ProgressEvent
    points: list
    updated: float


def submit(name: str, arch: str, spec: ArchSpec, config: TrainConfig, *, root: Path | None = None,
           job: JobInfo | None = None) -> RunRecord:
    """Queue a new run `name` (for `job`'s owner); raises RegistryError if the name is invalid or taken,
    or a teacher it learns from is not a trained run in `root`."""
    registry.require_teachers(config.teachers, root=root)
    job = job or JobInfo()
    job.submitted = time.time()
    record = RunRecord.new(name, arch, spec, config, command=training_command(name, arch, spec, config),
                           status="queued", job=job)
    registry.create_run(name, record, root=root)
    return record


def write_progress(folder: Path, progress: Progress) -> None:
    registry.atomic_write(folder / PROGRESS_FILE, json.dumps(
        {"event": progress.event.to_dict(), "points": progress.points, "updated": progress.updated}))


def read_progress(name: str, *, root: Path | None = None) -> Progress | None:
    """The latest progress of a running job, or None (not started, finished, or unreadable)."""
    try:
        values = json.loads((registry.run_path(name, root) / PROGRESS_FILE).read_text())
        return Progress(ProgressEvent.from_dict(values["event"]), list(values.get("points") or []),
                        float(values.get("updated") or 0.0))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None

