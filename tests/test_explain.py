"""The explainer on the stored models: softmax equals the model, saliency and Grad-CAM per class, occlusion, flips."""

from pathlib import Path

import numpy as np
import pytest

from digitlab import perturb, registry
from digitlab.data import mnist_test_set
from digitlab.explain import Explainer
from digitlab.inference import Predictor
from digitlab.softmax import softmax_steps

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def digits():
    images, labels = mnist_test_set()
    return images[:20, ..., 0], labels[:20]


@pytest.fixture(scope="module", params=["paper-s-2", "paper-h"])
def explainer(request):
    return Explainer(registry.load_model(request.param, root=REPO / "models"))


def test_forward_gives_every_map_layer_and_the_models_probabilities(explainer, digits):
    images, _ = digits
    forward = explainer.forward(images[0])
    assert set(forward.maps) == {n for n in explainer.map_names}
    assert forward.maps["conv1"].shape[:2] == (28, 28)
    predicted = Predictor(explainer.model, name="x").predict(images[:1])[0]
    assert np.allclose(forward.probabilities, predicted, atol=1e-5)


def test_softmax_panel_equals_the_models_probabilities(explainer, digits):
    images, _ = digits
    for image in images[:5]:
        forward = explainer.forward(image)
        steps = softmax_steps(forward.logits)
        assert np.allclose(steps.probabilities, forward.probabilities, atol=1e-5)
        assert np.allclose(steps.exps / steps.total, steps.probabilities)
    hot, cold = softmax_steps(forward.logits, 5.0), softmax_steps(forward.logits, 0.5)
    assert hot.probabilities.max() < steps.probabilities.max() < cold.probabilities.max()
    assert hot.probabilities.argmax() == cold.probabilities.argmax()


def test_softmax_refuses_a_non_positive_temperature():
    with pytest.raises(ValueError, match="temperature"):
        softmax_steps(np.zeros(10), 0)


def test_saliency_and_grad_cam_have_the_pictures_shape_and_depend_on_the_class(explainer, digits):
    image = digits[0][0]
    seven, one = explainer.attribution(image, 7), explainer.attribution(image, 1)
    for attribution in (seven, one):
        assert attribution.saliency.shape == attribution.grad_cam.shape == (28, 28)
        assert (attribution.grad_cam >= 0).all()
        assert np.abs(attribution.saliency).max() > 0
    assert not np.allclose(seven.saliency, one.saliency)
    assert not np.allclose(seven.grad_cam, one.grad_cam)
    with pytest.raises(ValueError, match="0–9"):
        explainer.attribution(image, 10)


def test_occlusion_marks_the_ink_not_the_empty_border(explainer, digits):
    image, label = digits[0][0], int(digits[1][0])
    seen = []
    occlusion = explainer.occlusion(image, label, progress=seen.append)
    assert occlusion.score_drop.shape == occlusion.probability_drop.shape == (28, 28)
    assert seen[-1] == 1.0
    ink = image > 0.5
    assert occlusion.score_drop[ink].mean() > abs(occlusion.score_drop[:3, :3].mean())
    assert (occlusion.probability_drop <= 1).all()


def test_smallest_flip_changes_the_answer_and_stays_a_picture(explainer, digits):
    flip = explainer.smallest_flip(digits[0][3])
    assert flip.flipped
    assert 0 <= flip.changed.min() and flip.changed.max() <= 1
    assert int(explainer.probabilities(flip.changed)[0].argmax()) == flip.after != flip.before
    assert flip.l2 == pytest.approx(float(np.linalg.norm(flip.changed - flip.original)), rel=1e-5)


def test_perturbations_at_their_neutral_amount_change_nothing(digits):
    image = digits[0][0]
    for kind, (_, _, _, _, neutral) in perturb.CHANGES.items():
        assert np.allclose(perturb.apply(image, [perturb.Change(kind, neutral)]), image, atol=1e-6), kind
    shifted = perturb.apply(image, [perturb.Change("shift right", 3)])
    columns = np.arange(28)
    assert (shifted.sum(0) @ columns) / shifted.sum() == pytest.approx((image.sum(0) @ columns) / image.sum() + 3, abs=0.3)
    assert perturb.apply(image, [perturb.Change("thicken", 1)]).sum() > image.sum()
    amounts, images = perturb.sweep(image, "rotate")
    assert images.shape == (len(amounts), 28, 28) and 0 in amounts
    with pytest.raises(ValueError, match="unknown change"):
        perturb.Change("melt", 1)
