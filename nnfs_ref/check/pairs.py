"""Forward/backward function pairs, as course assignments write them, checked as written.

>>> out, cache = affine_forward(x, w, b)
>>> dx, dw, db = affine_backward(dout, cache)
>>> print(check_functions(affine_forward, affine_backward, x, w, b))

The float arrays among the positional arguments are the inputs that
``backward``'s gradients belong to, in order; every other argument (a dict of
options, integer labels) is passed through untouched, as a fresh copy on
every call, and is not differentiated. The same oracles, kink handling,
messages and verdicts as :func:`nnfs_ref.check_layer`.
"""

import copy
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnfs_ref.check import contract
from nnfs_ref.check.contract import UserCodeError
from nnfs_ref.check.judge import numeric_finding
from nnfs_ref.check.report import CheckReport, Hints, assert_ok
from nnfs_ref.check.session import FD_ORACLE, Session, as_float64, lower_precision, streams
from nnfs_ref.check.settings import Settings


def _call(fn, role, *args, **kwargs):
    """``fn(*args, **kwargs)``; an exception reads "your <role> <name> raised ..."."""
    return contract.invoke(fn, f"{role} {getattr(fn, '__name__', role)}", *args, **kwargs)


def _names(fn, count):
    """The names of ``fn``'s first ``count`` positional parameters (``x``, ``w``, ``b``...)."""
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    names += [f"arg{i}" for i in range(len(names), count)]
    return names[:count]


def _is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" or (
        isinstance(value, (list, tuple)) and np.asarray(value).dtype.kind == "f"
        and np.asarray(value).ndim > 0)


class _Pair:
    """Calls ``forward(*args, **kwargs) -> (out, cache)``, the other arguments copied fresh."""

    def __init__(self, forward, args, kwargs):
        self.forward_fn, self.args, self.kwargs = forward, list(args), kwargs
        self.arrays = [i for i, a in enumerate(args) if _is_float_array(a)]
        for i in self.arrays:
            self.args[i] = as_float64(args[i], f"argument {i}")
        self.randomness = self.start = None

    def pin_randomness(self, randomness):
        """Replay ``randomness`` (NumPy's global state) from now on, before every call."""
        self.randomness, self.start = randomness, randomness.snapshot()

    def call(self, replace=None, replay=True):
        args = [copy.deepcopy(a) if i not in self.arrays else a for i, a in enumerate(self.args)]
        if replace:
            for i, value in replace.items():
                args[i] = value
        if replay:
            self.randomness.replay(self.start)
        returned = _call(self.forward_fn, "forward", *args, **copy.deepcopy(self.kwargs))
        if not (isinstance(returned, tuple) and len(returned) >= 2):
            raise UserCodeError(f"your forward {self.forward_fn.__name__} returned "
                                f"{_describe(returned)}: expected (out, cache), or (out1, "
                                "out2, ..., cache)")
        outs = []
        for out in returned[:-1]:
            try:
                outs.append(out if isinstance(out, np.ndarray) else
                            np.asarray(out, dtype=np.float64))
            except (TypeError, ValueError):
                raise UserCodeError(f"your forward's out is a {type(out).__name__}, not an "
                                    "array") from None
        return outs, returned[-1]


def _describe(value):
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return f"a {type(value).__name__}"


def check_functions(forward: Callable, backward: Callable, *args: Any, seed: int = 0,
                    rtol: float | None = None, atol: float = 0.0,
                    scale_tol: float | None = None, mode: str = "auto",
                    notes: Sequence[str] = (), **kwargs: Any) -> CheckReport:
    """Check ``backward(dout, cache)`` against finite differences of ``forward(*args)``.

    Parameters
    ----------
    forward : callable ``forward(*args, **kwargs) -> (out, cache)``
    backward : callable ``backward(dout, cache) -> grad`` or a tuple of gradients,
        one per float-array positional argument of ``forward``, in order.
    *args, **kwargs
        ``forward``'s arguments. Float arrays are differentiated (as float64
        copies); anything else (an options dict with a seed, integer labels)
        is passed through as a fresh copy on every call.
    seed, rtol, atol, scale_tol, mode, notes
        As for :func:`nnfs_ref.check.layer.check_layer` (so these cannot be keywords of
        ``forward``).

    Returns
    -------
    CheckReport
        A row ``d<name>`` per float argument (names from ``forward``'s
        signature: ``dx``, ``dw``, ``db``), and rows ``<name> unchanged`` and
        ``dout unchanged``. A forward drawing from NumPy's global random state
        is replayed with the same state on every call; one seeded through its
        options is checked as it is.
    """
    settings = Settings.of(rtol=rtol, scale_tol=scale_tol, atol=atol, seed=seed, mode=mode)
    title = " / ".join(getattr(fn, "__name__", role) for fn, role in ((forward, "forward"),
                                                                    (backward, "backward")))
    for fn, role in ((forward, "forward"), (backward, "backward")):
        if not callable(fn):
            raise TypeError(f"{role} must be a function, got {type(fn).__name__}")
    pair = _Pair(forward, args, kwargs)
    if not pair.arrays:
        raise ValueError("no float array among the arguments: nothing to differentiate")
    session = Session(title, FD_ORACLE, settings, (), notes)
    return session.run(lambda: _check_functions(session, pair, backward))


def _check_functions(session, pair, backward):
    notes, settings = session.notes, session.settings
    pair.pin_randomness(session.randomness)
    names = _names(pair.forward_fn, len(pair.args))

    def flat(outs):
        return np.concatenate([np.ravel(out).astype(np.float64) for out in outs])

    outs, _ = pair.call()
    first, random = session.pin(
        lambda replay: flat(pair.call(replay=replay)[0]),
        "forward is random even with NumPy's global random state replayed: seed it through "
        "its arguments", flat(outs))
    if random:
        notes.append("forward draws from NumPy's global random state: replayed before "
                     "every call, so each uses the same draws")
    if not np.all(np.isfinite(first)):
        raise UserCodeError("your forward returned nan/inf for finite inputs")
    for out in outs:
        lower_precision(out.dtype, "forward", notes)
    if len(outs) > 1:
        notes.append(f"forward returned {len(outs)} outputs and a cache: backward given an "
                     "upstream gradient for each, in order")
    stream = streams(settings.seed)[0]
    handed = [stream.standard_normal(out.shape) for out in outs]
    labels = ["dout"] if len(outs) == 1 else [f"dout{k + 1}" for k in range(len(outs))]
    copies = session.hand(to=f"forward {pair.forward_fn.__name__}",
                          **{names[i]: pair.args[i] for i in pair.arrays})
    _, cache = pair.call()
    douts = session.hand(to=f"backward {getattr(backward, '__name__', 'backward')}",
                         **dict(zip(labels, handed)))
    grads = _call(backward, "backward", *handed, cache)
    grads = _match(grads, [names[i] for i in pair.arrays], backward)
    for i, copy_ in zip(pair.arrays, copies):  # the checks differentiate the arguments as given
        pair.args[i] = copy_
    rng = streams(settings.seed)[1]
    batch = outs[0].shape[0] if outs[0].ndim > 1 else None
    magnitude = float(sum(np.sum(np.abs(d * out)) for d, out in zip(douts, outs)))
    checks, findings = [], {}
    for i, grad in zip(pair.arrays, grads):
        def objective(value, i=i):
            return float(sum(np.sum(d * out) for d, out in zip(douts, pair.call({i: value})[0])))

        name = "d" + names[i]
        hints = Hints(batch, names[i], contract.numbers(
            *[a for j, a in enumerate(pair.args) if j not in pair.arrays and
              isinstance(a, dict)], pair.kwargs))
        check, finding = numeric_finding(name, grad, objective, pair.args[i], settings, rng,
                                         hints, magnitude)
        checks.append(check)
        findings[name] = finding
    skipped = [names[i] for i in range(len(pair.args)) if i not in pair.arrays]
    if skipped:
        notes.append(f"not differentiated (not float arrays): {', '.join(skipped)}")
    return checks, findings


def _match(grads, names, backward):
    """``backward``'s return value as one gradient per differentiated argument: by
    position, or by name from a dict (``{"dx": ..., "dw": ...}`` or ``{"x": ...}``)."""
    fn = getattr(backward, "__name__", "backward")
    if isinstance(grads, dict):
        keys = [next((k for k in (f"d{n}", n) if k in grads), None) for n in names]
        missing = [f"d{n}" for n, k in zip(names, keys) if k is None]
        if missing:
            raise UserCodeError(f"your backward {fn} returned a dict without "
                                f"{', '.join(missing)} (its keys: {', '.join(map(str, grads))})")
        return [grads[k] for k in keys]
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    grads = list(grads)
    if len(grads) < len(names):
        missing = ", ".join("d" + n for n in names[len(grads):])
        raise UserCodeError(f"your backward {fn} returned {len(grads)} gradient(s) for "
                            f"{len(names)} float arguments ({', '.join(names)}): missing "
                            f"{missing}")
    if len(grads) > len(names):
        raise UserCodeError(f"your backward {fn} returned {len(grads)} gradients for "
                            f"{len(names)} float arguments ({', '.join(names)}): "
                            f"{len(grads) - len(names)} extra")
    return grads


def check_loss_function(f: Callable, x: ArrayLike, y: ArrayLike, *args: Any, seed: int = 0,
                        rtol: float | None = None, atol: float = 0.0,
                        scale_tol: float | None = None, mode: str = "auto",
                        notes: Sequence[str] = ()) -> CheckReport:
    """Check a loss that returns ``(loss, dx)``: ``dx`` against the gradient of ``loss``.

    Parameters
    ----------
    f : callable ``f(x, y, *args) -> (loss, dx)``, ``loss`` a scalar
    x : array_like, shape (batch, classes)
        Scores (differentiated, as float64).
    y : array_like
        Targets, passed through unchanged.
    *args
        More arguments (a mask, options), passed through as fresh copies on every call
        and not differentiated.
    seed, rtol, atol, scale_tol, mode, notes
        As for :func:`nnfs_ref.check.layer.check_layer`.

    Returns
    -------
    CheckReport
        Rows ``dx`` (shape of ``x``), ``x unchanged``, ``y unchanged``.
    """
    settings = Settings.of(rtol=rtol, scale_tol=scale_tol, atol=atol, seed=seed, mode=mode)
    title = getattr(f, "__name__", "loss")
    x = as_float64(x, "x")
    y = np.asarray(y)
    session = Session(title, FD_ORACLE, settings, (), notes)

    def loss_at(value):
        returned = _call(f, "loss", value, y.copy(), *copy.deepcopy(args))
        if not (isinstance(returned, tuple) and len(returned) == 2):
            raise UserCodeError(f"your loss {title} returned {_describe(returned)}: expected "
                                "(loss, dx)")
        loss, dx = returned
        if np.ndim(loss) != 0:
            raise UserCodeError(f"your loss {title} returned a loss of shape {np.shape(loss)}: "
                                "expected a scalar")
        return float(loss), dx

    def run():
        if args:
            session.notes.append(f"passed through, not differentiated: {len(args)} more "
                                 "argument(s)")
        copy_x, _ = session.hand(to=f"loss {title}", x=x, y=y)
        _, dx = loss_at(x)
        check, finding = numeric_finding(
            "dx", dx, lambda value: loss_at(value)[0], copy_x, settings, streams(seed)[1],
            Hints(x.shape[0] if x.ndim > 1 else None, "x"))
        return [check], {"dx": finding}

    return session.run(run)


def assert_functions(forward: Callable, backward: Callable, *args: Any,
                     **kwargs: Any) -> CheckReport:
    """:func:`check_functions`, raising ``AssertionError`` with the report unless it is OK."""
    return assert_ok(check_functions(forward, backward, *args, **kwargs))
