"""Hypothesis strategies: draw sizes and choices first, then the arrays that fit them.

The arrays come from :mod:`reference.cases`, the case builders ``verify`` uses
too, given a NumPy generator seeded by Hypothesis (continuous random values:
no two entries of a row equal, so no upstream gradient is accidentally
constant). Hypothesis draws the sizes, the scales and the awkward points (the
fraction of exact zeros at the ReLU kink, the rows whose true-class
prediction sits on a clip point and which point), so that it can shrink them.
"""

import numpy as np
from hypothesis import strategies as st

from reference import cases

layer_sizes = st.sampled_from(cases.LAYER_SIZES)
class_sizes = st.sampled_from(cases.CLASS_SIZES)
output_sizes = st.sampled_from(cases.OUTPUT_SIZES)
network_batches = st.sampled_from(cases.NETWORK_BATCHES)
seeds = st.integers(0, 2**32 - 1)
moderate = st.sampled_from(cases.MODERATE)
extreme = st.sampled_from(cases.EXTREME)
zero_fractions = st.sampled_from(cases.ZERO_FRACTIONS)
one_hot = cases.one_hot


@st.composite
def generators(draw):
    """A seeded ``numpy.random.Generator``."""
    return np.random.default_rng(draw(seeds))


@st.composite
def dense_cases(draw):
    """``(inputs, weights, biases, dvalues)`` for a Dense layer of random size."""
    batch, n_in, n_out = draw(layer_sizes)
    return cases.dense(draw(generators()), batch, n_in, n_out, scale=draw(moderate),
                       zeros=draw(zero_fractions))


@st.composite
def activation_cases(draw, scale=moderate, min_width=1):
    """``(inputs, dvalues)`` of one (batch, width) shape of the pool, inputs with exact
    zeros; with ``min_width`` 2, a classifier's (batch, classes) shape."""
    sizes = layer_sizes if min_width < 2 else class_sizes
    batch, width = draw(sizes)[:2]
    return cases.activation(draw(generators()), batch, width, scale=draw(scale),
                            zeros=draw(zero_fractions))


@st.composite
def labels(draw, batch, classes):
    """Sparse integer labels in [0, classes), shape (batch,), of a drawn integer dtype."""
    dtype = draw(st.sampled_from([np.int64, np.int32, np.uint8]))
    return cases.labels(draw(generators()), batch, classes, dtype)


@st.composite
def logits_cases(draw, scale=moderate):
    """``(logits, labels)``: (batch, classes) float64 and (batch,) integers."""
    batch, classes = draw(class_sizes)
    rng = draw(generators())
    return cases.logits(rng, batch, classes, (draw(scale),)), draw(labels(batch, classes))


@st.composite
def prediction_cases(draw, clipped=True):
    """``(y_pred, labels)``: softmax-like rows, true-class entries optionally at clip points.

    With ``clipped=False`` every true-class probability lies strictly inside
    the clip bounds (and the other entries too).
    """
    batch, classes = draw(class_sizes)
    y = draw(labels(batch, classes))
    y_pred = cases.softmax_rows(draw(generators()), batch, classes,
                                draw(st.sampled_from([0.1, 1.0, 3.0])))
    if clipped:
        rows = draw(st.lists(st.integers(0, batch - 1), unique=True, max_size=batch))
        for i in rows:
            y_pred[i, y[i]] = draw(st.sampled_from(cases.CLIP_POINTS))
    else:
        y_pred = np.clip(y_pred, 1e-6, 1 - 1e-6)
    return y_pred, y


@st.composite
def network_cases(draw, hidden=64, classes=3):
    """``(params, X, y)`` for the seed's network: Dense 2->hidden, ReLU, Dense hidden->classes."""
    return cases.network(draw(generators()), draw(network_batches), hidden=hidden,
                         classes=classes)


@st.composite
def regression_cases(draw, ties=True):
    """``(y_pred, y_true)`` of shape (batch, outputs); some targets equal their prediction."""
    return cases.regression(draw(generators()), *draw(output_sizes), scale=draw(moderate),
                            ties=0.25 if ties else 0.0)


@st.composite
def binary_cases(draw, clipped=True):
    """``(y_pred, y_true)``: probabilities (some on/beyond the clip bounds), targets in [0, 1]."""
    return cases.binary(draw(generators()), *draw(output_sizes), clipped=0.2 if clipped else 0.0,
                        hard=draw(st.booleans()))


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
    """``(hyper, params, grads)`` for the optimizer ``kind`` on the book network's two layers.

    ``grads`` holds ``reference.optimizers.STEPS`` gradients (one scale per
    step, 1e-4 to 10, some entries exactly 0); ``fixed`` pins hyper-parameters.
    """
    from reference import optimizers as O

    hyper = O.hyperparameters(kind, **{name: draw(HYPERPARAMETERS[name])
                                       for name in O.DEFAULTS[kind]})
    hyper.update(fixed)
    params, grads = O.random_problem(draw(generators()))
    return hyper, params, grads
