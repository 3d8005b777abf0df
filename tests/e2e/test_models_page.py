"""Models page in headless Chromium: upload a model, see it evaluated and listed, make it the default, rename, delete."""

import os
import shutil

import keras
import numpy as np
import pytest

from tests.e2e.conftest import REPO, start_app
from tests.e2e.strokes import draw


def always_three(path):
    """A valid Keras model that reads every picture as a 3: Draw reading a 1 as 3 shows it is the model in use."""
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")])
    model.layers[-1].bias.assign(np.eye(10, dtype="float32")[3] * 5.0)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def own_app(tmp_path_factory):
    """An app over its own copy of models/: this test changes the default model, which other tests read with."""
    root = tmp_path_factory.mktemp("models-page") / "models"
    shutil.copytree(REPO / "models", root)
    server, url = start_app({**os.environ, "DIGITLAB_MODELS": str(root)})
    yield url, root
    server.terminate()
    server.wait(timeout=30)


def test_upload_evaluate_set_default_draw_rename_delete(browser, own_app, tmp_path):
    url, root = own_app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + "/models")
    page.get_by_role("heading", name="Stored models").wait_for()

    # Upload: checked, read on MNIST's 10,000 test digits (1,010 of them are 3s), listed.
    page.locator("input[type=file]").set_input_files(str(always_three(tmp_path / "always 3.keras")))
    page.get_by_role("textbox", name="Store it as").fill("always-three")
    page.get_by_role("textbox", name="Store it as").press("Enter")
    page.get_by_role("button", name="Check, evaluate and store").click()
    page.get_by_text("Stored always-three: 10.10 % on MNIST's 10,000 test digits").wait_for()
    page.get_by_role("heading", name="always-three").wait_for()  # its details, chosen for you
    assert (root / "always-three" / "model.keras").is_file()
    page.screenshot(path="/tmp/digitlab-models-uploaded.png", full_page=True)

    page.get_by_role("button", name="Set as default").click()
    page.get_by_text("always-three is now the default model").wait_for()
    assert (root / "DEFAULT").read_text().strip() == "always-three"

    # A new visitor's Draw page reads with it: a 1 is read as 3.
    visitor = context.browser.new_page(viewport={"width": 1400, "height": 1000})
    visitor.set_default_timeout(60_000)
    visitor.goto(url)
    visitor.get_by_text("Model: always-three").first.wait_for()
    visitor.get_by_text("Draw a digit on the canvas").wait_for()
    draw(visitor, "1", left=200, top=60, scale=1.2)
    visitor.get_by_text("Prediction: 3").wait_for()
    visitor.screenshot(path="/tmp/digitlab-models-draw.png", full_page=True)
    visitor.close()

    page.get_by_role("textbox", name="New name").fill("three-forever")
    page.get_by_role("textbox", name="New name").press("Enter")
    page.get_by_role("button", name="Rename", exact=True).click()
    page.get_by_text("always-three is now called three-forever").wait_for()
    assert not (root / "always-three").exists() and (root / "DEFAULT").read_text().strip() == "three-forever"

    delete = page.get_by_role("button", name="Delete", exact=True)
    assert delete.is_disabled()  # not before the confirmation
    page.get_by_text("Yes, delete three-forever and its model for good").click()
    delete.click()
    page.get_by_text("three-forever is deleted").wait_for()
    assert not (root / "three-forever").exists() and not (root / "DEFAULT").exists()
    page.screenshot(path="/tmp/digitlab-models-deleted.png", full_page=True)
    context.close()
