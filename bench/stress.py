"""The checker's stress suite: correct code at awkward scales, and bugs planted in it.

Every case is our own small class or function pair, correct as written, at a
point where finite differences are hard: inputs and weights from 1e-3 to 1e3,
zero biases, batches of 1 and 512, logits up to 1e3, a saturated sigmoid,
binary and categorical cross-entropy at and next to their clip points, MSE
with targets of 1e4, batch norm on a constant column, a forward with a
float32 buffer inside, max pooling with ties, the book's ``np.dot`` (which the
tests also run under ``nnfs.init()``, in a process of its own). A correct case must pass (a
failure is a false alarm); each planted bug must fail (a pass is a miss):

- one entry of a gradient times ``1 + 1e-5`` (its largest entry), and every
  entry times ``1 + 1e-5`` (``1 + 1e-3`` behind the float32 buffer, whose
  noise float64 differences resolve only to about 1e-5);
- zero and doubled ``dbiases`` at zero biases;
- the tied max-pool window's gradient given to every tied entry.

:func:`run` checks them all with the checker given (``check_layer``,
``check_loss``, ``check_functions`` of any version: only their public
signatures are used) and counts forward calls, so that ``nnfs-ref bench
--checker`` can report calls per entry.
"""

import dataclasses

import numpy as np

#: The relative size of the planted errors.
PLANTED = 1e-5


class Dense:
    def __init__(self, weights, biases):
        self.weights, self.biases = weights, biases

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T


class BookDense(Dense):
    """Dense as the book writes it, with ``np.dot`` (which ``nnfs.init()`` patches)."""

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Float32Dense(Dense):
    """Dense through a float32 buffer, as im2col code with ``np.empty(..., float32)`` does;
    the output is float64 again."""

    def forward(self, inputs):
        self.inputs = inputs
        buffer = np.empty(inputs.shape, dtype=np.float32)
        buffer[...] = inputs
        self.output = (buffer @ self.weights.astype(np.float32)).astype(np.float64) \
            + self.biases

    def backward(self, dvalues):
        d32 = dvalues.astype(np.float32)
        self.dweights = (self.inputs.astype(np.float32).T @ d32).astype(np.float64)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = (d32 @ self.weights.astype(np.float32).T).astype(np.float64)


class ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)


class Sigmoid:
    def forward(self, inputs):
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output


class MaxPool:
    """Max over windows of ``size`` along the last axis; the gradient goes to the first
    maximum of each window (a valid subgradient where entries tie)."""

    def __init__(self, size=2):
        self.size = size

    def forward(self, inputs):
        self.inputs = inputs
        windows = inputs.reshape(inputs.shape[0], -1, self.size)
        self.argmax = windows.argmax(axis=2)
        self.output = windows.max(axis=2)

    def backward(self, dvalues):
        d = np.zeros((dvalues.shape[0], dvalues.shape[1], self.size))
        np.put_along_axis(d, self.argmax[..., None], dvalues[..., None], axis=2)
        self.dinputs = d.reshape(self.inputs.shape)


class EveryTiedMax(MaxPool):
    """The bug: the window's gradient given to every entry equal to its maximum."""

    def backward(self, dvalues):
        windows = self.inputs.reshape(self.inputs.shape[0], -1, self.size)
        hit = windows == windows.max(axis=2, keepdims=True)
        self.dinputs = (hit * dvalues[..., None]).reshape(self.inputs.shape)


CLIP = 1e-7


class BinaryCrossentropy:
    def forward(self, y_pred, y_true):
        p = np.clip(y_pred, CLIP, 1 - CLIP)
        return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = dvalues.shape
        p = np.clip(dvalues, CLIP, 1 - CLIP)
        self.dinputs = -(y_true / p - (1 - y_true) / (1 - p)) / outputs / samples
        self.dinputs = np.where((dvalues > CLIP) & (dvalues < 1 - CLIP), self.dinputs, 0.0)


class CategoricalCrossentropy:
    def forward(self, y_pred, y_true):
        p = np.clip(y_pred, CLIP, 1 - CLIP)
        return -np.log(p[np.arange(len(p)), y_true])

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        picked = dvalues[np.arange(samples), y_true]
        inside = (picked > CLIP) & (picked < 1 - CLIP)
        self.dinputs = np.zeros_like(dvalues)
        self.dinputs[np.arange(samples), y_true] = np.where(inside, -1 / picked, 0.0) / samples


class SoftmaxCrossentropy:
    """Softmax and categorical cross-entropy on logits, fused."""

    def forward(self, logits, y_true):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.output = np.exp(log_p)
        return -log_p[np.arange(len(logits)), y_true]

    def backward(self, dvalues, y_true):
        self.dinputs = dvalues.copy()
        self.dinputs[np.arange(len(dvalues)), y_true] -= 1
        self.dinputs /= len(dvalues)


class MeanSquaredError:
    def forward(self, y_pred, y_true):
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    def backward(self, dvalues, y_true):
        self.dinputs = -2 * (y_true - dvalues) / dvalues.shape[1] / len(dvalues)


def batchnorm_forward(x, gamma, beta):
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mean) / np.sqrt(var + 1e-5)
    return gamma * xhat + beta, (xhat, gamma, var)


def batchnorm_backward(dout, cache):
    xhat, gamma, var = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) \
        / (n * np.sqrt(var + 1e-5))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


# --- the cases ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """One correct object at one point: ``kind`` "layer", "loss" or "pair"; ``make()``
    gives a fresh ``(object, arguments)``; ``rows`` the gradients to plant bugs in."""

    label: str
    kind: str
    make: object
    rows: tuple
    mode: str = "entries"
    #: The relative size of the errors planted (a float32 forward resolves less).
    planted: float = PLANTED


def _dense(sx, sw, batch, cls=Dense, seed=0, n_in=None):
    """Dense(n_in, 3) with zero biases (n_in 4, or 2 for batches above 32)."""
    n_in = n_in or (4 if batch <= 32 else 2)

    def make():
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(batch, n_in)) * sx
        return cls(rng.normal(size=(n_in, 3)) * sw, np.zeros((1, 3))), (x,)
    return make


def _layer(obj, x):
    return lambda: (obj(), (np.array(x, dtype=np.float64),))


def _loss(obj, y_pred, y_true):
    return lambda: (obj(), (np.array(y_pred, dtype=np.float64), np.array(y_true)))


def cases():
    """The stress suite's correct cases."""
    rng = np.random.default_rng(7)
    out = []
    dense_rows = ("dinputs", "dweights", "dbiases")
    for sx in (1e-3, 1.0, 1e3):
        for sw in (1e-3, 1.0, 1e3):
            for batch in (1, 512):
                out.append(Case(f"Dense, |x|~{sx:g}, |W|~{sw:g}, b=0, batch {batch}", "layer",
                                _dense(sx, sw, batch), dense_rows))
    out.append(Case("Dense, |x|~100, |W|~10, b=0, batch 1", "layer", _dense(100, 10, 1),
                    dense_rows))
    out.append(Case("Dense, |x|~10, batch 32, b=0", "layer", _dense(10, 1, 32), dense_rows))
    out.append(Case("Dense with np.dot, as the book writes it, |x|~100", "layer",
                    _dense(100, 1, 5, BookDense), dense_rows))
    out.append(Case("Dense through a float32 buffer", "layer",
                    _dense(1.0, 1.0, 25, Float32Dense), dense_rows, planted=1e-3))
    relu_x = rng.normal(size=(8, 6)) * 1e3
    relu_x[rng.random(relu_x.shape) < 0.3] = 0.0
    out.append(Case("ReLU, |x|~1e3, 30% exact zeros", "layer", _layer(ReLU, relu_x),
                    ("dinputs",)))
    out.append(Case("ReLU, |x|~1e-3, 30% exact zeros", "layer", _layer(ReLU, relu_x * 1e-6),
                    ("dinputs",)))
    out.append(Case("Sigmoid, saturated (|x| up to 30)", "layer",
                    _layer(Sigmoid, np.linspace(-30, 30, 24).reshape(4, 6)), ("dinputs",)))
    ties = np.array([[1.0, 1.0, -2.0, 0.5, 3.0, 3.0, 0.0, 0.0],
                     [2.0, 2.0, 2.0, 1.0, -1.0, -1.0, 4.0, 0.3]])
    out.append(Case("MaxPool(2), tied windows", "layer", _layer(MaxPool, ties), ("dinputs",)))
    p = np.array([[1 - CLIP - 1.5e-7, 0.3], [CLIP + 1.5e-7, 0.999], [0.5, 1 - CLIP],
                  [CLIP, 0.02]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    out.append(Case("BCE next to and at its clip points", "loss",
                    _loss(BinaryCrossentropy, p, y), ("dinputs",)))
    probabilities = np.array([[CLIP + 1e-7, 0.5, 0.5 - CLIP - 1e-7], [0.2, 0.3, 0.5],
                              [1 - 2e-7, 1e-7, 1e-7], [0.05, 0.9, 0.05]])
    out.append(Case("CCE next to and at its clip points", "loss",
                    _loss(CategoricalCrossentropy, probabilities, [0, 2, 0, 1]), ("dinputs",)))
    logits = rng.normal(size=(6, 4)) * np.array([[1.0], [10.0], [100.0], [1e3], [1e3], [3.0]])
    out.append(Case("softmax + CCE, logits up to 1e3", "loss",
                    _loss(SoftmaxCrossentropy, logits, [0, 1, 2, 3, 0, 1]), ("dinputs",)))
    out.append(Case("MSE, targets 1e4", "loss",
                    _loss(MeanSquaredError, rng.normal(size=(5, 3)) * 1e4 + 3.0,
                          rng.normal(size=(5, 3)) * 1e4), ("dinputs",)))
    out.append(Case("batch norm, a constant column at -100", "pair",
                    lambda: ((batchnorm_forward, batchnorm_backward),
                             (np.array([[-100.0, 1.0], [-100.0, 2.5]]), np.array([1.5, 0.7]),
                              np.array([0.1, -0.2]))), ("dx", "dgamma", "dbeta")))
    out.append(Case("Dense, |x|~1, batch 512, along directions", "layer",
                    _dense(1.0, 1.0, 512, seed=3, n_in=4), dense_rows, mode="auto"))
    return out


# --- planting bugs -----------------------------------------------------------------------------

def _scaled(value, factor, entry):
    value = np.array(value, dtype=np.float64, copy=True)
    if entry:
        k = np.unravel_index(int(np.argmax(np.abs(value))), value.shape)
        value[k] *= factor
    else:
        value *= factor
    return value


@dataclasses.dataclass(frozen=True)
class Plant:
    """A bug: ``change(gradient)`` applied to ``row`` after every backward; ``size`` the
    relative error it makes, in its largest entry (``entry``) or in every entry."""

    label: str
    row: str
    change: object
    size: float = 1.0
    entry: bool = False


def plants(case):
    """Every bug planted in ``case``."""
    if case.label.startswith("MaxPool"):
        return [Plant("every tied entry takes the window's gradient", "dinputs", None)]
    out, r = [], case.planted
    for row in case.rows:
        if case.mode == "entries":
            out.append(Plant(f"{row}: one entry x (1 + {r:g})", row,
                             lambda g: _scaled(g, 1 + r, True), r, True))
        out.append(Plant(f"{row}: all entries x (1 + {r:g})", row,
                         lambda g: _scaled(g, 1 + r, False), r))
        if row == "dbiases":
            out.append(Plant("dbiases x 0", row, lambda g: _scaled(g, 0.0, False)))
            out.append(Plant("dbiases x 2", row, lambda g: _scaled(g, 2.0, False)))
    return out


def resolvable(plant, report):
    """Whether float64 differences resolve ``plant``: its error is at least 10 times the
    oracle's error bound at an entry it changes (judged on the correct case's report; an
    oracle that gives no per-entry bounds, an older one or the directional mode, is
    taken to resolve every plant)."""
    finding = getattr(report, "findings", {}).get(plant.row)
    bound, expected = getattr(finding, "bound", None), getattr(finding, "expected", None)
    if bound is None or expected is None:
        return True
    error = plant.size * np.abs(expected)
    if plant.entry:
        k = np.unravel_index(int(np.argmax(np.abs(expected))), expected.shape)
        return bool(error[k] >= 10 * bound[k])
    return bool(np.any(error >= 10 * bound))


def _planted(case, obj, plant):
    """``obj`` (or the pair) with ``plant`` applied after every backward."""
    row, change = plant.row, plant.change
    if case.label.startswith("MaxPool"):
        return EveryTiedMax()
    if case.kind == "pair":
        forward, backward = obj
        at = case.rows.index(row)

        def planted_backward(dout, cache):
            grads = list(backward(dout, cache))
            grads[at] = change(grads[at])
            return tuple(grads)
        return forward, planted_backward
    backward = obj.backward

    def planted(*args):
        backward(*args)
        setattr(obj, row, change(getattr(obj, row)))
    obj.backward = planted
    return obj


class _Counted:
    """Counts calls of a forward (a layer's method, a loss's, or a pair's function)."""

    def __init__(self):
        self.calls = 0

    def wrap(self, fn):
        def counted(*args, **kwargs):
            self.calls += 1
            return fn(*args, **kwargs)
        counted.__name__ = getattr(fn, "__name__", "forward")
        counted.__signature__ = _signature(fn)
        return counted


def _signature(fn):
    import inspect

    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def check(case, checker, obj, args):
    """The report of ``checker`` on ``obj`` and its forward calls."""
    counter = _Counted()
    if case.kind == "pair":
        forward, backward = obj
        report = checker.check_functions(counter.wrap(forward), backward, *args, mode=case.mode)
    else:
        obj.forward = counter.wrap(obj.forward)
        run = checker.check_layer if case.kind == "layer" else checker.check_loss
        report = run(obj, *args, mode=case.mode)
    return report, counter.calls


@dataclasses.dataclass
class Outcome:
    """What the checker said of one case and its planted bugs: ``missed`` the resolvable
    plants it passed, ``unresolved`` the plants below the oracle's floor (not counted)."""

    label: str
    verdict: str
    calls: int
    entries: int
    planted: int
    caught: int
    missed: list
    unresolved: list
    summary: str


def run_case(case, checker):
    """Check ``case`` and each of its planted bugs with ``checker``: an :class:`Outcome`."""
    obj, args = case.make()
    report, calls = check(case, checker, obj, args)
    entries = sum(int(np.prod(c.shape)) for c in report.checks
                  if not c.name.endswith("unchanged"))
    missed, unresolved, caught = [], [], 0
    for plant in plants(case):
        obj, args = case.make()
        bad, _ = check(case, checker, _planted(case, obj, plant), args)
        if bad.verdict == "fail":
            caught += 1
        elif resolvable(plant, report):
            missed.append(plant.label)
        else:
            unresolved.append(plant.label)
    return Outcome(case.label, report.verdict, calls, entries, len(plants(case)), caught,
                   missed, unresolved, report.summary())


def run(checker, selected=None):
    """Every case's :class:`Outcome` (or those whose label holds ``selected``)."""
    return [run_case(case, checker) for case in cases()
            if not selected or selected in case.label]
