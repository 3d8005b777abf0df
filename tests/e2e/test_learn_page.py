"""Learn page in headless Chromium: draw, walk every lesson step, edit a kernel cell and see the sum change."""

import os
import re
from pathlib import Path

from digitlab import lesson
from tests.e2e.strokes import draw

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Steps photographed for the README and docs/ when DIGITLAB_SCREENSHOTS=docs; elsewhere into the test's tmp folder.
PHOTOGRAPHED = {"conv", "maps", "field", "look", "depth", "break"} if os.environ.get("DIGITLAB_SCREENSHOTS") == "docs" \
    else set(lesson.STEP_KEYS)


def settle(page) -> None:
    """Wait until the app has finished its rerun (no running indicator, no stale elements)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(300)


def photograph(page, path: Path, heading) -> None:
    """The step from its heading down, palette-quantised so docs/ stays small."""
    from PIL import Image, ImageOps

    top = heading.bounding_box()["y"] - 10
    size = page.viewport_size
    page.screenshot(path=str(path), clip={"x": 300, "y": top, "width": size["width"] - 300,
                                           "height": min(1250, size["height"] - top)})
    picture = Image.open(path).convert("RGB")
    ink = ImageOps.invert(picture.crop((10, 0, picture.width, picture.height))).getbbox()  # drop the empty page below
    if ink:
        picture = picture.crop((0, 0, picture.width, min(picture.height, ink[3] + 20)))
    picture.quantize(128).save(path, optimize=True)


def no_error_box(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_draw_then_walk_every_step_and_edit_a_kernel(page, tmp_path):
    shots = DOCS if os.environ.get("DIGITLAB_SCREENSHOTS") == "docs" else Path(os.environ.get("DIGITLAB_SCREENSHOTS") or tmp_path)
    page.get_by_text("Draw a digit on the canvas").wait_for()
    page.set_viewport_size({"width": 1400, "height": 2200})  # the whole step in view for the photographs
    page.get_by_role("link", name="Learn").click()
    page.get_by_role("heading", name="Learn: how a CNN reads a digit").wait_for()
    page.get_by_text("Nothing drawn yet").wait_for()
    draw(page, "3", left=180, top=60, scale=1.2)
    page.get_by_text("source: your drawing").wait_for()
    page.get_by_text(re.compile(r"^Reads: 3$")).wait_for()
    settle(page)
    no_error_box(page)
    for index, step in enumerate(lesson.STEPS):
        if index:
            page.get_by_role("button", name="Next ▶").click()
        heading = page.get_by_role("heading", name=step.title)
        heading.wait_for()
        settle(page)
        no_error_box(page)
        page.wait_for_url(re.compile(rf"[?&]step={step.key}(&|$)"))  # the link opens this step
        if step.key == "conv":
            sum_line = page.get_by_text(re.compile(r"^sum of the 9 products"))
            before = sum_line.inner_text()
            cell = page.get_by_label("weight row 2, column 2")
            cell.fill("3")
            cell.press("Enter")
            page.wait_for_function(
                "before => [...document.querySelectorAll('p')].some(p => p.innerText.startsWith('sum of the 9') "
                "&& p.innerText !== before)", arg=before)
            settle(page)
            assert sum_line.inner_text() != before
            # Clicking a pixel of the output picks it (the third chart: input, kernel, output).
            picked = page.get_by_text(re.compile(r"^Output pixel \(row"))
            before = picked.inner_text()
            output = page.locator(".js-plotly-plot").nth(2).locator(".nsewdrag").first.bounding_box()
            page.mouse.click(output["x"] + output["width"] * 0.2, output["y"] + output["height"] * 0.8)
            page.wait_for_function(
                "before => [...document.querySelectorAll('p')].some(p => p.innerText.startsWith('Output pixel (row') "
                "&& p.innerText !== before)", arg=before)
            settle(page)
        if step.key == "field":
            caption = page.get_by_text(re.compile(r" unit \(\d+, \d+\) sees rows"))
            before = caption.inner_text()
            layer_map = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first.bounding_box()
            page.mouse.click(layer_map["x"] + layer_map["width"] * 0.3, layer_map["y"] + layer_map["height"] * 0.3)
            for _ in range(120):
                if caption.inner_text() != before:
                    break
                page.wait_for_timeout(500)
            assert caption.inner_text() != before, "a click on the layer's map picks another unit"
            settle(page)
        if step.key == "break":
            page.get_by_role("button", name=re.compile("^Find it for")).click()
            page.get_by_text(re.compile(r"pixels changed by more than 0\.1")).wait_for()
            settle(page)
        if step.key in PHOTOGRAPHED:
            photograph(page, shots / f"learn-{step.key}.png", heading)
    assert page.get_by_role("button", name="Next ▶").is_disabled()


def test_a_link_opens_the_lesson_at_its_step_model_and_settings(page, app_url):
    page.goto(app_url + "/learn?step=softmax&model=paper-s-2&t=4.0&source=mnist&digit=3")
    page.get_by_role("heading", name="8 · Softmax").wait_for()
    page.get_by_text("MNIST test image #3").wait_for()
    settle(page)
    no_error_box(page)
    page.wait_for_url(re.compile(r"model=paper-s-2.*t=4\.0"))


def test_a_setting_changed_in_the_panel_reaches_the_link(page, app_url):
    # The step's panel reruns alone (a fragment), so it must write the address bar itself.
    page.goto(app_url + "/learn?step=softmax&source=mnist&digit=0")
    page.get_by_role("heading", name="8 · Softmax").wait_for()
    settle(page)
    page.wait_for_url(re.compile(r"[?&]t=1\.0(&|$)"))
    page.get_by_role("slider").first.press("ArrowRight")  # temperature 1.0 -> 2.0
    page.wait_for_url(re.compile(r"[?&]t=2\.0(&|$)"))
    settle(page)
    no_error_box(page)


def test_the_drawing_carries_over_from_draw_to_learn_and_back(page):
    page.get_by_text("Draw a digit on the canvas").wait_for()
    draw(page, "7", left=200, top=60, scale=1.2)
    page.get_by_text("Prediction: 7").wait_for()
    settle(page)
    page.get_by_role("link", name="Learn").click()
    page.get_by_text("source: your drawing").wait_for()
    page.get_by_text(re.compile(r"^Reads: 7$")).wait_for()
    page.get_by_role("link", name="Draw").click()
    page.get_by_text("Prediction: 7").wait_for()
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the canvas").wait_for()
    page.get_by_role("link", name="Learn").click()
    page.get_by_text("Nothing drawn yet").wait_for()


def test_training_replay_scrubs_a_new_runs_epochs(browser, tmp_path):
    """A run trained with snapshots, on its own server so the other browser tests keep their run list."""
    from digitlab.architectures import ArchSpec, ConvSpec
    from digitlab.config import TrainConfig
    from digitlab.records import RunRecord
    from digitlab.training import train_run
    from tests.e2e.conftest import start_app

    root = tmp_path / "models"
    root.mkdir()
    train_run(RunRecord.new("classroom-small", "custom", ArchSpec(convs=(ConvSpec(8), ConvSpec(16)), dense_units=(32,)),
                            TrainConfig(epochs=4, batch_size=64, train_size=2000), command="test"), root=root)
    server, url = start_app({**os.environ, "DIGITLAB_MODELS": str(root)})
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 2000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_role("link", name="Learn").wait_for()
        # Leaving before the first page has finished its run loses the link's settings: the step opened at 1.
        page.get_by_text("Draw a digit on the canvas").wait_for()
        page.goto(url + "/learn?step=replay&model=classroom-small&source=mnist&digit=0")
        heading = page.get_by_role("heading", name="13 · Training replay")
        heading.wait_for()
        page.get_by_text(re.compile(r"^✓ reads")).first.wait_for()
        settle(page)
        no_error_box(page)
        assert page.get_by_text("first-layer filters after epoch 4").count() == 1
        shots = DOCS if os.environ.get("DIGITLAB_SCREENSHOTS") == "docs" else tmp_path
        photograph(page, shots / "learn-replay.png", heading)
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
