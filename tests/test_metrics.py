"""Metrics on tiny cases counted by hand."""

import numpy as np
import pytest

from digitlab import metrics

# 3 classes. Truth 0 0 0 1 1 2, predicted 0 0 1 1 2 2.
Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 0, 1, 1, 2, 2]
LABELS = [0, 1, 2]


def test_accuracy_counts_matches():
    assert metrics.accuracy(Y_TRUE, Y_PRED, labels=LABELS) == pytest.approx(4 / 6)


def test_confusion_matrix_rows_are_truth():
    expected = [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED, labels=LABELS).tolist() == expected


def test_precision_recall_f1_by_hand():
    scores = metrics.precision_recall_f1(Y_TRUE, Y_PRED, labels=LABELS)
    # class 0: TP 2, FP 0, FN 1 -> P 1, R 2/3; class 1: TP 1, FP 1, FN 1; class 2: TP 1, FP 1, FN 0.
    assert scores["precision"] == pytest.approx([1.0, 0.5, 0.5])
    assert scores["recall"] == pytest.approx([2 / 3, 0.5, 1.0])
    assert scores["f1"] == pytest.approx([0.8, 0.5, 2 / 3])
    assert scores["support"].tolist() == [3, 2, 1]


def test_report_averages():
    report = metrics.classification_report(Y_TRUE, Y_PRED, labels=LABELS)
    assert report["macro"]["precision"] == pytest.approx(2 / 3)
    assert report["macro"]["recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    # weighted by support 3, 2, 1
    assert report["weighted"]["f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6)
    assert report["per_class"][2] == {"label": 2, "precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}


def test_class_never_predicted_scores_zero_not_nan():
    scores = metrics.precision_recall_f1([0, 1], [0, 0], labels=[0, 1])
    assert scores["precision"].tolist() == [0.5, 0.0]
    assert scores["f1"][1] == 0.0


def test_per_class_accuracy_is_recall():
    assert metrics.per_class_accuracy(Y_TRUE, Y_PRED, labels=LABELS) == pytest.approx([2 / 3, 0.5, 1.0])


def test_default_labels_are_the_ten_digits():
    assert metrics.confusion_matrix([3], [3]).shape == (10, 10)


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [([0, 1], [0], "y_true has 2 labels but y_pred has 1"), ([], [], "empty"), ([0, 7], [0, 1], r"labels \[7\]")],
)
def test_validation_errors(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metrics.accuracy(y_true, y_pred, labels=[0, 1])


def test_misclassified_sorted_by_confidence_with_top3():
    probabilities = np.array([
        [0.9, 0.05, 0.05],  # true 0, right
        [0.6, 0.3, 0.1],  # true 1, read 0 at 0.6
        [0.1, 0.2, 0.7],  # true 1, read 2 at 0.7
    ])
    wrong = metrics.misclassified([0, 1, 1], probabilities)
    assert [w["index"] for w in wrong] == [2, 1]
    assert wrong[0]["predicted"] == 2 and wrong[0]["true"] == 1
    assert wrong[0]["top"] == [(2, 0.7), (1, 0.2), (0, 0.1)]


def test_report_from_confusion_matches_the_report_from_labels():
    # 3 classes, counted by hand: class 0 read right twice and once as 1; class 2 once as 0.
    matrix = [[2, 1, 0], [0, 1, 0], [1, 0, 1]]
    report = metrics.report_from_confusion(matrix)
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert [row["precision"] for row in report["per_class"]] == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert [row["recall"] for row in report["per_class"]] == pytest.approx([2 / 3, 1.0, 1 / 2])
    assert report["confusion_matrix"] == matrix
    with pytest.raises(ValueError, match="square"):
        metrics.report_from_confusion([[0, 0], [0, 0]])
