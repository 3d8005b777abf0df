"""A job as a page shows it: its record, its latest progress, its place in the queue, in words and curves."""

from __future__ import annotations

from dataclasses import dataclass

from digitlab.jobs.files import Progress
from digitlab.metrics import report_from_confusion
from digitlab.records import RunRecord


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@dataclass(frozen=True)
class Job:
    """A job as a page shows it: its record, latest progress and place in the queue."""

    name: str
    record: RunRecord
    progress: Progress | None
    queue_position: int | None  # 1 = next to start; None unless queued

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def active(self) -> bool:
        return self.record.active

    @property
    def history(self) -> dict:
        return self.record.history

    @property
    def fraction(self) -> float:
        """Share of the planned epochs done (1.0 once finished)."""
        if not self.active:
            return 1.0
        return self.progress.event.fraction if self.progress else 0.0

    @property
    def evaluating(self) -> bool:
        return self.progress is not None and self.progress.event.kind == "evaluating"

    def progress_line(self) -> str:
        """One line for the progress bar: where training is, how fast, how long left."""
        if self.status == "queued":
            return f"waiting: number {self.queue_position} in the queue"
        if self.status == "running" and not self.progress:
            return "starting: loading TensorFlow and the data…"
        if self.status == "running":
            event = self.progress.event
            if self.evaluating:
                return f"training done after {event.epoch} epochs; measuring accuracy on the test set…"
            line = (f"epoch {event.epoch}/{event.epochs} · step {event.step}/{event.steps} · "
                    f"{event.images_per_s:,.0f} images/s · {format_duration(event.elapsed_s)} elapsed")
            if event.eta_s is not None:
                line += f" · about {format_duration(event.eta_s)} left"
            return line
        record = self.record
        line = f"{self.status} after {record.epochs_run} epochs"
        if record.train_time_s is not None:
            line += f" in {format_duration(record.train_time_s)}"
        if record.test_accuracy is not None:
            line += f" · test accuracy {100 * record.test_accuracy:.2f} %"
        if record.error and self.status not in ("complete", "stopped"):
            line += f" · {record.error}"
        return line

    def live_points(self) -> dict | None:
        """The training curve inside the current epoch, for `charts.accuracy_loss_curves(partial=...)`."""
        points = self.progress.points if self.progress else []
        done = len(self.record.curve("loss"))
        points = [p for p in points if p[0] > done]  # finished epochs are drawn from the history
        if not points:
            return None
        return {"x": [p[0] for p in points], "loss": [p[1] for p in points], "accuracy": [p[2] for p in points]}

    def latest_report(self) -> tuple[int, dict] | None:
        """(epoch, classification report) of the last finished epoch's validation pass."""
        matrices = self.history.get("val_confusion_matrix") or []
        if not matrices:
            return None
        return len(matrices), report_from_confusion(matrices[-1])
