"""The finite-difference oracle: entry by entry, or along random directions.

The objective ``f`` is a scalar function of one array ``x`` (a layer's
``sum(dvalues * forward(x))``, a loss's mean, a network's total loss). Two
ways to differentiate it:

- **Entry by entry** (small arrays): the four-point central difference of
  each entry, ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h``, truncation
  error ~ h**4, with ``h = 1e-4 * max(|x|, 0.01)``. The same four values give
  the one-sided derivatives ``(-3 f(x) + 4 f(x+h) - f(x+2h)) / 2h`` and its
  mirror. Where they differ by more than smoothness allows, ``f`` has a kink
  there (ReLU at 0, a clip bound, ``|w|`` at 0): any value between the two
  one-sided derivatives is a valid subgradient, and the entry's expected value
  is the nearest point of that interval to yours.
- **Along random directions** (large arrays; ``jax.test_util.check_vjp`` and
  torch's fast gradcheck do the same): for a few random directions ``v``, the
  directional derivative of ``f`` (the same four-point stencil along ``v``) is
  compared with ``<yours, v>``. O(1) forward calls per array, whatever its size;
  a relative error ``r`` of the gradient shows as ~``r`` in ``<yours, v>``.
  Entries exactly at 0 (where ReLU and ``|w|`` have their kinks) are left
  out of the directions and differenced one by one. When the directional
  check fails, halving the set of entries locates a wrong one, and per-entry
  differences on it and on a sample of entries name the pattern; when a
  direction crosses a kink elsewhere, the array is differenced entry by entry
  instead (all of it, or a sample if it is huge, and the report says so).

Every entry (or direction) is also allowed the rounding noise of its
difference, ``100 * eps * (|f| + 1) / h``.
"""

import dataclasses

import numpy as np

from reference.check.report import progress
from reference.compare import moved_entry

#: Relative step of the stencils.
FD_STEP = 1e-4
#: Default tolerances of a finite-difference check: a 1e-6 relative error is caught.
FD_RTOL = 1e-7
FD_SCALE_TOL = 1e-7
#: In mode "auto", arrays with more entries than this are checked along directions.
ENTRYWISE_LIMIT = 128
#: Random directions per array in the directional mode.
DIRECTIONS = 3
#: Entries differenced one by one to locate a directional failure.
SAMPLE = 64
#: Above this many entries, a kink found along a direction is judged on a sample.
FALLBACK_LIMIT = 1024
MODES = ("auto", "entries", "directions")
#: Above this many entries differenced one by one, a progress bar is shown (terminal, Jupyter).
LONG = 2000

_EPS = np.finfo(np.float64).eps


def steps(x):
    return FD_STEP * np.maximum(np.abs(x), 0.01)


def noise(value, step):
    """Rounding noise of a four-point difference of ``f`` (value ``value``), with margin."""
    return 100 * _EPS * (abs(value) + 1.0) / step


def stencil(f0, plus1, minus1, plus2, minus2, step):
    """``(central, right, left)`` derivatives from the values at 0, +-h, +-2h."""
    central = (8 * (plus1 - minus1) - (plus2 - minus2)) / (12 * step)
    right = (-3 * f0 + 4 * plus1 - plus2) / (2 * step)
    left = (3 * f0 - 4 * minus1 + minus2) / (2 * step)
    return central, right, left


def is_kink(central, right, left, tolerance):
    """Whether the one-sided derivatives disagree as they do across a kink.

    For a smooth ``f`` both one-sided formulas carry the same leading error,
    ``-h**2 / 3`` times the third derivative: they differ from each other far
    less (~h**3) than from the central one. Across a kink they differ by the
    jump of the derivative and the central difference lies between them. So an
    entry is at a kink when ``|right - left|`` exceeds the rounding
    ``tolerance`` and is at least half of ``|right - central| + |left - central|``.
    """
    gap = np.abs(right - left)
    return (gap > tolerance) & (gap >= 0.5 * (np.abs(right - central) + np.abs(left - central)))


@dataclasses.dataclass
class Estimate:
    """Finite-difference derivatives of entries of ``x`` (NaN where not computed)."""

    central: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    kink: np.ndarray
    noise: np.ndarray
    entries: list

    def expected_for(self, actual):
        """The expected values to compare ``actual`` with: central, or at a kink the
        point of the one-sided interval (widened by its rounding noise) nearest to ``actual``."""
        near = np.clip(actual, self.lower - 3 * self.noise, self.upper + 3 * self.noise)
        return np.where(self.kink, np.where(np.isnan(actual), self.central, near), self.central)


def entrywise(f, x, entries=None, shrink=1):
    """Per-entry derivatives of ``f`` at ``x`` (all entries, or the listed indices).

    ``shrink`` (a number, or one per entry) divides the steps: a second look at
    entries where the first disagrees (next to a singularity such as ``log``
    near 0 the step's truncation error is large; it falls as step**4).
    """
    x = np.array(x, dtype=np.float64)
    h = steps(x) / np.asarray(shrink, dtype=np.float64)
    f0 = f(x)
    central, right, left = (np.full(x.shape, np.nan) for _ in range(3))
    entries = list(np.ndindex(x.shape)) if entries is None else list(entries)
    at = moved_entry(f, x)

    with progress(len(entries) if len(entries) > LONG else 0, "entries") as bar:
        for k in entries:
            central[k], right[k], left[k] = stencil(f0, at(k, h[k]), at(k, -h[k]),
                                                    at(k, 2 * h[k]), at(k, -2 * h[k]), h[k])
            bar.update()
    tolerance = noise(f0, h)
    kink = np.where(np.isnan(central), False, is_kink(central, right, left, tolerance))
    return Estimate(central, np.fmin(right, left), np.fmax(right, left), kink, tolerance, entries)


def refine(f, x, estimate, entries, trust, shrink=8):
    """Difference ``entries`` again with steps ``shrink`` times smaller, in place.

    Used where a first estimate disagrees with the hand-written value. The
    four-point truncation error falls by ``shrink**4``, so the change
    ``|old - new|`` measures the old estimate's error. Where it is within
    ``trust`` (the entry's allowance) the old estimate was sound and stands;
    where it is larger (next to a singularity, such as ``log`` near 0) the new
    one replaces it, with ``|old - new| / 1000`` added to its allowance (more
    than its own truncation error, ~``|old - new| / 4096`` for ``shrink = 8``).
    An entry found at a kink takes the finer look whatever it says: its
    one-sided derivatives are then nearer the point (a kink within the old
    step's reach but not at the point itself vanishes).
    """
    finer = entrywise(f, x, entries, shrink)
    estimate.noise = np.array(np.broadcast_to(estimate.noise, x.shape), dtype=np.float64)
    for k in entries:
        change = abs(finer.central[k] - estimate.central[k])
        if not (estimate.kink[k] or change > trust[k]):
            continue
        for field in ("central", "lower", "upper", "kink"):
            getattr(estimate, field)[k] = getattr(finer, field)[k]
        estimate.noise[k] = finer.noise[k] + change / 1000
    return estimate


@dataclasses.dataclass
class Directions:
    """Directional derivatives of ``f`` along random directions, beside ``<yours, v>``."""

    yours: np.ndarray
    expected: np.ndarray
    allowed: np.ndarray
    kink: bool

    @property
    def ok(self):
        return bool(np.all(np.abs(self.yours - self.expected) <= self.allowed))

    @property
    def ratio(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.abs(self.yours - self.expected) / self.allowed
        return float(np.max(np.where(np.isnan(r), np.inf, r)))


def directional(f, x, actual, rng, rtol, scale_tol, count=DIRECTIONS, mask=None, f0=None):
    """Compare ``<actual, v>`` with the derivative of ``f`` along ``count`` random ``v``.

    ``v = normal * max(|x|, 0.01)`` (each entry moves in proportion to its
    size), zero where ``mask`` is False; the allowance of a direction is
    ``rtol |D_v f| + scale_tol ||actual * s||_2`` plus the stencil's rounding noise.
    A direction that disagrees is differenced again with steps 8 and 64 times
    smaller, trusted as :func:`refine` trusts a finer estimate.
    """
    x = np.array(x, dtype=np.float64)
    size = np.maximum(np.abs(x), 0.01)
    if mask is not None:
        size = size * mask
    f0 = f(x) if f0 is None else f0
    tolerance = noise(f0, FD_STEP)
    magnitude = float(np.sqrt(np.sum((actual * size) ** 2)))
    yours, expected, allowed, kinks = [], [], [], []
    def along(v, step):
        return stencil(f0, *(f(x + t * step * v) for t in (1, -1, 2, -2)), step)

    for _ in range(count):
        v = rng.standard_normal(x.shape) * size
        central, right, left = along(v, FD_STEP)
        mine = float(np.sum(actual * v))
        allowance = rtol * abs(central) + scale_tol * magnitude + tolerance
        for shrink in (8, 64):
            if abs(mine - central) <= allowance:
                break
            finer = along(v, FD_STEP / shrink)[0]
            change = abs(finer - central)
            if change > allowance:
                central = finer
                allowance = rtol * abs(central) + scale_tol * magnitude \
                    + noise(f0, FD_STEP / shrink) + change / 1000
        kinks.append(bool(is_kink(central, right, left, 30 * tolerance + 1e-9 * magnitude)))
        yours.append(mine)
        expected.append(central)
        allowed.append(allowance)
    return Directions(np.array(yours), np.array(expected), np.array(allowed), any(kinks))


def locate(f, x, actual, rng, rtol, scale_tol, mask):
    """An entry where ``actual`` is wrong, found by halving the set of entries.

    Each step compares the directional derivative along a random direction
    within each half and keeps the half that disagrees more: ~log2(size)
    steps of 8 forward calls. Returns an index, or None when neither half
    disagrees on its own (an error spread thin over many entries).
    """
    f0 = f(x)
    entries = np.flatnonzero(mask.ravel())
    while entries.size > 1:
        halves = np.array_split(entries, 2)
        ratios = []
        for half in halves:
            within = np.zeros(x.size, dtype=bool)
            within[half] = True
            ratios.append(directional(f, x, actual, rng, rtol, scale_tol, 1,
                                      within.reshape(x.shape), f0).ratio)
        if max(ratios) <= 1:
            return None
        entries = halves[int(np.argmax(ratios))]
    return tuple(int(i) for i in np.unravel_index(int(entries[0]), x.shape))


def sample_entries(actual, rng, count=SAMPLE):
    """Indices to difference one by one: the largest |actual| entries and random ones."""
    flat = np.abs(np.nan_to_num(np.asarray(actual, dtype=np.float64), nan=np.inf)).ravel()
    largest = np.argsort(flat)[::-1][: count // 4]
    rest = rng.choice(flat.size, size=min(flat.size, count), replace=False)
    chosen = list(dict.fromkeys(list(largest) + list(rest)))[:count]
    return [np.unravel_index(i, actual.shape) for i in chosen]
