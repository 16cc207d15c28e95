"""The finite-difference oracle: every estimate carries a bound it can justify.

The objective ``f`` is a scalar function of one array ``x`` (a layer's
``sum(dvalues * forward(x))``, a loss's mean, a network's total loss). It is
differentiated along lines ``g(t) = f(x + t u)``: ``u`` is one entry's unit
(times the entry's size) or a random direction. Three ideas:

1. **The noise is measured, not modelled.** :func:`measure_noise` evaluates
   ``f`` at 9 points a relative ``1e-6`` apart along a random direction (and
   again 100 times finer where the table still shows ``f``'s own variation)
   and reads the rounding noise ``sigma`` of one evaluation off the table's
   differences of orders 3 to 6 (Moré and Wild's ECnoise): the smooth part of
   ``f`` vanishes in them, the noise does not. That sees the terms' sizes
   (``sum(dvalues * output)`` can be 0.77 from terms of 1e4) and a forward
   that computes in float32 inside. Each evaluation is taken to be within
   ``delta = SAFETY * sigma`` of the smooth function.
2. **Steps are chosen from the function.** On a ladder of steps ``h * 2**j``
   the four-point central difference ``D4(h)`` (truncation ~ h**4) comes with
   the two-point ``D2(h)`` from the same points; ``T = |D4 - D2|`` bounds the
   truncation error of ``D4`` (it is ``D2``'s, of order h**2) and ``R = 1.5
   delta / h`` its rounding error. Where ``T + R`` is too large to judge the
   entry, or ``T`` is too large to be trusted as a bound (``CONFIRM``), an
   estimate is accepted only where two neighbouring steps agree within their
   bounds: the ladder goes finer while truncation dominates, and coarser
   while rounding does (a bias, on which the objective depends linearly, is
   so differenced at a large step: exactly to within rounding).
3. **Kinks only where they are.** The one-sided differences (``f(x)``, ``f(x +-
   h)``, ``f(x +- 2h)``) differ across a kink by the jump of the derivative and,
   for a smooth ``f``, only by O(h**3). A kink is declared where they differ by
   more than ``kink_margin`` times their rounding bound
   (:mod:`nnfs_ref.check.settings`) and the central value lies between them; two
   finer steps then tell a kink *at* the point (the one-sided values settle)
   from one near it (they drift, and finer steps leave it). At a kink any value
   between the one-sided derivatives is a valid subgradient. Entries at kinks
   are also judged jointly (:func:`joint_kinks`): where the objective couples
   them (a tie in a max), ``<yours, v>`` must lie between the one-sided
   derivatives along directions ``v`` within them.

Large arrays are checked along random directions (:func:`directional`,
as ``jax.test_util.check_vjp`` and torch's fast gradcheck do): the same
ladder along ``v``, compared with ``<yours, v>``.
"""

import dataclasses
import math

import numpy as np

from nnfs_ref.check.report import progress
from nnfs_ref.check.settings import DEFAULT

#: In mode "auto", arrays with more entries than this are checked along directions.
ENTRYWISE_LIMIT = 128
#: Random directions per array in the directional mode.
DIRECTIONS = 3
#: Entries differenced one by one to locate a directional failure.
SAMPLE = 64
#: Above this many entries, a kink found along a direction is judged on a sample.
FALLBACK_LIMIT = 1024

#: Points and first relative spacing of a noise table.
NOISE_POINTS = 9
NOISE_SPACING = 1e-6
#: An evaluation is trusted to within SAFETY times the measured RMS noise.
SAFETY = 4.0
#: A first step is taken alone when its truncation bound is within this fraction of the
#: tolerance: were it not yet in its asymptotic regime (where the bound holds), the step
#: would have to exceed the function's own scale, and the bound would not be that small.
CONFIRM = 1e-3
#: Steps of the ladder (halvings or doublings of the first step) at the most, each way.
LADDER = 30
#: The coarsest step, relative to the entry's size (a linear parameter goes up to it).
COARSEST = 0.1
#: Relative noise (sigma over the size of the objective's terms) above which the forward is
#: taken to compute in a lower precision than float64 (float64 gives ~1e-16 to 1e-12).
LOWERED = 1e-10
#: Kink entries paired to find which the objective couples, at the most.
JOINT_LIMIT = 48

_EPS = np.finfo(np.float64).eps


# --- the noise of one evaluation ---------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Noise:
    """The rounding noise of the objective near ``x``.

    ``sigma``: RMS noise of one evaluation (ECnoise); ``delta``: the bound used
    (``SAFETY * sigma``, at least a few ulps of ``f(x)``); ``relative``:
    ``sigma`` over the size of the objective's terms (None when unknown);
    ``lowered``: the forward computes in a lower precision than float64.
    """

    sigma: float
    delta: float
    relative: object = None

    @property
    def lowered(self):
        return self.relative is not None and self.relative > LOWERED


def sizes(x):
    """Per-entry sizes: ``|x|``, or for entries much smaller than the array's typical
    size (zeros above all) 1e-2 of it; an all-zero array has size 1. Each is rounded
    down to a power of two (so are the steps: ``x + t * size`` is exact)."""
    x = np.asarray(x, dtype=np.float64)
    nonzero = np.abs(x[x != 0])
    if not nonzero.size:
        return np.ones(x.shape)
    largest = float(nonzero.max())
    typical = largest * float(np.sqrt(np.mean((nonzero / largest) ** 2)))  # RMS, no underflow
    size = np.maximum(np.abs(x), max(1e-2 * typical, 1e-290))
    return 2.0 ** np.floor(np.log2(size))


def measure_noise(f, x, f0, rng, magnitude=None):
    """The rounding noise of ``f`` near ``x`` (``f0 = f(x)``), from tables along a direction.

    The direction moves every non-zero entry by a fraction of itself (never across 0,
    where ReLU and ``|w|`` have their kinks) and zeros by their size, away from 0 on
    one side only. Rounding noise does not depend on the table's spacing, while what
    is left of ``f``'s own variation (a kink or a clip bound within reach, a curvature
    on a small scale) shrinks with it: tables at spacings ``1e-6``, ``1e-8`` (and
    finer while the estimate keeps falling) are taken, and the largest estimate of a
    noise-like table (whose orders agree) is kept, else the smallest: a table whose
    points round coherently (exactly linear values) can read 1e5 times too low. A
    table whose values are mostly equal is finer than the forward's precision (a
    float32 forward rounds nearby points to one value) and is not used.
    """
    x = np.asarray(x, dtype=np.float64)
    size = sizes(x)
    sign = np.where(rng.random(x.shape) < 0.5, -1.0, 1.0)
    u = np.abs(rng.standard_normal(x.shape)) * np.where(x != 0, sign * x, size)
    tables, spacing = [], NOISE_SPACING
    while spacing >= 1e-12:
        values = [f0] + [f(x + i * spacing * u) for i in range(1, NOISE_POINTS)]
        if len(set(values)) < NOISE_POINTS // 2:
            break  # finer than the forward's precision
        found, spread = _table_sigma(values)
        first = not tables
        falling = not first and found <= 0.25 * tables[-1][0]
        tables.append((found, spread))
        if (first and spread <= 2) or not (first or falling):
            break  # the orders agree, as they do for noise alone; or no longer falling
        spacing /= 100
    # too low a noise is a false alarm: of the noise-like tables, the largest
    noise_like = [found for found, spread in tables if spread <= 2]
    sigma = max(noise_like) if noise_like else min((t[0] for t in tables), default=0.0)
    floor = 4 * _EPS * abs(f0) + 2e-323  # a few ulps of f(x), subnormal ones included
    relative = None if not magnitude else sigma / magnitude
    return Noise(sigma, max(SAFETY * sigma, floor), relative)


def _table_sigma(values):
    """ECnoise: the RMS noise of one value of an equally spaced table, from its differences
    of orders 3 to 6 (the largest of the four estimates), and their spread (largest over
    smallest: near 1 for noise alone, large where ``f``'s own variation is left in them)."""
    estimates = []
    diff = np.asarray(values, dtype=np.float64)
    for k in range(1, 7):
        diff = np.diff(diff)
        if k >= 3:
            gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
            estimates.append(math.sqrt(gamma * float(np.mean(diff ** 2))))
    low = min(estimates)
    return max(estimates), (max(estimates) / low if low > 0 else math.inf)


# --- one line, one derivative ------------------------------------------------------------------

@dataclasses.dataclass
class Level:
    """The differences of a line at one step ``h``: central (``D4``), its truncation and
    rounding bounds, the one-sided derivatives and whether they show a kink."""

    h: float
    central: float
    truncation: float
    rounding: float
    right: float
    left: float
    sided: float  # rounding bound of a one-sided derivative
    kink: bool

    @property
    def error(self):
        """The central value's error bound. Where no kink is told, half the gap between the
        one-sided derivatives is added: the central lies between them, and a kink whose
        jump is within rounding of them could make either the right one."""
        return self.truncation + self.rounding + (0.0 if self.kink else
                                                  0.5 * abs(self.right - self.left))


class Line:
    """``g(t) = f(x + t u)``, memoised (the ladder's levels share points); ``settings``
    give the first step and the kink margin."""

    def __init__(self, f, x, u, f0, delta, settings=DEFAULT):
        self.f, self.x, self.u, self.delta, self.settings = f, x, u, delta, settings
        self.values = {0.0: f0}

    def __call__(self, t):
        if t not in self.values:
            self.values[t] = self.f(self.x + t * self.u)
        return self.values[t]

    def level(self, h):
        f0, p1, m1, p2, m2 = self(0.0), self(h), self(-h), self(2 * h), self(-2 * h)
        two = (p1 - m1) / (2 * h)
        central = (8 * (p1 - m1) - (p2 - m2)) / (12 * h)
        right = (-3 * f0 + 4 * p1 - p2) / (2 * h)
        left = (3 * f0 - 4 * m1 + m2) / (2 * h)
        sided = 4 * self.delta / h
        gap = abs(right - left)
        kink = bool(gap > self.settings.kink_margin * 2 * sided
                    and gap >= 0.5 * (abs(right - central) + abs(left - central)))
        return Level(h, central, abs(central - two), 1.5 * self.delta / h, right, left, sided,
                     kink)


@dataclasses.dataclass
class Derivative:
    """The derivative of a line: ``value`` within ``error``; at a kink, the interval
    ``[lower, upper]`` of valid subgradients (each end within ``error``)."""

    value: float
    error: float
    lower: float
    upper: float
    kink: bool
    right: float
    left: float


def _smooth(level):
    return Derivative(level.central, level.error, level.central, level.central, False,
                      level.central, level.central)


def _kink(finest, drift):
    return Derivative(finest.central, finest.sided + drift, min(finest.right, finest.left),
                      max(finest.right, finest.left), True, finest.right, finest.left)


def _consistent(a, b):
    return abs(a.central - b.central) <= a.error + b.error


def differentiate(line, target=math.inf):
    """The derivative of ``line`` at 0, on the ladder of steps ``h0 * 2**j`` (``h0``: the
    line's ``settings.step``).

    ``target``: the error small enough to judge the entry by (its tolerance). The
    first step is taken as it is when its error bound is within ``target`` and its
    truncation bound within ``CONFIRM * target`` or within its rounding bound (a
    larger one might not yet be in the regime where it bounds the error); otherwise
    an estimate is accepted only where two neighbouring steps agree within their
    bounds. See the module's docstring.
    """
    levels, h0 = {}, line.settings.step

    def at(k):
        if k not in levels:
            levels[k] = line.level(h0 * 2.0 ** k)
        return levels[k]

    first = at(0)
    # a truncation bound within rounding is rounding's, not the sign of a coarse step
    if not first.kink and first.error <= target \
            and first.truncation <= max(CONFIRM * target, first.rounding):
        return _smooth(first)
    if first.kink or first.truncation > first.rounding:
        return _finer(at, target, line.settings.kink_margin)
    return _coarser(at, target, h0)


def _finer(at, target, margin):
    """Finer steps: until a kink settles at the point, or two steps agree well enough."""
    best, j = None, 0
    while j > -LADDER:
        a, b = at(j), at(j - 1)
        if a.kink and not b.kink and abs(b.right - b.left) >= 0.5 * abs(a.right - a.left):
            # the gap persists, but at the finer step rounding could make it: a kink at the
            # point, as far as float64 tells
            drift = max(abs(b.right - a.right), abs(b.left - a.left))
            return _kink(a, drift + 2 * a.sided)
        if a.kink and b.kink:
            c = at(j - 2)
            drift1 = max(abs(b.right - a.right), abs(b.left - a.left))
            drift2 = max(abs(c.right - b.right), abs(c.left - b.left))
            # at the point, the one-sided values settle (their truncation falls as h**2);
            # a kink at a distance e pulls them by ~ e / h, more at every finer step
            settled = c.kink and drift2 <= 0.5 * drift1 + 2 * (b.sided + c.sided)
            # or the next step could no longer tell the gap from rounding
            unresolvable = c.kink and abs(c.right - c.left) < 2 * margin * 2 * c.sided
            if settled or unresolvable:
                return _kink(c, drift2 + 2 * c.sided)
        elif not (a.kink or b.kink) and _consistent(a, b):
            finer = b if b.error <= a.error else a
            best = finer if best is None or finer.error < best.error else best
            if best.error <= target or b.truncation <= b.rounding:
                break
        j -= 1
    if best is None and at(j).kink:  # still a kink at the finest step: one too near to resolve
        a, b = at(j), at(j + 1)
        return _kink(a, max(abs(a.right - b.right), abs(a.left - b.left)) + 2 * a.sided)
    if best is None:  # no two steps agreed: the entry is not resolved, and its bound says so
        a, b = at(j), at(j + 1)
        return Derivative(a.central, a.error + abs(a.central - b.central), a.central,
                          a.central, False, a.central, a.central)
    return _smooth(best)


def _coarser(at, target, h0):
    """Coarser steps, while rounding leads and each agrees with the finer one (a parameter
    the objective depends on linearly goes up to ``COARSEST``)."""
    best, j = at(0), 0
    while j < LADDER and h0 * 2.0 ** (j + 1) <= COARSEST:
        coarser = at(j + 1)
        if coarser.kink or not _consistent(coarser, at(j)) or coarser.error >= best.error:
            break
        j, best = j + 1, coarser
        if best.error <= target or best.truncation > best.rounding:
            break
    return _smooth(best)


# --- arrays: entry by entry --------------------------------------------------------------------

def moved_entry(f, x):
    """``at(k, offset)``: ``f(x)`` with entry ``k`` of ``x`` moved by ``offset``.

    ``x`` is changed in place for the call and put back after it (also when ``f`` raises).
    """
    def at(k, offset):
        saved = x[k]
        x[k] = saved + offset
        try:
            return f(x)
        finally:
            x[k] = saved
    return at


class EntryLine(Line):
    """``g(t) = f(x)`` with entry ``k`` moved by ``t * size``, in place (put back after)."""

    def __init__(self, f, x, k, size, f0, delta, settings=DEFAULT):
        super().__init__(f, x, None, f0, delta, settings)
        self.k, self.size, self.at = k, size, moved_entry(f, x)

    def __call__(self, t):
        if t not in self.values:
            self.values[t] = self.at(self.k, t * self.size)
        return self.values[t]


@dataclasses.dataclass
class Estimate:
    """Per-entry derivatives of ``f`` at ``x`` (NaN where not computed), in ``x``'s units:
    ``central`` within ``error``; at a kink (``kink``) the interval ``[lower, upper]``
    between the one-sided derivatives ``right`` and ``left``."""

    central: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    error: np.ndarray
    kink: np.ndarray
    right: np.ndarray
    left: np.ndarray
    lines: dict

    def expected_for(self, actual):
        """The values to compare ``actual`` with: central, or at a kink the point of
        the interval (widened by its error) nearest to ``actual``."""
        near = np.clip(actual, self.lower - self.error, self.upper + self.error)
        return np.where(self.kink, np.where(np.isnan(actual), self.central, near), self.central)


def entrywise(f, x, entries, noise, target=None, f0=None, settings=DEFAULT):
    """Per-entry derivatives of ``f`` at ``x`` for the listed index tuples.

    ``target(central) -> array``: each entry's tolerance given the first estimates
    (an entry whose error bound exceeds it takes more steps of the ladder).
    """
    x = np.array(x, dtype=np.float64)
    size = sizes(x)
    f0 = f(x) if f0 is None else f0
    fields = {name: np.full(x.shape, np.nan) for name in
              ("central", "lower", "upper", "error", "right", "left")}
    kink = np.zeros(x.shape, dtype=bool)
    lines = {}

    def store(k, d):
        for name in fields:
            fields[name][k] = getattr(d, "value" if name == "central" else name) / size[k]
        kink[k] = d.kink

    with progress(len(entries), "entries") as bar:
        for k in entries:
            lines[k] = EntryLine(f, x, k, size[k], f0, noise.delta, settings)
            store(k, differentiate(lines[k]))
            bar.update()
    if target is not None:
        goal = np.broadcast_to(target(fields["central"]), x.shape)
        for k in entries:
            if not kink[k]:  # the values are kept: a first step that stands costs no call
                store(k, differentiate(lines[k], goal[k] * size[k]))
    return Estimate(fields["central"], fields["lower"], fields["upper"], fields["error"], kink,
                    fields["right"], fields["left"], lines)


# --- arrays: along random directions -----------------------------------------------------------

@dataclasses.dataclass
class Directions:
    """Directional derivatives of ``f`` along random directions, beside ``<yours, v>``:
    ``expected`` within ``allowed`` (the tolerance plus the estimate's error bound)."""

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


def directional(f, x, actual, rng, settings, noise, count=DIRECTIONS, mask=None, f0=None):
    """Compare ``<actual, v>`` with the derivative of ``f`` along ``count`` random ``v``.

    ``v = normal * |x|`` (each entry moves by a fraction of itself, so that none
    crosses 0, where ReLU and ``|w|`` have their kinks), zero where ``mask`` is
    False. The allowance of a direction (``settings``' tolerances) is
    ``rtol |D_v f| + scale_tol ||actual * |x|||_2 + atol ||v||_1`` plus the
    estimate's own error bound.
    """
    rtol, scale_tol, atol = settings.rtol, settings.scale_tol, settings.atol
    x = np.array(x, dtype=np.float64)
    size = np.abs(x)  # each entry moves by a fraction of itself: none crosses 0
    if mask is not None:
        size = size * mask
    f0 = f(x) if f0 is None else f0
    magnitude = float(np.sqrt(np.sum((actual * size) ** 2)))
    yours, expected, allowed, kinks = [], [], [], []
    for _ in range(count):
        # clipped, so that even the coarsest step (2 * COARSEST * 4 = 0.8 of an entry)
        # takes no entry across 0
        v = np.clip(rng.standard_normal(x.shape), -4, 4) * size
        line = Line(f, x, v, f0, noise.delta, settings)
        first = differentiate(line)
        goal = rtol * abs(first.value) + scale_tol * magnitude + atol * float(np.abs(v).sum())
        found = first if first.kink else differentiate(line, goal)
        yours.append(float(np.sum(actual * v)))
        expected.append(found.value)
        allowed.append(goal + found.error)
        kinks.append(found.kink)
    return Directions(np.array(yours), np.array(expected), np.array(allowed), any(kinks))


def locate(f, x, actual, rng, settings, noise, mask, f0):
    """An entry where ``actual`` is wrong, found by halving the set of entries.

    Each step compares the directional derivative along a random direction
    within each half and keeps the half that disagrees more: ~log2(size)
    steps. Returns an index, or None when neither half disagrees on its own
    (an error spread thin over many entries). ``f0 = f(x)``.
    """
    entries = np.flatnonzero(mask.ravel())
    while entries.size > 1:
        halves = np.array_split(entries, 2)
        ratios = []
        for half in halves:
            within = np.zeros(x.size, dtype=bool)
            within[half] = True
            ratios.append(directional(f, x, actual, rng, settings, noise, 1,
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
    return [tuple(int(i) for i in np.unravel_index(i, actual.shape)) for i in chosen]


# --- kinks judged together ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class JointViolation:
    """Entries at kinks that the objective couples (a tie), whose gradients are each valid
    alone but not together: along a direction ``v`` within them ``<yours, v>`` is ``yours``,
    and every valid subgradient gives a value in ``[lower, upper]``."""

    entries: tuple
    yours: float
    lower: float
    upper: float
    slack: float

    @property
    def ratio(self):
        """How far outside the interval yours is, in units of its allowance."""
        return max(self.lower - self.yours, self.yours - self.upper) / self.slack


def _coupled(estimate, noise, f0, i, j, settings):
    """Whether ``f`` couples kink entries ``i`` and ``j`` to first order, as a tie in a max
    does: moving both by ``h`` differs from moving each alone by an amount of order ``h``
    times their gaps (a smooth coupling, through a loss say, gives only ``h**2``)."""
    li, lj = estimate.lines[i], estimate.lines[j]
    step = settings.step
    hi, hj = step * li.size, step * lj.size
    x = li.x
    saved = x[i], x[j]
    x[i], x[j] = saved[0] + hi, saved[1] + hj
    try:
        both = li.f(x)
    finally:
        x[i], x[j] = saved
    mixed = abs(both - li(step) - lj(step) + f0)
    gap = min(abs(estimate.right[i] - estimate.left[i]), abs(estimate.right[j] - estimate.left[j]))
    return mixed > settings.kink_margin * 4 * noise.delta and mixed >= 0.25 * min(hi, hj) * gap


def _groups(pairs, entries):
    """Connected components (of two or more entries) of the coupling graph."""
    parent = {k: k for k in entries}

    def root(k):
        while parent[k] != k:
            k = parent[k]
        return k
    for i, j in pairs:
        parent[root(i)] = root(j)
    groups = {}
    for k in entries:
        groups.setdefault(root(k), []).append(k)
    return [g for g in groups.values() if len(g) > 1]


def joint_kinks(f, x, actual, estimate, noise, rng, settings, f0):
    """The first group of coupled kink entries whose gradients violate the joint bound.

    Where ``f`` is separable in the kink entries (ReLU's zeros, ``|w|`` at 0), the
    per-entry intervals are the whole truth. Where it couples them (a max with
    ties), a valid subgradient ``g`` of the group satisfies, along every direction
    ``v`` within it, ``<g, v>`` between the one-sided directional derivatives of
    ``f`` (exact for a group where ``f`` is locally convex or concave, as a max of
    tied entries times a cotangent is). Returns a :class:`JointViolation` or None.
    """
    rtol, scale_tol, atol = settings.rtol, settings.scale_tol, settings.atol
    kinks = [k for k in estimate.lines if estimate.kink[k]]
    if len(kinks) < 2:
        return None
    if len(kinks) > JOINT_LIMIT:
        kinks = [kinks[i] for i in sorted(rng.choice(len(kinks), JOINT_LIMIT, replace=False))]
    pairs = [(i, j) for a, i in enumerate(kinks) for j in kinks[a + 1:]
             if _coupled(estimate, noise, f0, i, j, settings)]
    x = np.array(x, dtype=np.float64)
    size = sizes(x)
    for group in _groups(pairs, kinks):
        index = tuple(np.array(group).T)
        for _ in range(2):
            v = np.zeros(x.shape)
            v[index] = rng.standard_normal(len(group)) * size[index]
            d = differentiate(Line(f, x, v, f0, noise.delta, settings))
            lower, upper = min(d.right, d.left), max(d.right, d.left)
            mine = float(np.sum(actual * v))
            slack = d.error + rtol * max(abs(lower), abs(upper)) \
                + scale_tol * float(np.sqrt(np.sum((actual * v) ** 2))) \
                + atol * float(np.abs(v).sum())
            if not lower - slack <= mine <= upper + slack:
                return JointViolation(tuple(tuple(int(i) for i in k) for k in group), mine,
                                      lower, upper, slack)
    return None
