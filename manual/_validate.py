"""Input checks shared by the layers, activations and losses.

Every check raises a ``TypeError`` (wrong kind of data) or a ``ValueError``
(right kind, wrong shape or value) whose message names what was expected
and what came, so that bad input never surfaces as an ``IndexError`` from
deep inside NumPy or as a silently wrong answer.
"""

import functools
import numbers

import numpy as np

#: dtype kinds accepted as real numbers: float, signed and unsigned integer.
REAL_KINDS = "fiu"


def as_batch(x, name, width=None, width_name="width"):
    """Return ``x`` as a 2-D numeric array of shape (batch, width), uncopied.

    Float and integer arrays are accepted as they are (NumPy promotes integers
    in the arithmetic that follows); anything else (booleans, complex numbers,
    strings, objects) raises ``TypeError``.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in REAL_KINDS:
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D batch of shape (batch, {width_name}), "
            f"got an array of shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {arr.shape}")
    if width is not None and arr.shape[1] != width:
        raise ValueError(
            f"{name} must have {width_name} {width} (shape (batch, {width})), "
            f"got shape {arr.shape}"
        )
    return arr


def as_float_batch(x, name, width=None, width_name="width"):
    """Like :func:`as_batch`, but integers become float64 (floats are not copied)."""
    arr = as_batch(x, name, width, width_name)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def same_shape(dvalues, expected_shape, name="dvalues", of="the forward output"):
    """Check that an upstream gradient has exactly the shape of what it differentiates."""
    arr = np.asarray(dvalues)
    if arr.dtype.kind not in REAL_KINDS:
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.shape != tuple(expected_shape):
        raise ValueError(
            f"{name} must have the shape of {of}, {tuple(expected_shape)}, got {arr.shape}"
        )
    return arr


def sparse_labels(y_true, n_samples, n_classes):
    """Return class labels as a 1-D integer array of shape (n_samples,).

    Accepts sparse labels, shape (n_samples,), of an integer dtype with values
    in ``[0, n_classes)``, or one-hot labels, shape (n_samples, n_classes),
    whose rows hold a single 1 and zeros elsewhere. A label of -1 is an error,
    never a wrap-around to the last class.
    """
    y = np.asarray(y_true)
    if y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise TypeError(
                f"sparse labels y_true must have an integer dtype, got dtype {y.dtype}"
            )
        if y.shape[0] != n_samples:
            raise ValueError(
                f"y_true must hold one label per sample: expected {n_samples} labels, "
                f"got {y.shape[0]}"
            )
        lo = y.min() if y.dtype.kind == "i" else 0  # unsigned labels cannot be negative
        hi = y.max()
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"labels must lie in [0, {n_classes - 1}] for {n_classes} classes, "
                f"got a label of {bad}"
            )
        return y
    if y.ndim == 2:
        if y.dtype.kind not in REAL_KINDS + "b":
            raise TypeError(f"one-hot labels y_true must be numeric, got dtype {y.dtype}")
        if y.shape != (n_samples, n_classes):
            raise ValueError(
                f"one-hot labels y_true must have shape (batch, classes) = "
                f"({n_samples}, {n_classes}), got {y.shape}"
            )
        if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
            raise ValueError(
                "one-hot labels y_true must hold exactly one 1 per row and zeros elsewhere"
            )
        return np.argmax(y, axis=1)
    raise ValueError(
        f"y_true must be sparse labels of shape ({n_samples},) or one-hot labels of shape "
        f"({n_samples}, {n_classes}), got an array of shape {y.shape}"
    )


def require_forward(obj, attr="inputs"):
    """Raise a clear error when ``backward`` is called before ``forward``."""
    if not hasattr(obj, attr):
        raise RuntimeError(
            f"{type(obj).__name__}.backward() was called before forward(): "
            "call forward(inputs) first"
        )


@functools.lru_cache(maxsize=16)
def row_index(n_samples):
    """``np.arange(n_samples)``, built once per batch size and read-only."""
    rows = np.arange(n_samples)
    rows.flags.writeable = False
    return rows


def targets_like(y_true, shape, name="y_true", low=None, high=None):
    """Regression or binary targets: a real array of exactly ``shape`` (values in [low, high])."""
    y = np.asarray(y_true)
    if y.dtype.kind not in REAL_KINDS:
        raise TypeError(f"{name} must be a real numeric array, got dtype {y.dtype}")
    if y.shape != tuple(shape):
        raise ValueError(f"{name} must have the predictions' shape {tuple(shape)}, got {y.shape}")
    if low is not None and y.size and (y.min() < low or y.max() > high):
        raise ValueError(f"{name} must lie in [{low}, {high}], got values in "
                         f"[{y.min()}, {y.max()}]")
    return y


def probabilities(p, name, hint=""):
    """``p`` unchanged if every entry lies in [0, 1]; else ``ValueError`` (NaN included)."""
    low, high = p.min(), p.max()
    if low >= 0 and high <= 1:
        return p
    if np.isnan(low) or np.isnan(high):
        raise ValueError(f"{name} must hold probabilities in [0, 1], got NaN")
    raise ValueError(f"{name} must hold probabilities in [0, 1], got values in "
                     f"[{low:g}, {high:g}]{hint}")


def hyperparameter(value, name, low, high=None, low_open=False):
    """Check a real, finite hyper-parameter in ``[low, high)`` (``(low, high)`` if ``low_open``).

    ``high=None`` means no upper bound. Returns ``value``; raises ``TypeError``
    for a non-number (``bool`` included) and ``ValueError`` naming the interval;
    either carries ``.parameter`` (``name``) and ``.reason`` (the rest of the message).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _named(TypeError, name, f"must be a real number, got {type(value).__name__}")
    above_low = value > low if low_open else value >= low
    below_high = high is None or value < high
    if not (np.isfinite(value) and above_low and below_high):
        interval = f"{'(' if low_open else '['}{low:g}, {'inf' if high is None else f'{high:g}'})"
        raise _named(ValueError, name, f"must lie in {interval}, got {value}")
    return value


def _named(error, name, reason):
    """``error(f"{name} {reason}")`` carrying ``.parameter`` and ``.reason`` (for callers
    that name the parameter their own way, such as a command-line flag)."""
    exc = error(f"{name} {reason}")
    exc.parameter, exc.reason = name, reason
    return exc
