"""Hypothesis strategies: draw sizes and choices first, then the arrays that fit them.

The arrays come from :mod:`reference.cases`, the case builders ``verify`` uses
too, given a :class:`Draws` in place of a NumPy generator: each array the
builder asks for is drawn by Hypothesis, entry by entry (``hypothesis.extra.numpy``),
so that a failure shrinks to small sizes and simple values, not to a seed.
Hypothesis draws the sizes, the scales and the awkward points too (the
fraction of exact zeros at the ReLU kink, the rows whose true-class
prediction sits on a clip point and which point).
"""

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

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


#: Arrays of at most this many entries are drawn entry by entry (Hypothesis keeps 8 kB of
#: choices per example); a larger one comes from a generator seeded by a drawn seed.
SHRINKABLE = 64


#: ``normal``'s values: 0 (where shrinking goes) or magnitudes 1e-3 to 4, as a normal draw
#: gives them; never 1e-308, which a scale of 1e-3 would make subnormal (XLA flushes those
#: to 0, so JAX's ReLU and NumPy's would differ on the sign of an input that is not there).
NORMAL = st.one_of(st.just(0.0), st.floats(1e-3, 4.0), st.floats(-4.0, -1e-3))


class Draws:
    """The methods of a ``numpy.random.Generator`` the case builders call, drawn by Hypothesis.

    ``normal`` gives values of :data:`NORMAL` (scaled), ``random`` and ``uniform`` in
    [low, high), ``integers`` and ``choice`` indices. Every draw shrinks toward 0 (or
    the low end, or the first choice); an array of more than :data:`SHRINKABLE` entries
    comes from one generator seeded by a drawn seed.
    """

    def __init__(self, draw):
        self.draw, self.big = draw, None

    def _drawn(self, size, elements, dtype=np.float64):
        shape = () if size is None else tuple(np.atleast_1d(size).tolist())
        if math.prod(shape) > SHRINKABLE:
            return None
        values = self.draw(arrays(dtype, shape, elements=elements, fill=st.nothing()))
        return values.item() if size is None else values

    def _generator(self):
        if self.big is None:
            self.big = np.random.default_rng(self.draw(seeds))
        return self.big

    def normal(self, loc=0.0, scale=1.0, size=None):
        values = self._drawn(size, NORMAL)
        if values is None:
            return self._generator().normal(loc, scale, size)
        return loc + scale * values

    def uniform(self, low=0.0, high=1.0, size=None):
        values = self._drawn(size, st.floats(low, high, exclude_max=True,
                                             allow_subnormal=False))
        return self._generator().uniform(low, high, size) if values is None else values

    def random(self, size=None):
        return self.uniform(0.0, 1.0, size)

    def integers(self, low, high=None, size=None):
        low, high = (0, low) if high is None else (low, high)
        values = self._drawn(size, st.integers(low, high - 1), np.int64)
        return self._generator().integers(low, high, size) if values is None else values

    def choice(self, options, size=None):
        options = np.asarray(options)
        return options[self.integers(0, len(options), size)]


@st.composite
def generators(draw):
    """A :class:`Draws`: the case builders' random numbers, drawn by Hypothesis."""
    return Draws(draw)


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
