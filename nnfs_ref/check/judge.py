"""Judging one hand-written gradient against the finite-difference oracle.

:func:`numeric_finding` is the checker's one way to judge an array: entry by
entry, or along random directions (halving to locate a wrong entry, entries
near 0 and at kinks one by one), with the kinks then judged jointly. It
returns the row and the finding the report shows.
"""

import dataclasses

import numpy as np

from nnfs_ref.check import numeric
from nnfs_ref.check.compare import GradientCheck, compare, disagreeing
from nnfs_ref.check.report import Finding, Hints, Method, diagnose, shape_message
from nnfs_ref.check.settings import Settings


def numeric_finding(name, actual, f, x, settings, rng, hints=Hints(), magnitude=None):
    """Check one hand-written gradient ``actual`` of scalar ``f`` at ``x``.

    ``settings``: the tolerances, the mode and the step and kink policy; ``rng``: the
    directions' generator; ``hints``: what a diagnosis may name (the batch size, the
    array, the object's numbers).
    ``magnitude``: the size of the objective's terms at ``x`` (``sum |dvalues *
    output|``), against which its measured noise tells a forward that computes in
    a lower precision. Returns ``(GradientCheck, Finding)``; ``actual`` None means
    backward never set it.
    """
    x = np.array(x, dtype=np.float64)
    if actual is None:
        return (GradientCheck.missing(name, x.shape),
                Finding(message=f"backward did not set {name}"))
    try:
        a = np.array(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return (GradientCheck.missing(name, x.shape),
                Finding(message=f"{name} is a {type(actual).__name__}, not a numeric array"))
    if a.shape != x.shape:
        check = compare(name, a, np.zeros(x.shape))
        return check, Finding(message=shape_message(name, a.shape, x.shape))
    mode = settings.mode
    if mode == "auto":
        mode = "entries" if x.size <= numeric.ENTRYWISE_LIMIT else "directions"
    f0 = f(x)
    noise = numeric.measure_noise(f, x, f0, rng, magnitude)
    note = ""
    if noise.lowered:  # the backward computes in that precision too: its rounding is allowed
        floor = 10 * noise.relative
        settings = settings.at_least(floor)
        note = (f"forward computes in a lower precision than float64 (noise "
                f"{noise.relative:.1g} of its terms): steps fitted to it, rtol and scale_tol "
                f"{floor:.1g}")
    probe = Probe(name, a, f, x, f0, settings, noise, rng, hints)
    if mode == "directions":
        check, finding = _directional_finding(probe)
    else:
        check, finding = _entry_finding(probe, None, Method("entries"))
    return check, dataclasses.replace(finding, note=note)


@dataclasses.dataclass
class Probe:
    """One gradient under check: yours (``a``), the objective ``f`` at ``x`` (``f0``), the
    settings, the measured noise, the directions' generator and the diagnoses' hints."""

    name: str
    a: np.ndarray
    f: object
    x: np.ndarray
    f0: float
    settings: Settings
    noise: numeric.Noise
    rng: np.random.Generator
    hints: Hints = Hints()

    def directions(self, count=numeric.DIRECTIONS, mask=None):
        return numeric.directional(self.f, self.x, self.a, self.rng, self.settings, self.noise,
                                   count, mask, self.f0)


def _sampled(entries, limit, rng):
    """``entries`` (index tuples), or ``limit`` of them drawn at random."""
    if len(entries) <= limit:
        return entries
    return [entries[i] for i in sorted(rng.choice(len(entries), size=limit, replace=False))]


#: Entries below this are differenced one by one in the directional mode.
SMALLEST = 1e-280
#: Entries found at kinks elsewhere and moved out of the directions, at most.
MAX_EXCLUDED = 8


def _directional_finding(probe):
    """Directions over most entries; one by one near 0 and at kinks the directions cross.

    A direction that disagrees, or crosses a kink, is explained by halving: the
    entry found is judged on its own. If it is wrong, that is the failure; if
    it agrees (a kink), it leaves the directions for the per-entry check and
    the directions run again.
    """
    x, a, rng = probe.x, probe.a, probe.rng
    # a direction moves each entry by a fraction of itself: zeros (and entries so small
    # that a fraction of them underflows) are differenced one by one
    single = np.abs(x) < SMALLEST
    mask = ~single
    excluded, located = [], None
    for _ in range(MAX_EXCLUDED + 1):
        found = probe.directions(mask=mask)
        if found.ok and not found.kink:
            break
        located = numeric.locate(probe.f, x, a, rng, probe.settings, probe.noise, mask,
                                 probe.f0)
        if located is None or not _entry_finding(probe, [located], Method(""))[0].ok:
            break
        mask[located] = False
        excluded.append(located)
    near = _sampled([tuple(int(i) for i in k) for k in np.argwhere(single)],
                    numeric.FALLBACK_LIMIT, rng)
    method = Method("directions", numeric.DIRECTIONS, len(near), len(near) < single.sum(),
                    len(excluded))
    if found.ok and not found.kink:
        singles = near + excluded
        if not singles:
            return _directional_check(probe.name, a, found), Finding(method)
        check, finding = _entry_finding(probe, singles, method)
        return (_directional_check(probe.name, a, found) if check.ok else check), finding
    if located is None and found.kink:  # a kink that halving could not isolate
        entries = _sampled(list(np.ndindex(x.shape)), numeric.FALLBACK_LIMIT, rng)
        return _entry_finding(probe, entries, Method("fallback", sampled=len(entries),
                                                     size=x.size))
    entries = ([located] if located is not None else []) + numeric.sample_entries(a, rng)
    check, finding = _entry_finding(probe, list(dict.fromkeys(entries)), Method(""))
    failed = _directional_check(probe.name, a, found)
    worst = int(np.argmax(np.abs(found.yours - found.expected) / found.allowed))
    message = finding.message or (
        f"along a random direction yours gives {found.yours[worst]:.6g} where the objective "
        f"changes at {found.expected[worst]:.6g}; the {len(entries)} entries sampled one by "
        "one agree: the error is spread thin over many entries")
    if located is not None:
        message = f"found by halving: {located}; " + message
    return (dataclasses.replace(failed, ok=False, worst_index=check.worst_index,
                                actual_worst=check.actual_worst,
                                expected_worst=check.expected_worst),
            Finding(dataclasses.replace(method, then_sampled=True), finding.kinks, message))


def _entry_finding(probe, entries, method):
    """Per-entry differences of ``entries`` (None: all), then the kinks judged jointly."""
    a, x = probe.a, probe.x
    rtol, scale_tol, atol = probe.settings.rtol, probe.settings.scale_tol, probe.settings.atol
    listed = list(np.ndindex(x.shape)) if entries is None else list(entries)
    index = tuple(np.array(listed).T)

    def target(central):
        known = np.abs(np.where(np.isnan(central), 0.0, central))
        return rtol * known + scale_tol * known[index].max() + atol

    estimate = numeric.entrywise(probe.f, x, listed, probe.noise, target, probe.f0,
                                 probe.settings)
    expected = estimate.expected_for(a)[index]
    allowance = atol + estimate.error[index]
    sub = compare(probe.name, a[index], expected, rtol, scale_tol, atol=allowance)
    if sub.worst_index is None:
        worst = None
    else:  # the entry of x at the worst of the compared entries (a 0-d x: its one entry)
        worst = tuple(int(i) for i in listed[sub.worst_index[0] if sub.worst_index else 0])
    check = dataclasses.replace(sub, shape=a.shape, expected_shape=x.shape, worst_index=worst)
    kinks = int(estimate.kink[index].sum())
    whole = entries is None  # in C order, so the arrays take their shape back
    if not sub.ok:
        bad = int(disagreeing(a[index], expected, rtol, scale_tol, atol=allowance).sum())
        pattern = diagnose(a if whole else a[index],
                           estimate.central if whole else estimate.central[index], bad,
                           probe.hints)
        return check, Finding(method, kinks, pattern,
                              expected=estimate.expected_for(a) if whole else None,
                              bound=estimate.error if whole else None)
    joint = numeric.joint_kinks(probe.f, x, a, estimate, probe.noise, probe.rng,
                                probe.settings, probe.f0)
    if joint is None:
        return check, Finding(method, kinks, expected=estimate.expected_for(a) if whole else None,
                              bound=estimate.error if whole else None)
    nearest = min(max(joint.yours, joint.lower), joint.upper)
    shown = ", ".join(map(str, joint.entries[:6])) + (", ..." if len(joint.entries) > 6 else "")
    message = (f"entries {shown} sit at one kink that couples them (a tie?): each alone is "
               "within its one-sided derivatives, but not together: along a direction within "
               f"them yours gives {joint.yours:.6g}, every valid subgradient between "
               f"{joint.lower:.6g} and {joint.upper:.6g} (tied entries share one gradient; "
               "did each take all of it?)")
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = abs(joint.yours - nearest) / abs(nearest) if nearest else float("inf")
    return (GradientCheck(probe.name, a.shape, x.shape, max_abs=abs(joint.yours - nearest),
                          max_rel=rel, worst_index=None, ok=False, ratio=joint.ratio),
            Finding(method, kinks, message))


def _directional_check(name, a, found):
    err = np.abs(found.yours - found.expected)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(err == 0, 0.0, err / np.abs(found.expected))
    nan = bool(np.isnan(a).any())
    return GradientCheck(name, a.shape, a.shape, max_abs=float("nan") if nan else float(err.max()),
                         max_rel=float("nan") if nan else float(rel.max()), worst_index=None,
                         ok=found.ok, ratio=found.ratio)
