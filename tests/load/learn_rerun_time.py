"""Server time per Learn rerun under AppTest: `python -m tests.load.learn_rerun_time [--walks 3] [--edits 10]`.

Opens Learn on MNIST test digit #0, walks every step (once to fill the caches, then `--walks`
more times) and edits a kernel cell `--edits` times, timing each whole-page `AppTest.run()`
(the page script and its messages, no browser). AppTest runs a fragment as part of the whole
page, so this does not show what a fragment saves: `python -m tests.e2e.learn_latency` does.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from digitlab import lesson

REPO = Path(__file__).resolve().parent.parent.parent


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300)
    app.query_params["source"] = "mnist"
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def timed(app: AppTest) -> float:
    start = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - start
    assert not app.exception, [e.value for e in app.exception]
    return elapsed


def walk(app: AppTest) -> dict[str, float]:
    times = {}
    for key in lesson.STEP_KEYS:
        app.session_state["learn_step"] = lesson.step_index(key)
        times[key] = timed(app)
    return times


def edits(app: AppTest, count: int) -> list[float]:
    app.session_state["learn_step"] = lesson.step_index("conv")
    app.run()
    out = []
    for n in range(count):
        app.number_input(key="learn_k11").set_value(float(n % 4) + 0.5)
        out.append(timed(app))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--walks", type=int, default=3)
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("DIGITLAB_MNIST", str(REPO.parent / "shared" / "datasets" / "mnist.npz"))
    app = open_page("pages/learn.py")
    walk(app)  # fills the shared caches and traces the models
    steps = {key: [] for key in lesson.STEP_KEYS}
    for _ in range(args.walks):
        for key, seconds in walk(app).items():
            steps[key].append(seconds)
    edit_times = edits(app, args.edits)
    print(f"{'step':<20}{'median s per rerun':>20}")
    for key in lesson.STEP_KEYS:
        print(f"{key:<20}{statistics.median(steps[key]):>20.3f}")
    print(f"{'kernel cell edit':<20}{statistics.median(edit_times):>20.3f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
