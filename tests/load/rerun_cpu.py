"""Server CPU per Draw rerun with a drawing: `python -m tests.load.rerun_cpu [--reruns 40]`.

Starts the app (a copy of models/), opens one protocol-level session, warms it up, then sends
`--reruns` strokes one after another, each a different MNIST test digit, waiting for each run
to finish; the server's CPU (/proc/PID/stat, 10 ms ticks) is read before and after every rerun.
A second pass sends the same drawings again from a second session: what a drawing costs when
another student's session has already drawn it. Prints medians and means in milliseconds (JSON).
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from tests.load.classroom import REPO, process_cpu_seconds
from tests.load.drawings import canvas_drawings
from tests.load.protocol import Session


async def measure(url: str, pid: int, reruns: int) -> dict:
    drawings = canvas_drawings(reruns + 1, seed=1)
    figures = {}
    for label, batch in (("new drawing", drawings), ("drawing seen before, another session", drawings)):
        session = Session(url)
        await session.connect()
        await session.wait_for(session.rerun(), ("finished",), 120)
        samples = []
        for index, drawing in enumerate(batch):
            before = process_cpu_seconds(pid)
            mark = session.rerun({"canvas": ("json_value", drawing.value)},
                                 fragment_id=session.widgets["canvas"].fragment_id)
            finished = await session.wait_for(mark, ("finished",), 120)
            if finished is None or finished.kind != "finished" or session.problems(mark):
                raise RuntimeError(f"rerun failed: {finished} {session.problems(mark)}")
            if index:  # the first one loads and compiles models
                samples.append(process_cpu_seconds(pid) - before)
        await session.close()
        figures[label] = {"reruns": len(samples), "median_ms": round(statistics.median(samples) * 1000),
                          "mean_ms": round(statistics.fmean(samples) * 1000, 1)}
    return figures


def main() -> None:
    from tests.e2e.conftest import start_app

    parser = argparse.ArgumentParser()
    parser.add_argument("--reruns", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digitlab-rerun-") as folder:
        models = Path(folder) / "models"
        shutil.copytree(REPO / "models", models, ignore=shutil.ignore_patterns(".tmp-*", ".trash-*", ".jobs.lock"))
        server, url = start_app({**os.environ, "DIGITLAB_MODELS": str(models)})
        try:
            figures = asyncio.run(measure(url, server.pid, args.reruns))
        finally:
            server.terminate()
            server.wait(timeout=30)
    for label, values in figures.items():
        print(f"Draw rerun, {label}: median {values['median_ms']} ms, mean {values['mean_ms']} ms of server CPU "
              f"({values['reruns']} reruns)")
    print(json.dumps({"load_average": os.getloadavg(), **figures}))


if __name__ == "__main__":
    main()
