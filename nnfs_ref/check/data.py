"""A loss's random data for the checker's search and ``nnfs-ref check``: predictions and
targets of the kinds a loss takes, made from real draws."""

import numpy as np

#: The kinds of a loss's predictions and targets.
PREDICTIONS = ("probabilities", "logits", "unit", "values")
TARGETS = ("labels", "onehot", "binary", "values")


def predictions_of(kind, raw):
    """A loss's predictions of ``kind`` (one of :data:`PREDICTIONS`) made from the real
    draws ``raw`` (batch, outputs): ``probabilities`` are softmax rows of ``clip(raw, -5,
    5)``, ``unit`` values the sigmoid of it mapped into [0.01, 0.99] (away from a clip),
    ``logits`` and ``values`` ``raw`` itself."""
    if kind == "probabilities":
        exp = np.exp(np.clip(raw, -5, 5))
        return exp / exp.sum(axis=1, keepdims=True)
    if kind == "unit":
        return 0.01 + 0.98 / (1 + np.exp(-np.clip(raw, -5, 5)))
    return raw


def targets_of(kind, labels, bits, raw):
    """A loss's targets of ``kind`` (one of :data:`TARGETS`) from the draws: ``labels``
    (batch,) integers in [0, outputs), ``bits`` (batch, outputs) of 0.0 and 1.0, and ``raw``
    (batch, outputs) reals (for ``values`` only; None will do for the others)."""
    if kind == "labels":
        return labels
    if kind == "onehot":
        return one_hot(labels, bits.shape[1])
    if kind == "binary":
        return bits
    return raw


def one_hot(y, classes):
    """Integer labels ``y`` (batch,) as one-hot rows (batch, classes)."""
    return np.eye(classes)[y]
