"""Random cases for the gradient checks, in one place: ``verify`` and the property tests.

Every builder goes from a NumPy ``Generator`` and the sizes (and any choice a
caller wants to make itself) to the arrays of one case. ``verify`` draws the
sizes and choices from its generator; the Hypothesis strategies of
``tests/strategies.py`` draw them with Hypothesis (so that it can shrink
them) and a seed for the generator. Each special point is defined here once:
inputs exactly 0 at the ReLU kink, predictions on and beyond the clip bounds,
logits up to 1e4. (A loss's data for the checker's search and ``nnfs-ref check``
are made by :mod:`nnfs_ref.check.data`.)
"""

import numpy as np

from manual import CLIP_MAX, CLIP_MIN
from nnfs_ref.check.data import one_hot

#: Values of a probability on, beyond and near the clip bounds (and 1e-300, whose
#: logarithm is finite but whose reciprocal overflows).
CLIP_POINTS = (0.0, 1e-300, 1e-12, CLIP_MIN, CLIP_MAX, 1 - 1e-12, 1.0)
#: Scales of ordinary inputs, and of extreme ones.
MODERATE = (1e-3, 1.0, 10.0)
EXTREME = (1e2, 1e3, 1e4)
#: Scales of the rows of logits (so that most cases hold huge, saturating rows).
LOGIT_ROWS = (1.0, 10.0, 100.0, 1e4)
#: Fractions of entries set to exactly 0.
ZERO_FRACTIONS = (0.0, 0.25, 0.5, 1.0)
#: The sizes drawn come from small pools: JAX compiles a reference once per shape
#: (30 to 300 ms), after which a call costs microseconds. Each pool holds the sizes
#: that hide bugs: a batch of 1, a width of 1, equal sizes (square weights hide a
#: missing transpose; a batch equal to a width keeps the shape of a sum over the wrong
#: axis) and the largest sizes. The simplest come first (Hypothesis shrinks towards them).
#:
#: ``(batch, n_inputs, n_neurons)`` of a layer; an activation's ``(batch, width)`` is the
#: first two.
LAYER_SIZES = ((1, 5, 3), (4, 4, 4), (7, 1, 7), (64, 32, 16))
#: ``(batch, classes)`` of a classifier's output.
CLASS_SIZES = ((1, 3), (2, 2), (5, 10), (64, 4))
#: ``(batch, outputs)`` of a regression or binary output.
OUTPUT_SIZES = ((1, 1), (3, 3), (64, 8))
#: Batches of the seed's network (3 equals its number of classes).
NETWORK_BATCHES = (1, 3, 64)


def with_zeros(rng, x, fraction):
    """``x`` with about ``fraction`` of its entries set to exactly 0."""
    return np.where(rng.random(x.shape) < fraction, 0.0, x)


def nonzero(rng, shape):
    """Entries bounded away from 0 (biases: zero biases hide bias bugs)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def labels(rng, batch, classes, dtype=np.int64):
    """Sparse integer labels in [0, classes), shape (batch,)."""
    return rng.integers(0, classes, size=batch).astype(dtype)




def target_form(rng, y, classes):
    """``(targets, one_hot)``: the sparse labels ``y`` as they are, or half the time as
    one-hot rows (each loss of classes takes both forms)."""
    if rng.random() < 0.5:
        return one_hot(y, classes), True
    return y, False


def dense(rng, batch, n_inputs, n_neurons, scale=1.0, zeros=0.25):
    """``(inputs, weights, biases, dvalues)`` of a Dense layer; inputs with exact zeros."""
    inputs = with_zeros(rng, rng.normal(size=(batch, n_inputs)) * scale, zeros)
    weights = rng.normal(size=(n_inputs, n_neurons))
    biases = nonzero(rng, (1, n_neurons))
    dvalues = rng.normal(size=(batch, n_neurons))
    return inputs, weights, biases, dvalues


def activation(rng, batch, width, scale=1.0, zeros=0.25):
    """``(inputs, dvalues)`` of one (batch, width) shape, inputs with exact zeros."""
    inputs = with_zeros(rng, rng.normal(size=(batch, width)) * scale, zeros)
    return inputs, rng.normal(size=(batch, width))


def logits(rng, batch, classes, row_scales=LOGIT_ROWS):
    """Normal logits, each row scaled by one of ``row_scales``."""
    return rng.normal(size=(batch, classes)) * rng.choice(row_scales, size=(batch, 1))


def softmax_rows(rng, batch, classes, scale=3.0):
    """Probabilities: the softmax of normal logits of ``scale``."""
    exp_values = np.exp(rng.normal(size=(batch, classes)) * scale)
    return exp_values / exp_values.sum(axis=1, keepdims=True)


def clipped_predictions(rng, batch, classes, y, fraction=0.3, scale=3.0):
    """Softmax rows whose true-class entry is, for about ``fraction`` of them, a clip point."""
    y_pred = softmax_rows(rng, batch, classes, scale)
    rows = np.flatnonzero(rng.random(batch) < fraction)
    y_pred[rows, y[rows]] = rng.choice(CLIP_POINTS, size=rows.size)
    return y_pred


def regression(rng, batch, outputs, scale=1.0, ties=0.25):
    """``(y_pred, y_true)``; about ``ties`` of the targets equal their prediction (MAE's kink)."""
    y_pred = rng.normal(size=(batch, outputs)) * scale
    y_true = rng.normal(size=(batch, outputs)) * scale
    return y_pred, np.where(rng.random(y_pred.shape) < ties, y_pred, y_true)


def binary(rng, batch, outputs, clipped=0.2, hard=True):
    """``(y_pred, y_true)``: probabilities (about ``clipped`` of them at clip points),
    targets 0/1 (``hard``) or in [0, 1]."""
    shape = (batch, outputs)
    y_pred = 1 / (1 + np.exp(-3 * rng.normal(size=shape)))
    y_pred = np.where(rng.random(shape) < clipped, rng.choice(CLIP_POINTS, size=shape), y_pred)
    y_true = rng.integers(0, 2, size=shape).astype(float) if hard else rng.random(shape)
    return y_pred, y_true


def network(rng, batch, n_inputs=2, hidden=64, classes=3):
    """``(params, X, y)`` for the seed's network, biases non-zero."""
    def layer(a, b):
        return {"weights": rng.normal(size=(a, b)), "biases": nonzero(rng, (1, b))}
    params = {"dense1": layer(n_inputs, hidden), "dense2": layer(hidden, classes)}
    return params, rng.normal(size=(batch, n_inputs)), labels(rng, batch, classes)


def draw(rng, pool):
    """One entry of ``pool`` (``LAYER_SIZES``, ``CLASS_SIZES``, ...), as ``verify`` draws it."""
    return pool[int(rng.integers(len(pool)))]
