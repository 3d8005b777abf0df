"""The Draw page's drawing fragment: a stroke reruns only it, yet its number toggle still re-reads the uploads."""

import cv2
import numpy as np

from tests.e2e.strokes import draw


def test_number_toggle_in_the_fragment_rereads_uploads_and_drawing_still_works(page, tmp_path):
    picture = np.full((300, 500, 3), 230, np.uint8)
    cv2.putText(picture, "42", (120, 230), cv2.FONT_HERSHEY_SIMPLEX, 6, (20, 20, 20), 16)
    path = tmp_path / "num42.png"
    cv2.imwrite(str(path), picture)
    page.get_by_text("Draw a digit on the canvas").wait_for()
    page.locator("input[type=file]").set_input_files([str(path)])
    page.get_by_text("num42.png: 42").wait_for()
    page.get_by_text("Read a number").click()
    # Read as one digit now: the whole page reran, not only the drawing's fragment.
    page.get_by_text("num42.png: 42").wait_for(state="detached")
    assert page.get_by_text("num42.png:").count() == 1
    draw(page, "7", left=180, top=50, scale=1.3)
    page.get_by_text("Prediction: 7").wait_for()
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the canvas").wait_for()
    assert page.locator("[data-testid=stException]").count() == 0
