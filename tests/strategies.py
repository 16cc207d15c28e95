"""Hypothesis strategies: draw sizes first, then arrays that fit.

The bulk of each array comes from a NumPy generator seeded by Hypothesis
(continuous random values: no two entries of a row equal, so no upstream
gradient is accidentally constant); the awkward points that matter for
gradients are placed on top by Hypothesis itself: exact zeros at the ReLU
kink, predictions on and beyond the clip bounds, huge logits.
"""

import numpy as np
from hypothesis import strategies as st

import manual

batches = st.integers(1, 64)
widths = st.integers(1, 32)
class_counts = st.integers(2, 10)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def generators(draw):
    """A seeded ``numpy.random.Generator``."""
    return np.random.default_rng(draw(seeds))


moderate = st.sampled_from([1e-3, 1.0, 10.0])
extreme = st.sampled_from([1e2, 1e3, 1e4])


@st.composite
def normal_arrays(draw, shape, scale=moderate):
    """float64 ``normal * scale`` of ``shape``; ``scale`` a strategy or a number."""
    rng = draw(generators())
    s = draw(scale) if isinstance(scale, st.SearchStrategy) else scale
    return rng.normal(size=shape) * s


@st.composite
def nonzero_arrays(draw, shape):
    """Random entries bounded away from 0 (for biases: zero biases hide bias bugs)."""
    rng = draw(generators())
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


@st.composite
def with_zeros(draw, x):
    """``x`` with a drawn fraction of its entries (none, some or all) set to exactly 0."""
    fraction = draw(st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    rng = draw(generators())
    return np.where(rng.random(x.shape) < fraction, 0.0, x)


@st.composite
def dense_cases(draw):
    """``(inputs, weights, biases, dvalues)`` for a Dense layer of random size."""
    batch, n_in = draw(batches), draw(widths)
    n_out = draw(st.one_of(st.just(n_in), widths))  # square weights hide a missing transpose
    inputs = draw(with_zeros(draw(normal_arrays((batch, n_in)))))
    weights = draw(normal_arrays((n_in, n_out), scale=1.0))
    biases = draw(nonzero_arrays((1, n_out)))
    dvalues = draw(normal_arrays((batch, n_out), scale=1.0))
    return inputs, weights, biases, dvalues


@st.composite
def activation_cases(draw, scale=moderate, min_width=1):
    """``(inputs, dvalues)`` of one random (batch, width) shape, inputs with exact zeros."""
    shape = (draw(batches), draw(st.integers(min_width, 32)))
    inputs = draw(with_zeros(draw(normal_arrays(shape, scale))))
    dvalues = draw(normal_arrays(shape, scale=1.0))
    return inputs, dvalues


@st.composite
def labels(draw, batch, classes):
    """Sparse integer labels in [0, classes), shape (batch,)."""
    rng = draw(generators())
    dtype = draw(st.sampled_from([np.int64, np.int32, np.uint8]))
    return rng.integers(0, classes, size=batch).astype(dtype)


def one_hot(y, classes):
    return np.eye(classes)[y]


@st.composite
def logits_cases(draw, scale=moderate):
    """``(logits, labels)``: (batch, classes) float64 and (batch,) integers."""
    batch, classes = draw(batches), draw(class_counts)
    return draw(normal_arrays((batch, classes), scale)), draw(labels(batch, classes))


CLIP_POINTS = [0.0, 1e-300, 1e-12, manual.CLIP_MIN, manual.CLIP_MAX, 1 - 1e-12, 1.0]


@st.composite
def prediction_cases(draw, clipped=True):
    """``(y_pred, labels)``: softmax-like rows, true-class entries optionally at clip points.

    With ``clipped=False`` every true-class probability lies strictly inside
    the clip bounds (and the other entries too).
    """
    logits, y = draw(logits_cases(scale=st.sampled_from([0.1, 1.0, 3.0])))
    exp_values = np.exp(logits - logits.max(axis=1, keepdims=True))
    y_pred = exp_values / exp_values.sum(axis=1, keepdims=True)
    if clipped:
        rows = draw(st.lists(st.integers(0, len(y) - 1), unique=True, max_size=len(y)))
        for i in rows:
            y_pred[i, y[i]] = draw(st.sampled_from(CLIP_POINTS))
    else:
        y_pred = np.clip(y_pred, 1e-6, 1 - 1e-6)
    return y_pred, y


@st.composite
def network_cases(draw, hidden=64, classes=3):
    """``(params, X, y)`` for the seed's network: Dense 2->hidden, ReLU, Dense hidden->classes."""
    batch = draw(batches)
    params = {
        "dense1": {"weights": draw(normal_arrays((2, hidden), scale=1.0)),
                   "biases": draw(nonzero_arrays((1, hidden)))},
        "dense2": {"weights": draw(normal_arrays((hidden, classes), scale=1.0)),
                   "biases": draw(nonzero_arrays((1, classes)))},
    }
    X = draw(normal_arrays((batch, 2), scale=1.0))
    return params, X, draw(labels(batch, classes))


@st.composite
def regression_cases(draw, ties=True):
    """``(y_pred, y_true)`` of shape (batch, outputs); some targets equal their prediction."""
    shape = (draw(batches), draw(st.integers(1, 8)))
    y_pred = draw(normal_arrays(shape))
    y_true = draw(normal_arrays(shape))
    if ties:
        rng = draw(generators())
        y_true = np.where(rng.random(shape) < 0.25, y_pred, y_true)
    return y_pred, y_true


@st.composite
def binary_cases(draw, clipped=True):
    """``(y_pred, y_true)``: probabilities (some on/beyond the clip bounds), targets in [0, 1]."""
    shape = (draw(batches), draw(st.integers(1, 8)))
    rng = draw(generators())
    y_pred = 1 / (1 + np.exp(-3 * rng.normal(size=shape)))
    if clipped:
        mask = rng.random(shape) < 0.2
        y_pred = np.where(mask, rng.choice(CLIP_POINTS, size=shape), y_pred)
    hard = draw(st.booleans())
    y_true = rng.integers(0, 2, size=shape).astype(float) if hard else rng.random(shape)
    return y_pred, y_true


#: Hyper-parameter strategies of the book's optimizers (decay and momentum often 0).
HYPERPARAMETERS = {
    "learning_rate": st.floats(1e-4, 1.0),
    "decay": st.sampled_from([0.0, 1e-3, 0.1]),
    "momentum": st.one_of(st.just(0.0), st.floats(0.0, 0.99)),
    "epsilon": st.sampled_from([1e-7, 1e-3]),
    "rho": st.floats(0.0, 0.999),
    "beta_1": st.floats(0.0, 0.99),
    "beta_2": st.floats(0.9, 0.9999),
}


@st.composite
def optimizer_cases(draw, kind, **fixed):
    """``(hyper, params, grads)`` for the optimizer ``kind`` on one of the book's layer shapes.

    ``grads`` holds ``reference.optimizers.STEPS`` gradients (one scale per
    step, 1e-4 to 10, some entries exactly 0); ``fixed`` pins hyper-parameters.
    """
    from reference import optimizers as O

    hyper = O.hyperparameters(kind, **{name: draw(HYPERPARAMETERS[name])
                                       for name in O.DEFAULTS[kind]})
    hyper.update(fixed)
    shape = draw(st.sampled_from(O.LAYER_SHAPES))
    params, grads = O.random_problem(draw(generators()), shape)
    return hyper, params, grads
