"""Measure a fresh server's first drawing, from mouse-up to its reading on screen: `python -m tests.e2e.first_drawing`.

    python -m tests.e2e.first_drawing [--wait S ...] [--rounds N] [--other CHECKOUT]

Each round starts the app afresh, opens the Draw page in headless Chromium, waits `--wait`
seconds (a teacher opening the page before the class draws: 15; a student drawing at once: 0),
draws a 1 with the mouse and times the last mouse-up to the reading on screen. With `--other`
(another checkout of this repository, e.g. a `git worktree` of an older commit) the rounds
alternate between the two, so a ratio is measured side by side on the same machine.
"""

import argparse
import re
import statistics
import time
from pathlib import Path

from tests.e2e.conftest import REPO, chromium_page, start_app
from tests.e2e.strokes import draw

READING = re.compile(r"^(Prediction|Number): ")


def first_reading_s(checkout: Path, wait_s: float) -> float:
    """Seconds from the first drawing's mouse-up to its reading, on a server started afresh from `checkout`."""
    server, url = start_app(cwd=checkout)
    try:
        with chromium_page(url, timeout_ms=120_000) as page:
            page.get_by_text("Draw a digit on the canvas").wait_for()
            page.wait_for_timeout(int(wait_s * 1000))
            draw(page, "1", left=180, top=50, scale=1.3)
            start = time.perf_counter() - 0.150  # draw() returns 150 ms after the mouse-up
            page.get_by_text(READING).first.wait_for()
            return time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, nargs="+", default=[15.0, 0.0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--other", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    checkouts = {"this checkout": REPO} | ({str(args.other): args.other} if args.other else {})
    print("| checkout | page open before drawing | first reading (median) | rounds |")
    print("|---|---|---|---|")
    for wait_s in args.wait:
        times = {label: [] for label in checkouts}
        for _ in range(args.rounds):
            for label, checkout in checkouts.items():
                times[label].append(first_reading_s(checkout, wait_s))
        for label, seconds in times.items():
            print(f"| {label} | {wait_s:.0f} s | {statistics.median(seconds):.1f} s "
                  f"({', '.join(f'{s:.1f}' for s in seconds)}) | {len(seconds)} |")


if __name__ == "__main__":
    main()
