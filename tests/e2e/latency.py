"""Measure the Draw page's latency from mouse-up to `Prediction:` on screen: `python -m tests.e2e.latency`.

Starts the app on a free port, draws digits with the mouse in headless Chromium, and prints
the median and worst time from the last stroke's mouse-up to the new prediction's text.
"""

import argparse
import statistics
import time

from tests.e2e.conftest import chromium_page, start_app
from tests.e2e.strokes import DIGITS, draw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    server, url = start_app()
    try:
        with chromium_page(url, timeout_ms=120_000) as page:
            page.get_by_text("Draw a digit on the canvas").wait_for()
            latencies, correct = [], 0
            digits = [d for d, strokes in DIGITS.items() if len(strokes) == 1]  # one mouse-up each
            for i in range(args.rounds + 1):
                digit = digits[i % len(digits)]
                draw(page, digit, left=180, top=50, scale=1.3)
                # draw() returns 150 ms after the last mouse-up; the clock starts at that mouse-up.
                start = time.perf_counter() - 0.150
                page.get_by_text("Prediction: ").first.wait_for()
                elapsed = time.perf_counter() - start
                if i:  # the first round pays for loading every model
                    latencies.append(elapsed)
                    correct += page.get_by_text(f"Prediction: {digit}").count() > 0
                page.get_by_role("button", name="Clear").click()
                page.get_by_text("Draw a digit on the canvas").wait_for()
        print(f"{len(latencies)} drawings: median {statistics.median(latencies) * 1000:.0f} ms, "
              f"worst {max(latencies) * 1000:.0f} ms from mouse-up to Prediction on screen; "
              f"{correct}/{len(latencies)} read right")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
