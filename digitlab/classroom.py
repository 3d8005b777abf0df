"""Who may do what on a shared server: the teacher's passcode, students' limits, and a fair queue."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from digitlab.architectures import ArchSpec, flops_per_image, parameter_count
from digitlab.config import TrainConfig, training_images

PASSCODE_ENV = "DIGITLAB_TEACHER_PASSCODE"


@dataclass(frozen=True)
class Person:
    """Who is asking: a browser session's id, and whether it holds the teacher's rights.

    With no passcode set there is no classroom: everyone is the teacher, as on a laptop.
    """

    session: str
    teacher: bool


@dataclass(frozen=True)
class StudentLimits:
    """What one student may queue: a few jobs, of a network and a size a 2-core server trains in minutes.

    Paper S's 4-layer network (7.5 M parameters, 121 M multiply-adds) fits; four 2048-filter
    9x9 layers, which would hold the only worker for days, do not. `max_epoch_images` caps
    epochs x training images (Paper S's 40 epochs of 10,691 images are 428 k: a teacher's run).
    """

    max_queued: int = 2
    max_params: int = 10_000_000
    max_multiply_adds: int = 150_000_000
    max_epoch_images: int = 100_000


def passcode(secrets: dict | None = None) -> str | None:
    """The teacher's passcode: `$DIGITLAB_TEACHER_PASSCODE`, else `teacher_passcode` in the app's secrets."""
    value = os.environ.get(PASSCODE_ENV) or (secrets or {}).get("teacher_passcode")
    return str(value) if value else None


def is_teacher(entered: str | None, expected: str | None) -> bool:
    """True without a passcode (no classroom), or when `entered` matches it (compared in constant time)."""
    if not expected:
        return True
    return bool(entered) and hmac.compare_digest(str(entered).encode(), expected.encode())


def check_job(spec: ArchSpec, config: TrainConfig, person: Person, queued_by_them: int,
              limits: StudentLimits = StudentLimits()) -> None:
    """Raise ValueError, in words a student can act on, if `person` may not queue this job."""
    if person.teacher:
        return
    if queued_by_them >= limits.max_queued:
        raise ValueError(f"you already have {queued_by_them} jobs waiting or training (at most "
                         f"{limits.max_queued} per student): stop one or wait until one finishes")
    params = parameter_count(spec)
    if params > limits.max_params:
        raise ValueError(f"this network has {params:,} parameters; students may train up to "
                         f"{limits.max_params:,}: use fewer filters or dense units")
    multiply_adds = flops_per_image(spec) // 2
    if multiply_adds > limits.max_multiply_adds:
        raise ValueError(f"this network needs {multiply_adds / 1e6:,.0f} M multiply-adds per image; students may "
                         f"train up to {limits.max_multiply_adds / 1e6:,.0f} M: use fewer or smaller filters")
    images = training_images(config) * config.epochs
    if images > limits.max_epoch_images:
        raise ValueError(f"{config.epochs} epochs of {images // config.epochs:,} images are {images:,} training "
                         f"images; students may train up to {limits.max_epoch_images:,}: use fewer epochs or images")


def may_manage(owner: str | None, person: Person) -> bool:
    """Whether `person` may stop or remove a job queued by session `owner` (jobs from the command line have none)."""
    return person.teacher or (owner is not None and owner == person.session)


def fair_order(queued: list[tuple[str, str | None, bool, float]]) -> list[str]:
    """The order in which queued jobs start: the teacher's first, then students in turn.

    `queued` holds (name, owner session, queued by the teacher, submitted time). Students take
    turns: everyone's first job before anyone's second, each round in order of submission.
    """
    teacher = sorted((job for job in queued if job[2] or job[1] is None), key=lambda job: job[3])
    turns: dict[str | None, int] = {}
    students = []
    for name, owner, _, submitted in sorted((job for job in queued if not (job[2] or job[1] is None)),
                                           key=lambda job: job[3]):
        turn = turns.get(owner, 0)
        turns[owner] = turn + 1
        students.append((turn, submitted, name))
    return [job[0] for job in teacher] + [name for _, _, name in sorted(students)]
