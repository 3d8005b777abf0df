"""The run registry: `models/<name>/` holds model.keras and run.json, written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from digitlab.architectures import build_model
from digitlab.config import teacher_weights
from digitlab.records import RecordError, RunRecord

MODELS_ENV_VAR = "DIGITLAB_MODELS"
MODEL_FILE = "model.keras"
RUN_FILE = "run.json"
DEFAULT_FILE = "DEFAULT"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # used with fullmatch: `$` would let "abc\n" through
# "default" means the default run in every command, and DEFAULT is the file naming it: a run of
# either name (in any case, for case-insensitive disks) could never be reached or would clash.
RESERVED_NAMES = ("default",)
FAILURES_FILE = "failures.json"  # training attempts that failed without replacing the run beside it


class RegistryError(ValueError):
    """A bad run name, a missing run or a run folder that cannot be read."""


def models_dir() -> Path:
    """`$DIGITLAB_MODELS` if set, else the repository's `models/` folder."""
    env = os.environ.get(MODELS_ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


def validate_name(name: str) -> str:
    """Return `name` if it is a safe run name (letters, digits, `.`, `_`, `-`; 64 at most).

    Nothing with a slash, a leading dot or `..` passes, so no name can leave `models/`;
    "default" (any case) is reserved for the default run.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise RegistryError(
            f"invalid run name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if name.lower() in RESERVED_NAMES:
        raise RegistryError(f"invalid run name {name!r}: it is reserved for the default run; choose another name")
    return name


def run_path(name: str, root: Path | None = None) -> Path:
    root = (root or models_dir()).resolve()
    path = (root / validate_name(name)).resolve()
    if path.parent != root:  # belt and braces: validate_name already forbids this
        raise RegistryError(f"invalid run name {name!r}")
    return path


@dataclass(frozen=True)
class RunInfo:
    """A stored run as listed: its name, folder, record and whether it is the default."""

    name: str
    path: Path
    record: RunRecord
    default: bool

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def test_accuracy(self) -> float | None:
        return self.record.test_accuracy

    @property
    def uploaded(self) -> bool:
        """A model uploaded from a file: its architecture is its own model.keras, not an ArchSpec."""
        return self.record.uploaded

    @property
    def servable(self) -> bool:
        """It has trained weights to predict with: the one rule for Draw, the sidebar and `set_default`."""
        return self.record.trained and self.model_path.is_file()

    @property
    def comparable(self) -> bool:
        return self.skip_reason is None

    @property
    def skip_reason(self) -> str | None:
        """Why the run cannot be compared (no test results or no model yet), or None when it can."""
        record = self.record
        if not record.trained:
            return f"{record.status}: {record.error}" if record.error else f"{record.status}, no test results yet"
        if not record.has_test_results:
            return f"{record.status} but without test metrics"
        if not self.model_path.is_file():
            return f"{record.status} but without its model file"
        return None

    def to_json(self) -> dict:
        record = self.record
        return {
            "name": self.name,
            "path": str(self.model_path),
            "default": self.default,
            "status": self.status,
            "origin": record.origin,
            "has_spec": record.spec is not None,  # what Learn's layer-by-layer panels are built from
            "arch": record.arch,
            "protocol": record.protocol,
            "test_accuracy": record.test_accuracy,
            "mnist_test_accuracy": record.mnist_test_accuracy,
            "outside_writers_accuracy": record.outside_writers_accuracy,
            "params": record.params,
            "epochs_run": record.epochs_run,
            "train_time_s": record.train_time_s,
            "servable": self.servable,
        }


@contextlib.contextmanager
def atomic_file(path: Path):
    """Yield a temporary path beside `path` to write; on success it replaces `path` in one step.

    Readers see the old file or the new one, never half of it; a failed write leaves no temporary.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp{''.join(path.suffixes)}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path, content: str | bytes) -> None:
    """Replace `path` with `content` in one step (see `atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(content) if isinstance(content, bytes) else tmp.write_text(content)


def atomic_write_json(path: Path, values) -> None:
    atomic_write(path, json.dumps(values, indent=1) + "\n")


def save_run(name: str, record: RunRecord, model=None, *, root: Path | None = None, replace: bool = True) -> Path:
    """Store `record` (and `model` without optimizer state) as run `name`, replacing any old one.

    Everything is written into a temporary folder beside the target and renamed into
    place, so a crash mid-write never leaves a half-written run under the real name.
    With `replace=False` an existing run of that name is kept and RegistryError raised.
    """
    root = (root or models_dir())
    root.mkdir(parents=True, exist_ok=True)
    target = run_path(name, root)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a run folder is ordinary data
        if model is not None:
            model.save(staging / MODEL_FILE, include_optimizer=False)
        atomic_write_json(staging / RUN_FILE, record.replace(name=name).to_dict())
        if not replace:
            try:
                os.rename(staging, target)  # fails onto an existing run folder: never two owners
            except OSError:
                raise RegistryError(f"a run named {name!r} already exists: choose another name") from None
        elif target.exists():
            trash = root / f".trash-{name}-{uuid.uuid4().hex[:8]}"
            target.rename(trash)
            staging.rename(target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def create_run(name: str, record: RunRecord, *, root: Path | None = None) -> Path:
    """Create run folder `name` holding only `record`; fails if the name is taken.

    The folder appears complete or not at all (built aside, then renamed), and renaming
    onto an existing folder fails, so two users choosing one name cannot both get it.
    """
    root = root or models_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = run_path(name, root)
    if target.exists():
        raise RegistryError(f"a run named {name!r} already exists: choose another name")
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        staging.chmod(0o755)
        atomic_write_json(staging / RUN_FILE, record.replace(name=name).to_dict())
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise RegistryError(f"a run named {name!r} already exists: choose another name") from None
    return target


def write_record(name: str, record: RunRecord, *, root: Path | None = None) -> None:
    """Replace run `name`'s run.json in one step (readers see the old or the new file, never half)."""
    atomic_write_json(run_path(name, root) / RUN_FILE, record.replace(name=name).to_dict())


def read_record(name: str, *, root: Path | None = None) -> RunRecord:
    path = run_path(name, root) / RUN_FILE
    try:
        record = RunRecord.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise RegistryError(f"no run named {name!r}") from None
    except RecordError as exc:
        raise RegistryError(f"run {name!r}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise RegistryError(f"run {name!r}: unreadable {RUN_FILE} ({exc})") from None
    record.name = name  # the folder's name is the run's, whatever the file says
    return record


def default_name(*, root: Path | None = None) -> str | None:
    """The default run's name, or None when no default is set or it no longer exists."""
    root = root or models_dir()
    try:
        name = (root / DEFAULT_FILE).read_text().strip()
        folder = run_path(name, root)  # validated and resolved: a symlink out of models/ names no default
    except (OSError, RegistryError):
        return None
    return name if (folder / RUN_FILE).is_file() else None


def set_default(name: str, *, root: Path | None = None) -> None:
    root = root or models_dir()
    if not get_run(name, root=root).servable:
        raise RegistryError(f"run {name!r} has no trained model to serve")
    atomic_write(root / DEFAULT_FILE, name + "\n")


def list_runs(*, root: Path | None = None) -> tuple[list[RunInfo], list[tuple[str, str]]]:
    """All stored runs, sorted by name, and the folders that could not be read: (name, error)."""
    root = root or models_dir()
    runs, errors = [], []
    if not root.is_dir():
        return runs, errors
    default = default_name(root=root)
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            validate_name(folder.name)
            record = read_record(folder.name, root=root)
        except Exception as exc:  # one broken folder must not hide the others
            errors.append((folder.name, str(exc)))
            continue
        runs.append(RunInfo(folder.name, folder, record, folder.name == default))
    return runs, errors


def get_run(name: str, *, root: Path | None = None) -> RunInfo:
    """A run by name; "default" means the default run."""
    root = root or models_dir()
    if name == "default":
        resolved = default_name(root=root)
        if resolved is None:
            raise RegistryError("no default model is set (python -m digitlab models --set-default NAME)")
        name = resolved
    record = read_record(name, root=root)
    return RunInfo(name, run_path(name, root), record, name == default_name(root=root))


def require_teachers(teachers: tuple[str, ...], *, root: Path | None = None, role: str = "teacher") -> None:
    """Raise RegistryError, saying what to do, unless every teacher ("NAME" or "NAME:WEIGHT") is a trained run.

    `role` names them in the message: a teacher, or the run a fine-tuning starts from.
    """
    for name, _ in teacher_weights(teachers):
        try:
            ready = get_run(name, root=root).servable
        except RegistryError:
            ready = False
        if not ready:
            raise RegistryError(f"{role} {name!r} is not a trained run here: train it first "
                                f"(python -m digitlab train ... --name {name})")


def load_model(name: str, *, root: Path | None = None):
    """Rebuild a run's network from its stored spec and load its weights (float32 Keras model).

    An uploaded run has no spec: its own model.keras is loaded through the upload checks
    (Keras safe mode, built-in layers only), as when it arrived.
    """
    run = get_run(name, root=root)
    if not run.model_path.is_file():
        raise RegistryError(f"run {run.name!r} has no {MODEL_FILE} (status: {run.status})")
    if run.record.spec is None:
        from digitlab import uploads

        try:
            return uploads.load_checked(run.model_path)
        except uploads.UploadError as exc:
            raise RegistryError(f"run {run.name!r}: cannot load {MODEL_FILE} ({exc})") from None
    try:
        model = build_model(run.record.spec, name=run.name.replace(".", "_"))
        model.load_weights(run.model_path)
    except Exception as exc:
        raise RegistryError(f"run {run.name!r}: cannot load {MODEL_FILE} ({exc})") from None
    return model


def delete_run(name: str, *, root: Path | None = None) -> None:
    root = root or models_dir()
    path = run_path(name, root)
    if not path.is_dir():
        raise RegistryError(f"no run named {name!r}")
    was_default = default_name(root=root) == name
    trash = root / f".trash-{name}-{uuid.uuid4().hex[:8]}"
    path.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)
    if was_default:
        (root / DEFAULT_FILE).unlink(missing_ok=True)


def rename_run(old: str, new: str, *, root: Path | None = None) -> None:
    root = root or models_dir()
    source, target = run_path(old, root), run_path(new, root)
    if not source.is_dir():
        raise RegistryError(f"no run named {old!r}")
    if target.exists():
        raise RegistryError(f"a run named {new!r} already exists")
    was_default = default_name(root=root) == old
    atomic_write_json(source / RUN_FILE, read_record(old, root=root).replace(name=new).to_dict())
    source.rename(target)
    if was_default:
        set_default(new, root=root)


def record_failure(name: str, message: str, command: str | None = None, *, root: Path | None = None) -> None:
    """Append a failed attempt (message, command, UTC time) to `models/<name>/failures.json`.

    The run beside it stays as it was: a failure is a note about the run, not a new run.
    """
    folder = run_path(name, root)
    entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "message": message, "command": command}
    failures = read_failures(name, root=root) + [entry]
    atomic_write_json(folder / FAILURES_FILE, failures[-50:])  # the latest 50 are enough to see a pattern


def read_failures(name: str, *, root: Path | None = None) -> list[dict]:
    """The failed attempts recorded beside run `name`, oldest first ([] when none or unreadable)."""
    try:
        failures = json.loads((run_path(name, root) / FAILURES_FILE).read_text())
    except (OSError, ValueError, RegistryError):
        return []
    return [f for f in failures if isinstance(f, dict)] if isinstance(failures, list) else []


LEFTOVER_AGE_S = 600  # older than any write in progress: a staging folder lives for the seconds a save takes
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{8}(\.tmp.*)?")  # `atomic_file`'s `.run.json.1a2b3c4d.tmp.json`, older `.run.json.1a2b3c4d`


def clean_leftovers(*, root: Path | None = None, min_age_s: float = LEFTOVER_AGE_S) -> list[str]:
    """Remove what killed writes left behind; return the paths removed (relative to the models folder).

    That is `.tmp-*` staging folders and `.trash-*` folders in the models folder, and the
    temporaries of atomic writes (`.<file>.<8 hex>.tmp…`) there and inside run folders. Only
    leftovers older than `min_age_s` go, so a write still in progress in another process (a
    training worker outlives a server restart) is never cut short; lock files stay. The app
    and the command line call this once at start.
    """
    root = (root or models_dir())
    if not root.is_dir():
        return []
    now = time.time()
    removed = []

    def old(path: Path) -> bool:
        try:
            return now - path.lstat().st_mtime >= min_age_s
        except OSError:
            return False

    def remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(str(path.relative_to(root)))

    def temporary_file(path: Path) -> bool:
        return path.is_file() and not path.is_symlink() and bool(_TEMPORARY.fullmatch(path.name))

    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".tmp-", ".trash-")) or temporary_file(entry):
            if old(entry):
                remove(entry)
        elif entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."):
            for inner in sorted(entry.iterdir()):
                if temporary_file(inner) and old(inner):
                    remove(inner)
    return removed
