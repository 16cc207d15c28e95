"""The comparison rule: does a hand-written array agree with the expected one?

An entry agrees when

    |actual - expected| <= rtol * |expected| + scale_tol * max|expected|

where the max runs over the whole expected array. The first term is
``numpy.testing.assert_allclose``'s relative rule; the second replaces its
fixed ``atol`` by one proportional to the array's largest entry, so that the
check means the same whatever the scale of the problem (an entry that is the
result of cancellation carries rounding error of the order of the array's
largest terms, not of its own size), and a relative error of 1e-6 in a
gradient of size 1e-6 fails just as one in a gradient of size 1 does.
Differences below the smallest normal float64 (2.2e-308) always agree: XLA
on the CPU flushes subnormal results to zero where NumPy keeps them (a
softmax probability of 7e-310 is 0 for JAX). Shapes must match exactly, with
no broadcasting of (1, n) against (n,). NaN never agrees with anything.
"""

import dataclasses

import numpy as np

#: float64 tolerances: float64 agreement is ~1e-13, a planted 1e-6 relative error fails.
RTOL = 1e-9
#: Tolerance relative to the largest |entry| of the expected array.
SCALE_TOL = 1e-12
#: Below this, differences are subnormal: JAX flushes them to zero, NumPy does not.
SUBNORMAL = float(np.finfo(np.float64).tiny)


@dataclasses.dataclass(frozen=True)
class GradientCheck:
    """One compared array: shapes, worst errors and where the worst entry is."""

    name: str
    shape: tuple
    expected_shape: tuple
    max_abs: float
    max_rel: float
    worst_index: tuple | None
    ok: bool
    #: max over entries of |a - e| / allowance: <= 1 passes; the margin to failure.
    ratio: float = float("nan")
    #: The compared values at ``worst_index`` (NaN when shapes differ).
    actual_worst: float = float("nan")
    expected_worst: float = float("nan")

    @classmethod
    def missing(cls, name, expected_shape):
        """The row of an array that is not there to compare (never set, or not numeric)."""
        return cls(name, (), tuple(expected_shape), float("nan"), float("nan"), None, False,
                   float("inf"))

    def as_dict(self):
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        d["expected_shape"] = list(self.expected_shape)
        d["worst_index"] = None if self.worst_index is None else list(self.worst_index)
        return d


def compare(name, actual, expected, rtol=RTOL, scale_tol=SCALE_TOL, scale=None, atol=0.0):
    """Compare ``actual`` with ``expected`` entry by entry.

    Parameters
    ----------
    name : str
        What is compared, e.g. ``"dweights"``.
    actual, expected : array_like, any shape
        Must have exactly the same shape.
    scale : float, optional
        The magnitude of the terms that the compared values are computed
        from, when it exceeds the values themselves (a saturated softmax's
        ``dinputs`` are differences of terms of size ``|dvalues|``, so
        float64 resolves them only to ~1e-16 of that). Default: max|expected|.
    atol : float or ndarray of ``expected``'s shape, default 0
        An absolute allowance added to each entry's (the noise of a finite
        difference, which depends on its step).

    Returns
    -------
    GradientCheck
        ``max_abs = max |a - e|``; ``max_rel = max |a - e| / |e|`` (inf where
        ``e == 0 != a``), both NaN when ``actual`` holds a NaN; ``ratio`` is
        the largest error divided by its allowance
        ``rtol * |e| + scale_tol * scale + atol + 2.2e-308`` (the check passes
        when it is <= 1), ``worst_index`` the entry where that happens and
        ``actual_worst``, ``expected_worst`` the two values there.
    """
    a = np.asarray(actual)
    e = np.asarray(expected)
    if a.shape != e.shape:
        return GradientCheck(name, a.shape, e.shape, float("nan"), float("nan"), None, False,
                             float("inf"))
    if a.size and np.array_equal(a, e):  # exact agreement (every "unchanged" row): no errors
        first = (0,) * a.ndim
        return GradientCheck(name, a.shape, e.shape, 0.0, 0.0, first, True, 0.0,
                             float(a[first]), float(e[first]))
    a = a.astype(np.float64)
    e = e.astype(np.float64)
    diff, allowed = _errors(a, e, rtol, scale_tol, scale, atol)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # an exact rule: inf
        ratio = np.where(diff == 0, 0.0, diff / allowed)
        rel = np.where(diff == 0, 0.0, np.where(np.isinf(diff), np.inf, diff / np.abs(e)))
    if a.size == 0:
        return GradientCheck(name, a.shape, e.shape, 0.0, 0.0, None, True, 0.0)
    worst = np.unravel_index(np.argmax(ratio), a.shape)
    nan = bool(np.isnan(a).any())
    return GradientCheck(
        name=name,
        shape=a.shape,
        expected_shape=e.shape,
        max_abs=float("nan") if nan else float(diff.max()),
        max_rel=float("nan") if nan else float(rel.max()),
        worst_index=tuple(int(i) for i in worst),
        ok=bool(np.all(diff <= allowed)),
        ratio=float(ratio.max()),
        actual_worst=float(a[worst]),
        expected_worst=float(e[worst]),
    )


def _errors(a, e, rtol, scale_tol, scale, atol):
    """``(|a - e|, allowance)`` per entry, by the rule above (float64 arrays of one shape)."""
    finite = np.abs(e[np.isfinite(e)])
    largest = finite.max() if finite.size else 0.0
    scale = largest if scale is None else max(scale, largest)
    with np.errstate(invalid="ignore"):
        diff = np.where(a == e, 0.0, np.abs(a - e))  # equal infinities agree
        diff = np.where(np.isnan(diff), np.inf, diff)
        # An infinite expected entry allows nothing but itself.
        allowed = np.where(np.isfinite(e),
                           rtol * np.abs(e) + scale_tol * scale + atol + SUBNORMAL, 0.0)
    return diff, allowed


def disagreeing(actual, expected, rtol=RTOL, scale_tol=SCALE_TOL, scale=None, atol=0.0):
    """The entries :func:`compare` fails, as a boolean array of their (common) shape."""
    diff, allowed = _errors(np.asarray(actual, dtype=np.float64),
                            np.asarray(expected, dtype=np.float64), rtol, scale_tol, scale, atol)
    return ~(diff <= allowed)


def unchanged_checks(before, after):
    """Rows ``<name> unchanged``: a method must not write into the arrays it was given.

    ``before`` holds copies taken before the call, ``after`` the arrays themselves.
    """
    return [compare(f"{name} unchanged", after[name], before[name], 0.0, 0.0)
            for name in before]
