"""A worker that finished is waited for: no zombie process stays behind for the server's life."""

from pathlib import Path

from digitlab import jobs, presets, registry
from digitlab.config import TrainConfig
from tests.test_jobs import wait_for

TINY = TrainConfig(protocol="full", epochs=1, batch_size=64, train_size=200)


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return False  # gone: waited for


def test_a_finished_worker_is_reaped(models_root):
    manager = jobs.JobManager(models_root, poll_s=0.2)
    try:
        manager.submit("tiny", "small", presets.get("small").spec, TINY)
        wait_for(lambda: registry.read_record("tiny", root=models_root).status == "complete", what="the job")
        pid = registry.read_record("tiny", root=models_root).job.pid
        wait_for(lambda: manager.workers == [], timeout=30, what="the worker to be reaped")
        assert not zombie(pid)
    finally:
        manager.close(kill_workers=True)
