"""Background jobs: queued on disk, trained in worker processes, stopped, recovered after a restart."""

import os
import shlex
import signal
import time

import pytest

from digitlab import jobs, presets, registry
from digitlab.architectures import ArchSpec, ConvSpec
from digitlab.config import TrainConfig

SMALL = presets.get("small").spec

TINY = TrainConfig(protocol="full", epochs=2, batch_size=64, train_size=1000)
LONG = TINY.replace(epochs=200, train_size=500)  # runs until stopped


def wait_for(predicate, timeout=180, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def status(name, root):
    return registry.read_record(name, root=root).status


def epochs_done(name, root):
    return len(registry.read_record(name, root=root).curve("loss"))


@pytest.fixture
def manager(models_root):
    managers = []

    def make(**kwargs):
        made = jobs.JobManager(models_root, poll_s=0.2, **kwargs)
        managers.append(made)
        return made

    yield make
    for made in managers:
        made.close(kill_workers=True)


def test_a_job_trains_in_the_background_and_writes_its_progress(manager, models_root):
    jobs_ = manager(max_running=1)
    jobs_.submit("tiny", "small", SMALL, TINY)
    with pytest.raises(registry.RegistryError, match="already exists"):
        jobs_.submit("tiny", "small", SMALL, TINY)  # a second user picking the same name
    # A second manager on the same folder (another server) must not start it again.
    other = manager(max_running=1, background=False)
    wait_for(lambda: jobs.read_progress("tiny", root=models_root), what="progress.json")
    other.schedule()
    assert other.workers == []
    wait_for(lambda: status("tiny", models_root) not in jobs.ACTIVE, what="the job to finish")
    record = registry.read_record("tiny", root=models_root)
    assert record.status == "complete", record.error
    assert record.test_accuracy > 0.6  # chance is 0.10
    history = record.history
    assert len(history["loss"]) == 2 and len(history["val_confusion_matrix"]) == 2
    # The live confusion matrix counts every validation image once.
    assert sum(map(sum, history["val_confusion_matrix"][-1])) == record.data["sizes"]["validation"]
    assert record.command.startswith("python -m digitlab train --arch small --name tiny")
    assert record.job.pid and record.job.started >= record.job.submitted
    assert registry.load_model("tiny", root=models_root) is not None
    [job] = jobs_.jobs()
    assert job.name == "tiny" and not job.active and job.fraction == 1.0


def test_queue_two_at_once_stop_and_cancel(manager, models_root):
    jobs_ = manager(max_running=2)
    for name in ("a", "b", "c"):
        jobs_.submit(name, "small", SMALL, LONG)
    listed = {job.name: job for job in jobs_.jobs()}
    assert [listed[n].status for n in "abc"] == ["running", "running", "queued"]
    assert listed["c"].queue_position == 1
    wait_for(lambda: epochs_done("a", models_root) >= 1 and epochs_done("b", models_root) >= 1,
             what="both jobs to finish an epoch")
    assert jobs_.stop("a") == "stopping"
    wait_for(lambda: status("a", models_root) == "stopped", what="a to stop")
    record = registry.read_record("a", root=models_root)
    assert record.test_accuracy > 0.3 and (models_root / "a" / "model.keras").is_file()
    # Its place goes to the queued job; the other keeps training undisturbed.
    wait_for(lambda: status("c", models_root) == "running", what="c to start")
    assert status("b", models_root) == "running"
    jobs_.stop("b")
    jobs_.stop("c")
    wait_for(lambda: all(status(n, models_root) == "stopped" for n in "bc"), what="b and c to stop")


def test_a_queued_job_can_be_cancelled(manager, models_root):
    jobs_ = manager(max_running=1, background=False)
    jobs_.max_running = 0  # nothing starts: everything waits in the queue
    jobs_.submit("waiting", "small", SMALL, TINY)
    assert jobs_.stop("waiting") == "cancelled"
    assert status("waiting", models_root) == "cancelled"


def test_a_restart_marks_an_unfinished_job_interrupted_and_keeps_what_it_learned(manager, models_root):
    first = manager(max_running=1)
    first.submit("long", "small", SMALL, LONG)
    wait_for(lambda: epochs_done("long", models_root) >= 2, what="two epochs")
    pid = registry.read_record("long", root=models_root).job.pid
    os.kill(pid, signal.SIGKILL)  # the server and its worker die without a word
    first.close(kill_workers=True)
    restarted = manager(max_running=1, background=False)
    record = registry.read_record("long", root=models_root)
    assert record.status == "interrupted" and "ended early" in record.error
    assert len(record.curve("val_accuracy")) >= 2
    model = registry.load_model("long", root=models_root)  # the best epoch so far
    assert model.count_params() > 0
    assert [job.status for job in restarted.jobs()] == ["interrupted"]


def test_an_error_inside_training_marks_the_job_failed_with_its_message(manager, models_root):
    jobs_ = manager(max_running=1)
    # Four pooled "valid" convolutions shrink 28x28 to nothing: Keras raises while building.
    collapsing = ArchSpec(convs=tuple(ConvSpec(4) for _ in range(4)), padding="valid")
    jobs_.submit("broken", "small", collapsing, TINY)
    wait_for(lambda: status("broken", models_root) == "failed", what="the job to fail")
    assert "ValueError" in registry.read_record("broken", root=models_root).error


def test_training_command_reproduces_the_job_from_a_shell():
    command = presets.training_command("x", "paper-s-2", presets.get("paper-s-2").spec, TINY)
    assert command == ("python -m digitlab train --arch paper-s-2 --name x --protocol full --epochs 2 "
                       "--batch-size 64 --train-size 1000 --restore-best")
    custom = SMALL.replace(dropout=0.5)
    args = shlex.split(presets.training_command("y", "small", custom, TINY))
    assert ArchSpec.from_dict(__import__("json").loads(args[args.index("--spec-json") + 1])) == custom


def test_ctrl_c_reaching_a_worker_stops_it_as_interrupted_with_its_metrics(manager, models_root):
    # Ctrl-C on the server's terminal reaches its workers too (same process group).
    jobs_ = manager(max_running=1)
    jobs_.submit("ctrl-c", "small", SMALL, LONG)
    wait_for(lambda: epochs_done("ctrl-c", models_root) >= 1, what="an epoch")
    os.kill(registry.read_record("ctrl-c", root=models_root).job.pid, signal.SIGINT)
    wait_for(lambda: status("ctrl-c", models_root) not in jobs.ACTIVE, what="the job to stop")
    record = registry.read_record("ctrl-c", root=models_root)
    assert record.status == "interrupted" and record.test_accuracy > 0.3
