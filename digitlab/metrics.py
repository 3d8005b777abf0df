"""Classification metrics of both papers: accuracy, confusion matrix, per-class P/R/F1, errors.

Precision, recall and F1 follow Paper S's equations 2-4 (TP / (TP + FP), TP / (TP + FN),
2PR / (P + R)); a class with no predictions (or no support) scores 0 there, as in
scikit-learn with `zero_division=0`. Paper H's per-digit accuracy is the per-class recall.
"""

from __future__ import annotations

import numpy as np

DIGITS = tuple(range(10))


def _check(y_true, y_pred, labels):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D label arrays, got shapes {y_true.shape} and {y_pred.shape}")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty")
    labels = np.asarray(DIGITS if labels is None else labels)
    if len(np.unique(labels)) != len(labels):
        raise ValueError("labels must not repeat")
    unknown = np.setdiff1d(np.union1d(y_true, y_pred), labels)
    if len(unknown):
        raise ValueError(f"labels {unknown.tolist()} are not in labels={labels.tolist()}")
    return y_true, y_pred, labels


def accuracy(y_true, y_pred, *, labels=None) -> float:
    """Fraction of predictions equal to the truth (Paper S, equation 1)."""
    y_true, y_pred, _ = _check(y_true, y_pred, labels)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, *, labels=None) -> np.ndarray:
    """(k, k) int64 counts; row = true label, column = predicted label, in `labels` order."""
    y_true, y_pred, labels = _check(y_true, y_pred, labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, ([index[v] for v in y_true.tolist()], [index[v] for v in y_pred.tolist()]), 1)
    return matrix


def _safe_divide(num, den):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def precision_recall_f1(y_true, y_pred, *, labels=None) -> dict:
    """Per-class arrays: `precision`, `recall`, `f1` (float64) and `support` (int64), in `labels` order."""
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    tp = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = _safe_divide(tp, predicted)
    recall = _safe_divide(tp, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def per_class_accuracy(y_true, y_pred, *, labels=None) -> np.ndarray:
    """Share of each class's images read correctly (Paper H's per-digit accuracy = recall)."""
    return precision_recall_f1(y_true, y_pred, labels=labels)["recall"]


def classification_report(y_true, y_pred, *, labels=None) -> dict:
    """Everything above as JSON-ready values: accuracy, per-class rows, macro and weighted averages."""
    _, _, labels_arr = _check(y_true, y_pred, labels)
    scores = precision_recall_f1(y_true, y_pred, labels=labels)
    support = scores["support"]
    per_class = [
        {
            "label": int(label),
            "precision": float(scores["precision"][i]),
            "recall": float(scores["recall"][i]),
            "f1": float(scores["f1"][i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels_arr.tolist())
    ]
    weights = support / support.sum()
    averages = {
        kind: {
            metric: float(np.mean(scores[metric]) if kind == "macro" else np.sum(scores[metric] * weights))
            for metric in ("precision", "recall", "f1")
        }
        for kind in ("macro", "weighted")
    }
    return {
        "accuracy": accuracy(y_true, y_pred, labels=labels),
        "per_class": per_class,
        "macro": averages["macro"],
        "weighted": averages["weighted"],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": labels_arr.tolist(),
    }


def report_from_confusion(matrix, *, labels=None) -> dict:
    """`classification_report`'s accuracy, per-class rows and averages from a (k, k) count matrix.

    For live training, where only the confusion counts of the last validation pass exist.
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.sum() == 0:
        raise ValueError(f"need a square, non-empty count matrix, got shape {matrix.shape}")
    labels = np.arange(len(matrix)) if labels is None else np.asarray(labels)
    true_labels, predicted_labels = np.meshgrid(labels, labels, indexing="ij")
    counts = matrix.ravel()
    return classification_report(np.repeat(true_labels.ravel(), counts), np.repeat(predicted_labels.ravel(), counts),
                                 labels=labels.tolist())


def misclassified(y_true, probabilities, *, top: int = 3) -> list[dict]:
    """Every wrongly read image: its index, true label, prediction and top-`top` (label, probability).

    `probabilities` is (n, k) with column j the probability of label j. Sorted by how sure
    the model was of its wrong answer, most confident first (the hardest digits).
    """
    probabilities = np.asarray(probabilities)
    y_true = np.asarray(y_true)
    if probabilities.ndim != 2 or len(probabilities) != len(y_true):
        raise ValueError(f"probabilities must be (n, k) with n = {len(y_true)}, got {probabilities.shape}")
    y_pred = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    wrong = wrong[np.argsort(-probabilities[wrong, y_pred[wrong]], kind="stable")]
    order = np.argsort(-probabilities, axis=1)[:, :top]
    return [
        {
            "index": int(i),
            "true": int(y_true[i]),
            "predicted": int(y_pred[i]),
            "top": [(int(j), float(probabilities[i, j])) for j in order[i]],
        }
        for i in wrong
    ]
