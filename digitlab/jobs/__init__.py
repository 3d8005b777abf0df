"""Background training jobs: queued in run folders on disk, trained by worker processes, stopped by a file.

A job is a run folder whose run.json says `queued`, then `running`, then how it ended.
Everything a page shows is read back from that folder, so leaving the page, a second tab,
a refreshed browser or a restarted server all see the same jobs:

- `run.json` holds the spec, knobs and per-epoch history (rewritten after each epoch);
- `progress.json` holds the latest progress event and the running curve (about twice a second);
- `model.keras` is the best epoch so far, `last.weights.h5` the last one;
- a file named `STOP` asks the worker to stop at its next batch.

`queue.JobManager` (one per server) starts queued jobs as worker processes
(`python -m digitlab.jobs.worker NAME`, in `worker`) and watches them; `view.Job` is a job as
a page shows it. This module holds the file protocol they share.
"""

from digitlab.jobs.files import (ACTIVE, CURVE_POINTS, LAST_WEIGHTS, LOG_FILE, PROGRESS_FILE, STOP_FILE, Progress,
                                 read_progress, submit, write_progress)
from digitlab.jobs.queue import JobManager, default_max_running
from digitlab.jobs.view import Job, format_duration

__all__ = ["ACTIVE", "CURVE_POINTS", "LAST_WEIGHTS", "LOG_FILE", "PROGRESS_FILE", "STOP_FILE", "Job", "JobManager",
           "Progress", "default_max_running", "format_duration", "read_progress", "submit", "write_progress"]
