"""Check your own layer or loss: is its hand-written backward pass right?

>>> from reference import check_layer
>>> report = check_layer(layer, inputs)          # finite differences, no JAX needed
>>> report.ok
>>> print(report)

The layer follows the book's contract: ``forward(inputs)`` sets ``.output``;
``backward(dvalues)`` sets ``.dinputs`` and ``d<name>`` for each parameter
array ``<name>`` (``weights`` and ``biases`` by default, ``params=`` names
others). The upstream gradient is random (seeded), never all ones. Everything
runs in float64: parameters and inputs are converted first.

Two oracles:

- ``fn=None``: four-point central finite differences of the layer's own
  forward pass, ``d/dx sum(dvalues * forward(x))`` (truncation error ~ step**4).
  Steps are relative to each entry (``1e-4 * max(|x|, 0.01)``) and each entry
  is allowed its rounding noise, ``100 * eps * (|f| + 1) / step``; defaults
  ``rtol = scale_tol = 1e-7``, so a relative error of 1e-6 in a gradient is
  caught. Finite differences cannot judge a kink (ReLU at exactly 0, a clip
  bound) nor a point closer to a singularity than the step (a probability
  below ~1e-4 in a log): keep inputs off them, or give ``fn``.
- ``fn(params: dict, inputs)``, a JAX function: its ``jax.vjp`` (JAX is
  switched to float64 first); defaults ``rtol = 1e-9``, ``scale_tol = 1e-12``.
"""

import numpy as np

from reference.compare import (
    RTOL,
    SCALE_TOL,
    Report,
    central_difference,
    check_vjp,
    compare,
    enable_x64,
    unchanged_checks,
    value_and_grad_of,
)

#: Finite-difference tolerances: ~1e-10 is reached, 1e-6 relative errors are caught.
FD_RTOL = 1e-7
FD_SCALE_TOL = 1e-7
#: Relative step of the four-point stencil (truncation error ~ step**4).
FD_STEP = 1e-4


def _steps(x):
    return FD_STEP * np.maximum(np.abs(x), 0.01)


def _noise(value, steps):
    """Rounding noise of a four-point difference of ``f`` with value ``value``, with margin."""
    return 100 * np.finfo(np.float64).eps * (abs(value) + 1.0) / steps


class CheckReport(Report):
    """A :class:`reference.Report` that also names its oracle and its failures."""

    def __init__(self, title, checks, oracle):
        super().__init__(title, checks)
        self.oracle = oracle

    def __str__(self):
        lines = [f"{self.title}: hand-written gradients vs {self.oracle}", super().__str__()]
        if self.ok:
            lines.append(f"OK: all {len(self.checks)} checks agree.")
        else:
            lines.append("FAIL: " + "; ".join(
                f"{c.name} disagrees (worst entry {c.worst_index})"
                if c.shape == c.expected_shape else
                f"{c.name} has shape {c.shape}, expected {c.expected_shape}"
                for c in self.failures))
        return "\n".join(lines)


def _tolerances(fn, rtol, scale_tol):
    if fn is None:
        return (FD_RTOL if rtol is None else rtol), (FD_SCALE_TOL if scale_tol is None
                                                     else scale_tol)
    return (RTOL if rtol is None else rtol), (SCALE_TOL if scale_tol is None else scale_tol)


def check_layer(layer, inputs, fn=None, rtol=None, atol=0.0, scale_tol=None, seed=0,
                params=None):
    """Check ``layer.backward`` against finite differences or a JAX twin.

    Parameters
    ----------
    layer : object with ``forward(inputs)`` and ``backward(dvalues)``
    inputs : array_like, shape (batch, n_in)
    fn : callable ``fn(params, inputs) -> output``, optional
        A JAX function of the same maths; ``None`` for finite differences.
    rtol, atol, scale_tol : float, optional
        An entry agrees when ``|a - e| <= rtol |e| + scale_tol max|e| + atol``
        (:func:`reference.compare`; defaults: see the module, ``atol = 0``).
    seed : int
        Seeds the random upstream gradient.
    params : sequence of str, optional
        Parameter attributes; default those of ``weights``, ``biases`` that exist.

    Returns
    -------
    CheckReport
        Rows ``output`` (JAX only), ``dinputs``, ``d<name>`` per parameter,
        ``inputs unchanged`` and ``dvalues unchanged``; ``.ok`` and a table.
    """
    rtol, scale_tol = _tolerances(fn, rtol, scale_tol)
    names = list(params) if params is not None else [
        n for n in ("weights", "biases") if hasattr(layer, n)]
    for name in names:
        setattr(layer, name, np.array(getattr(layer, name), dtype=np.float64))
    x = np.array(inputs, dtype=np.float64)
    layer.forward(x)
    dvalues = np.random.default_rng(seed).standard_normal(np.shape(layer.output))

    if fn is not None:
        enable_x64()
        report = check_vjp(layer, fn, {n: getattr(layer, n) for n in names}, x, dvalues,
                           rtol=rtol, scale_tol=scale_tol, atol=atol)
        return CheckReport(type(layer).__name__, report.checks, "jax.vjp of fn")

    given = {"inputs": x.copy(), "dvalues": dvalues.copy()}
    layer.backward(dvalues)
    untouched = unchanged_checks(given, {"inputs": x, "dvalues": dvalues})
    actual = {"dinputs": np.array(getattr(layer, "dinputs", None))}
    actual.update({"d" + n: np.array(getattr(layer, "d" + n, None)) for n in names})
    x, dvalues = given["inputs"], given["dvalues"]

    def objective(inputs_):
        layer.forward(inputs_)
        return float(np.sum(dvalues * layer.output))

    checks = [_fd_check("dinputs", actual["dinputs"], objective, x, rtol, scale_tol, atol)]
    for name in names:
        original = getattr(layer, name)

        def objective_param(value, name=name):
            setattr(layer, name, value)
            return objective(x)

        checks.append(_fd_check("d" + name, actual["d" + name], objective_param, original,
                                rtol, scale_tol, atol))
        setattr(layer, name, original)
    return CheckReport(type(layer).__name__, checks + untouched,
                       "central finite differences")


def _fd_check(name, actual, f, x, rtol, scale_tol, atol):
    steps = _steps(x)
    numeric = central_difference(f, x, steps, points=4)
    return compare(name, actual, numeric, rtol, scale_tol, atol=atol + _noise(f(x), steps))


def check_loss(loss, y_pred, y_true, fn=None, rtol=None, atol=0.0, scale_tol=None):
    """Check ``loss.backward(y_pred, y_true)`` against the gradient of ``loss.calculate``.

    Parameters
    ----------
    loss : object with ``calculate(y_pred, y_true)`` (the mean loss) and
        ``backward(dvalues, y_true)`` setting ``.dinputs``
    y_pred : array_like, shape (batch, outputs)
    y_true : array_like
        Targets, passed through unchanged.
    fn : callable ``fn(y_pred, y_true) -> scalar``, optional
        A JAX function of the mean loss; ``None`` for finite differences of
        ``loss.calculate``.
    rtol, atol, scale_tol : float, optional
        As for :func:`check_layer`.

    Returns
    -------
    CheckReport
        Rows ``loss`` (JAX only), ``dinputs``, ``y_pred unchanged``, ``y_true unchanged``.
    """
    rtol, scale_tol = _tolerances(fn, rtol, scale_tol)
    p = np.array(y_pred, dtype=np.float64)
    y = np.asarray(y_true)
    given = {"y_pred": p.copy(), "y_true": y.copy()}
    value = loss.calculate(p, y)
    loss.backward(p, y)
    untouched = unchanged_checks(given, {"y_pred": p, "y_true": y})
    actual = np.array(getattr(loss, "dinputs", None))
    p = given["y_pred"]
    if fn is not None:
        enable_x64()
        expected_value, expected = value_and_grad_of(fn)(p, y)
        checks = [compare("loss", value, expected_value, rtol, scale_tol, atol=atol),
                  compare("dinputs", actual, expected, rtol, scale_tol, atol=atol)]
        return CheckReport(type(loss).__name__, checks + untouched, "jax.grad of fn")
    check = _fd_check("dinputs", actual, lambda v: float(loss.calculate(v, y)), p, rtol,
                      scale_tol, atol)
    return CheckReport(type(loss).__name__, [check] + untouched, "central finite differences")


def assert_layer_gradients(layer, inputs, **kwargs):
    """:func:`check_layer`, raising ``AssertionError`` with the table when a check fails."""
    report = check_layer(layer, inputs, **kwargs)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report


def assert_loss_gradients(loss, y_pred, y_true, **kwargs):
    """:func:`check_loss`, raising ``AssertionError`` with the table when a check fails."""
    report = check_loss(loss, y_pred, y_true, **kwargs)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report
