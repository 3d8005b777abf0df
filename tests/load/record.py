"""Record what a real browser sends while drawing one digit: `python -m tests.load.record OUT.json`.

Opens the Draw page in headless Chromium, draws a 7, and writes every websocket frame of
`/_stcore/stream` (direction, time, base64 bytes, and the decoded BackMsg as text) to OUT.json.
The load test's replay (`tests/load/protocol.py`) was written from such a recording.
"""

import argparse
import base64
import json
import os
import time

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app
from tests.e2e.strokes import draw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    args = parser.parse_args()
    from streamlit.proto.BackMsg_pb2 import BackMsg

    frames = []
    start = time.perf_counter()

    def on_socket(socket):
        def sent(payload):
            data = payload if isinstance(payload, bytes) else payload.encode()
            message = BackMsg()
            message.ParseFromString(data)
            frames.append({"dir": "sent", "t": time.perf_counter() - start,
                           "b64": base64.b64encode(data).decode(), "text": str(message)[:4000]})

        def received(payload):
            data = payload if isinstance(payload, bytes) else payload.encode()
            frames.append({"dir": "received", "t": time.perf_counter() - start, "bytes": len(data)})

        socket.on("framesent", sent)
        socket.on("framereceived", received)

    server, url = start_app({**os.environ})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.on("websocket", on_socket)
            page.goto(url)
            page.get_by_text("Draw a digit on the canvas").wait_for()
            draw(page, "7", left=180, top=50, scale=1.3)
            page.get_by_text("Prediction: ").first.wait_for()
            page.get_by_role("button", name="Clear").click()
            page.get_by_text("Draw a digit on the canvas").wait_for()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    with open(args.out, "w") as file:
        json.dump(frames, file, indent=1)
    print(f"{len(frames)} frames written to {args.out}")


if __name__ == "__main__":
    main()
