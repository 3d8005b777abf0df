"""The scheduler: one JobManager per server starts queued jobs as worker processes and watches them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from digitlab import classroom, registry
from digitlab.architectures import ArchSpec
from digitlab.config import TrainConfig
from digitlab.jobs.files import LOG_FILE, PROGRESS_FILE, STOP_FILE, read_progress, submit
from digitlab.jobs.view import Job
from digitlab.records import JobInfo, RunRecord

LISTING_MAX_AGE_S = 1.0  # pages polling the job list within this share one reading of the folder

MAX_JOBS_ENV = "DIGITLAB_MAX_JOBS"
THREADS_ENV = "DIGITLAB_JOB_THREADS"
WORKER_MODULE = "digitlab.jobs.worker"


def default_max_running() -> int:
    """Jobs trained at once: `$DIGITLAB_MAX_JOBS`, else one per 4 cores (at least one).

    TensorFlow already spreads one job over every core; two jobs on 2 cores only take
    turns, and each finishes later than if they had queued. 0 holds every job in the queue.
    """
    if os.environ.get(MAX_JOBS_ENV):
        return max(0, int(os.environ[MAX_JOBS_ENV]))
    return max(1, (os.cpu_count() or 1) // 4)


def _worker_alive(pid: int | None) -> bool:
    """True if `pid` is a live digitlab job worker (a reused pid of another program is not)."""
    if not pid:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            return WORKER_MODULE.encode() in cmdline.read_bytes()
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no log"


def _start_order(queued: list[RunRecord]) -> list[str]:
    """Names of queued jobs in the order they start: the teacher's first, then students in turn."""
    return classroom.fair_order([(r.name, r.job.owner, r.job.teacher, r.job.submitted) for r in queued])


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
        self._records: dict[str, tuple[int, RunRecord]] = {}  # name -> (run.json mtime_ns, record)
        self._listing: tuple[float, list[Job]] = (-1e9, [])  # (when, jobs): one listing shared by every page
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.problems: dict[str, str] = {}  # jobs the last scheduling pass skipped, and why
        self.listings = 0  # readings of the folder for pages (a measure of what polling costs)
        try:
            self.schedule()
        except Exception as exc:  # the pages must open even when the models folder cannot be scheduled
            print(f"digitlab jobs: {exc}", file=sys.stderr)
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="digitlab-jobs", daemon=True)
            self._thread.start()

    # -- what pages call -------------------------------------------------------------

    def submit(self, name: str, arch: str, spec: ArchSpec, config: TrainConfig,
               person: classroom.Person | None = None) -> RunRecord:
        """Queue a job for `person` (None: the teacher, as from the command line).

        Raises ValueError (a RegistryError for a bad or taken name) saying why it cannot be queued:
        a student's limits are checked against the jobs that student already has waiting or training.
        """
        person = person or classroom.Person(session="", teacher=True)
        with self._locked():
            theirs = sum(1 for job in self.jobs(include_finished=False, fresh=True)
                         if job.record.job.owner == person.session and person.session)
            classroom.check_job(spec, config, person, theirs)
            record = submit(name, arch, spec, config, root=self.root,
                            job=JobInfo(owner=person.session or None, teacher=person.teacher))
            self._listing = (-1e9, [])
        self.schedule()
        return record

    def stop(self, name: str, person: classroom.Person | None = None) -> str:
        """Stop a running job at its next batch, or take a queued one off the queue; returns what happened.

        Raises PermissionError when `person` is a student and the job is not theirs.
        """
        with self._locked():
            record = registry.read_record(name, root=self.root)
            if person is not None and not classroom.may_manage(record.job.owner if record.job else None, person):
                raise PermissionError(f"{name} is not yours: only the teacher or the student who queued it can stop it")
            if record.status == "queued":
                registry.write_record(name, record.replace(status="cancelled", error="cancelled before it started"),
                                      root=self.root)
                self._listing = (-1e9, [])
                return "cancelled"
            if record.status == "running":
                (registry.run_path(name, self.root) / STOP_FILE).touch()
                return "stopping"
            return record.status

    def jobs(self, *, include_finished: bool = True, fresh: bool = False) -> list[Job]:
        """Jobs started from the app: running, then queued (in the order they will start), then finished, newest first.

        Every page of every browser polls this: within `LISTING_MAX_AGE_S` they share one reading of
        the folder, so 30 open Train pages cost what one does, however many jobs are queued.
        """
        with self._lock:
            when, listing = self._listing
            if fresh or time.monotonic() - when > LISTING_MAX_AGE_S:
                listing = self._list_jobs()
                self._listing = (time.monotonic(), listing)
        return listing if include_finished else [job for job in listing if job.active]

    def _list_jobs(self) -> list[Job]:
        self.listings += 1
        records = self._job_records()
        queued = {r.name: r for r in records if r.status == "queued"}
        order = _start_order(list(queued.values()))
        position = {name: i + 1 for i, name in enumerate(order)}
        running = sorted((r for r in records if r.status == "running"), key=lambda r: r.job.submitted)
        finished = sorted((r for r in records if not r.active), key=lambda r: -r.job.submitted)
        return [
            Job(r.name, r, read_progress(r.name, root=self.root) if r.status == "running" else None,
                position.get(r.name))
            for r in (*running, *(queued[name] for name in order), *finished)
        ]

    def job(self, name: str) -> Job | None:
        """One job by name (None if there is no such job)."""
        return next((job for job in self.jobs() if job.name == name), None)

    @property
    def workers(self) -> list[str]:
        """The jobs whose worker process this manager started and still watches."""
        with self._lock:
            return sorted(self._procs)

    def _job_records(self) -> list[RunRecord]:
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
            if cached[1].job is not None:
                records.append(cached[1])
        for gone in set(self._records) - seen:
            del self._records[gone]
        return records

    def close(self, *, kill_workers: bool = False) -> None:
        """Stop scheduling; with `kill_workers`, also kill and reap the workers this manager started."""
        self._closed.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        if kill_workers:
            with self._lock:
                for proc in self._procs.values():
                    proc.kill()
                    proc.wait()
                self._procs.clear()

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
            records = {run.name: run.record for run in runs if run.record.job is not None}
            self._reap(records)
            problems = {}
            for name, record in records.items():
                if record.status == "running":
                    try:
                        self._check_worker(name, record)
                    except Exception as exc:  # one broken job must not stop the others being watched
                        problems[name] = f"{type(exc).__name__}: {exc}"
            running = sum(1 for r in records.values() if r.status == "running")
            queued = _start_order([r for r in records.values() if r.status == "queued" and r.name not in problems])
            for name in queued[: max(0, self.max_running - running)]:
                try:
                    self._start(records[name])
                    self._listing = (-1e9, [])  # a job started: the next listing reads the folder again
                except Exception as exc:
                    problems[name] = f"{type(exc).__name__}: {exc}"
                    self._fail(name, f"could not start its worker ({problems[name]})")
            for name, problem in problems.items():
                print(f"digitlab jobs: skipped {name}: {problem}", file=sys.stderr)
            self.problems = problems

    def _reap(self, records: dict[str, RunRecord]) -> None:
        """Wait for the workers whose run no longer says `running`: an exited child nobody waits
        for stays a zombie for as long as the server runs. A `running` one is `_check_worker`'s."""
        for name, proc in list(self._procs.items()):
            record = records.get(name)
            if (record is None or record.status != "running") and proc.poll() is not None:
                del self._procs[name]

    def _fail(self, name: str, error: str) -> None:
        try:
            registry.write_record(name, registry.read_record(name, root=self.root).replace(status="failed", error=error),
                                  root=self.root)
        except (OSError, registry.RegistryError):
            pass  # the folder itself is broken: the listing reports it

    def _check_worker(self, name: str, record: RunRecord) -> None:
        proc = self._procs.get(name)
        if proc is not None:
            if proc.poll() is None:
                return
            del self._procs[name]
            code = proc.returncode
        elif _worker_alive(record.job.pid):
            return  # started by an earlier server; still training
        else:
            code = None
        # The worker ended without writing how: a crash, a kill, or a server restart.
        try:
            record = registry.read_record(name, root=self.root)  # it may have finished meanwhile
        except registry.RegistryError:
            return
        if record.status != "running":
            return
        self._listing = (-1e9, [])  # its status changes: the next listing reads the folder again
        folder = registry.run_path(name, self.root)
        has_model = (folder / registry.MODEL_FILE).is_file()
        if code is not None and code > 0:
            status, error = "failed", f"the training process exited with code {code}: {_last_line(folder / LOG_FILE)}"
        else:
            status, error = "interrupted", "the training process ended early (server restarted or process killed)"
        registry.write_record(name, record.replace(
            status=status, error=error, weights="best epoch so far (lowest validation loss)" if has_model else None),
            root=self.root)
        (folder / PROGRESS_FILE).unlink(missing_ok=True)

    def _start(self, record: RunRecord) -> None:
        name = record.name
        folder = registry.run_path(name, self.root)
        threads = max(1, (os.cpu_count() or 1) // max(1, self.max_running))
        env = {**os.environ, THREADS_ENV: str(threads), "OMP_NUM_THREADS": str(threads),
               registry.MODELS_ENV_VAR: str(self.root), "TF_CPP_MIN_LOG_LEVEL": "2"}
        with open(folder / LOG_FILE, "ab") as log:
            proc = subprocess.Popen([self.python, "-m", WORKER_MODULE, name], env=env,
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._procs[name] = proc
        record.status = "running"
        record.job.pid, record.job.started = proc.pid, time.time()
        registry.write_record(name, record, root=self.root)
