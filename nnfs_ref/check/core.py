"""``check_layer`` and ``check_loss``: is a hand-written backward pass right?

The object is called as the book's chapters write it (see
:mod:`nnfs_ref.check.contract`), in float64, with its randomness pinned,
and every array it holds whose gradient ``backward`` sets is checked.
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnfs_ref.check import contract, numeric
from nnfs_ref.check.contract import Slot, UserCodeError, call
from nnfs_ref.check.report import CheckReport, Finding, diagnose, penalty_hint, shape_message
from nnfs_ref.check.compare import (
    RTOL,
    SCALE_TOL,
    GradientCheck,
    compare,
    disagreeing,
    unchanged_checks,
)
from nnfs_ref.check.twin import enable_x64, value_and_grad_of, vjp_of

FD_ORACLE = "central finite differences (float64)"


def streams(seed):
    """``(dvalues_rng, directions_rng)`` for ``seed``: streams of their own, so that
    ``dvalues`` never equals inputs a user drew with ``default_rng(seed)``."""
    return (np.random.default_rng([seed, 0x6E6E6673, 0]),
            np.random.default_rng([seed, 0x6E6E6673, 1]))


class CannotCheck(Exception):
    """The object is fine to call but its gradients cannot be judged (one-line reason)."""


def guarded(title, oracle, notes, run):
    """``run()``'s report, or a report of verdict "error" (the user's code raised or lacks a
    method) or "cannot check", whose ``error`` is the one-line reason."""
    try:
        return run()
    except UserCodeError as exc:
        return CheckReport(title, [], oracle, notes, error=str(exc), verdict="error")
    except CannotCheck as exc:
        return CheckReport(title, [], oracle, notes, error=str(exc), verdict="cannot check")


def mean_loss(returned, role="forward"):
    """The mean of the sample losses a loss's ``forward`` returned, as a float."""
    try:
        return float(np.mean(np.asarray(returned, dtype=np.float64)))
    except (TypeError, ValueError):
        raise UserCodeError(f"your {role} returned a {type(returned).__name__}, not sample "
                            "losses") from None


def tolerances(fn, rtol, scale_tol):
    """Defaults: finite differences ``1e-7``; a JAX oracle ``RTOL``, ``SCALE_TOL``."""
    if fn is None:
        return (numeric.FD_RTOL if rtol is None else rtol,
                numeric.FD_SCALE_TOL if scale_tol is None else scale_tol)
    return (RTOL if rtol is None else rtol), (SCALE_TOL if scale_tol is None else scale_tol)


def as_float64(value, name):
    """A float64 copy of numeric array-like input, or a TypeError/ValueError naming it."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}") from None
    if array.ndim == 0 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(array)).sum())} "
                         "nan/inf entries")
    return array


def _check_mode(mode):
    if mode not in numeric.MODES:
        raise ValueError(f"mode must be one of {', '.join(numeric.MODES)}, got {mode!r}")


def numeric_finding(name, actual, f, x, *, mode, rtol, scale_tol, atol, rng, batch=None,
                    magnitude=None):
    """Check one hand-written gradient ``actual`` of scalar ``f`` at ``x``.

    ``magnitude``: the size of the objective's terms at ``x`` (``sum |dvalues *
    output|``), against which its measured noise tells a forward that computes in
    a lower precision. Returns ``(GradientCheck, Finding)``; ``actual`` None means
    backward never set it.
    """
    x = np.array(x, dtype=np.float64)
    if actual is None:
        return (GradientCheck(name, (), x.shape, float("nan"), float("nan"), None, False,
                              float("inf")),
                Finding(message=f"backward did not set {name}"))
    try:
        a = np.array(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return (GradientCheck(name, (), x.shape, float("nan"), float("nan"), None, False,
                              float("inf")),
                Finding(message=f"{name} is a {type(actual).__name__}, not a numeric array"))
    if a.shape != x.shape:
        check = compare(name, a, np.zeros(x.shape))
        return check, Finding(message=shape_message(name, a.shape, x.shape))
    if mode == "auto":
        mode = "entries" if x.size <= numeric.ENTRYWISE_LIMIT else "directions"
    f0 = f(x)
    noise = numeric.measure_noise(f, x, f0, rng, magnitude)
    note = ""
    if noise.lowered:  # the backward computes in that precision too: its rounding is allowed
        floor = 10 * noise.relative
        rtol, scale_tol = max(rtol, floor), max(scale_tol, floor)
        note = (f"forward computes in a lower precision than float64 (noise "
                f"{noise.relative:.1g} of its terms): steps fitted to it, rtol and scale_tol "
                f"{floor:.1g}")
    probe = Probe(name, a, f, x, f0, (rtol, scale_tol, atol), noise, rng, batch)
    if mode == "directions":
        check, finding = _directional_finding(probe)
    else:
        check, finding = _entry_finding(probe, None, "entries")
    finding.note = note
    return check, finding


class Probe:
    """One gradient under check: yours (``a``), the objective ``f`` at ``x`` (``f0``), the
    tolerance ``(rtol, scale_tol, atol)``, the measured noise, the directions' generator."""

    def __init__(self, name, a, f, x, f0, tolerance, noise, rng, batch):
        self.name, self.a, self.f, self.x, self.f0 = name, a, f, x, f0
        self.tolerance, self.noise, self.rng, self.batch = tolerance, noise, rng, batch

    def directions(self, count=numeric.DIRECTIONS, mask=None):
        return numeric.directional(self.f, self.x, self.a, self.rng, self.tolerance, self.noise,
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
        located = numeric.locate(probe.f, x, a, rng, probe.tolerance, probe.noise, mask,
                                 probe.f0)
        if located is None or not _entry_finding(probe, [located], "")[0].ok:
            break
        mask[located] = False
        excluded.append(located)
    mode = f"directions ({numeric.DIRECTIONS} random)"
    near = _sampled([tuple(int(i) for i in k) for k in np.argwhere(single)],
                    numeric.FALLBACK_LIMIT, rng)
    if near:
        mode += f" + {len(near)}{' sampled' if len(near) < single.sum() else ''} entries " \
                "near 0 one by one"
    if excluded:
        mode += f" + {len(excluded)} at kinks the directions crossed"
    if found.ok and not found.kink:
        singles = near + excluded
        if not singles:
            return _directional_check(probe.name, a, found), Finding(mode)
        check, finding = _entry_finding(probe, singles, mode)
        return (_directional_check(probe.name, a, found) if check.ok else check), finding
    if located is None and found.kink:  # a kink that halving could not isolate
        entries = _sampled(list(np.ndindex(x.shape)), numeric.FALLBACK_LIMIT, rng)
        label = ("entries (a direction crossed a kink)" if len(entries) == x.size else
                 f"{len(entries)} sampled entries of {x.size} (a direction crossed a kink)")
        return _entry_finding(probe, entries, label)
    entries = ([located] if located is not None else []) + numeric.sample_entries(a, rng)
    check, finding = _entry_finding(probe, list(dict.fromkeys(entries)), "")
    failed = _directional_check(probe.name, a, found)
    worst = int(np.argmax(np.abs(found.yours - found.expected) / found.allowed))
    message = finding.message or (
        f"along a random direction yours gives {found.yours[worst]:.6g} where the objective "
        f"changes at {found.expected[worst]:.6g}; the {len(entries)} entries sampled one by "
        "one agree: the error is spread thin over many entries")
    if located is not None:
        message = f"found by halving: {located}; " + message
    return (GradientCheck(probe.name, a.shape, x.shape, failed.max_abs, failed.max_rel,
                          check.worst_index, False, failed.ratio, check.actual_worst,
                          check.expected_worst),
            Finding(mode + ", then sampled entries", finding.kinks, message))


def _entry_finding(probe, entries, mode):
    """Per-entry differences of ``entries`` (None: all), then the kinks judged jointly."""
    a, x = probe.a, probe.x
    rtol, scale_tol, atol = probe.tolerance
    listed = list(np.ndindex(x.shape)) if entries is None else list(entries)
    index = tuple(np.array(listed).T)

    def target(central):
        known = np.abs(np.where(np.isnan(central), 0.0, central))
        return rtol * known + scale_tol * known[index].max() + atol

    estimate = numeric.entrywise(probe.f, x, listed, probe.noise, target, probe.f0)
    expected = estimate.expected_for(a)[index]
    allowance = atol + estimate.error[index]
    sub = compare(probe.name, a[index], expected, rtol, scale_tol, atol=allowance)
    worst = None if sub.worst_index is None else tuple(int(i) for i in listed[sub.worst_index[0]])
    check = GradientCheck(probe.name, a.shape, x.shape, sub.max_abs, sub.max_rel, worst, sub.ok,
                          sub.ratio, sub.actual_worst, sub.expected_worst)
    kinks = int(estimate.kink[index].sum())
    whole = entries is None  # in C order, so the arrays take their shape back
    if not sub.ok:
        bad = int(disagreeing(a[index], expected, rtol, scale_tol, atol=allowance).sum())
        pattern = diagnose(a if whole else a[index],
                           estimate.central if whole else estimate.central[index], bad,
                           probe.batch)
        return check, Finding(mode, kinks, pattern,
                              expected=estimate.expected_for(a) if whole else None,
                              bound=estimate.error if whole else None)
    joint = numeric.joint_kinks(probe.f, x, a, estimate, probe.noise, probe.rng,
                                probe.tolerance, probe.f0)
    if joint is None:
        return check, Finding(mode, kinks, expected=estimate.expected_for(a) if whole else None,
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
    return (GradientCheck(probe.name, a.shape, x.shape, abs(joint.yours - nearest), rel, None,
                          False, joint.ratio),
            Finding(mode, kinks, message))


def _directional_check(name, a, found):
    err = np.abs(found.yours - found.expected)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(err == 0, 0.0, err / np.abs(found.expected))
    nan = bool(np.isnan(a).any())
    return GradientCheck(name, a.shape, a.shape, float("nan") if nan else float(err.max()),
                         float("nan") if nan else float(rel.max()), None, found.ok, found.ratio)


class _Restored:
    """Float64 copies of an object's arrays during a check; the originals put back after."""

    def __init__(self, obj, slots):
        self.obj, self.slots = obj, slots
        self.originals = {slot: slot.get(obj) for slot in slots}
        self.float32 = [str(s) for s in slots if self.originals[s].dtype != np.float64]
        self.copies = {slot: np.array(self.originals[slot], dtype=np.float64) for slot in slots}
        for slot, copy in self.copies.items():
            slot.set(obj, copy)

    def put_back(self):
        for slot, value in self.originals.items():
            slot.set(self.obj, value)


def _same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


class Caller:
    """Calls a layer's forward as its contract says, with its randomness replayed."""

    def __init__(self, layer, randomness):
        self.layer = layer
        self.keywords = contract.forward_keywords(layer)
        self.randomness = randomness
        self.start = randomness.snapshot()

    def forward(self, x, replay=True):
        if replay:
            self.randomness.replay(self.start)
        returned = call(self.layer, "forward", x, **self.keywords)
        if not hasattr(self.layer, "output") and isinstance(returned, np.ndarray):
            return returned  # a forward that returns its output instead of setting it
        return output_of(self.layer)

    def pin(self, x):
        """Forward ``x`` twice; a random forward must be pinned by the replay, or CannotCheck.

        Returns the output and whether the forward is random.
        """
        first = self.forward(x)
        free = self.forward(x, replay=False)
        if _same(first, free):
            return first, False
        if not _same(first, self.forward(x)):
            raise CannotCheck(
                "forward is random: two forwards on the same input differ even with "
                f"{self.randomness.describe()} restored; hold its randomness in a "
                "np.random.Generator attribute or draw from np.random")
        return first, True

    def describe(self):
        args = ", ".join(["inputs"] + [f"{k}={v}" for k, v in self.keywords.items()])
        return f"forward({args})"


def output_of(obj):
    if not hasattr(obj, "output"):
        raise UserCodeError(f"your forward did not set {type(obj).__name__}.output")
    try:
        return np.asarray(obj.output, dtype=np.float64) if not isinstance(obj.output, np.ndarray) \
            else obj.output
    except (TypeError, ValueError):
        raise UserCodeError(f"your forward set output to a {type(obj.output).__name__}, "
                            "not an array") from None


def lower_precision(dtype, what, notes):
    """A forward that returns a float dtype below float64 is differenced at its precision
    (the noise measured tells the oracle), noted; a non-float result cannot be checked."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise CannotCheck(f"{what} returns {dtype} for float64 inputs: a piecewise-constant "
                          "result has no gradient to difference")
    if dtype != np.float64:
        notes.append(f"{what} returns {dtype} for float64 inputs (a cast inside?): "
                     f"differenced at {dtype}'s precision")


def precision_note(lifted):
    """The report's note when ``nnfs.init()``'s patches were lifted (names of the functions)."""
    return (f"nnfs.init()'s float32 patches of {', '.join(lifted)} lifted for the check "
            "(float64 throughout)")


def check_layer(layer: Any, inputs: ArrayLike, fn: Callable | None = None,
                rtol: float | None = None, atol: float = 0.0, scale_tol: float | None = None,
                seed: int = 0, params: Sequence[str] | str | None = None,
                penalty: Callable[[Any], float] | bool | None = None,
                mode: str = "auto") -> CheckReport:
    """Check ``layer.backward`` against finite differences of its forward, or a JAX twin.

    The layer is called as written: ``forward(inputs)``, or ``forward(inputs,
    training=True)`` when its forward takes ``training``. Its parameters are
    found, not assumed: every float array it holds before the forward for
    which ``backward`` sets ``d<name>`` (or ``d<dict>[key]``,
    ``grads[key]`` for a dict of arrays). A random forward (dropout) is
    replayed with the same random numbers each time. With the book's
    ``weight_regularizer_l1/l2``, ``bias_regularizer_l1/l2``, the parameters'
    gradients are checked against the data term plus the book's penalties.

    Parameters
    ----------
    layer : object with ``forward(inputs[, training])`` and ``backward(dvalues)``
        Its arrays are used as float64 copies during the check and put back after.
    inputs : array_like, shape (batch, n_in) (any shape the layer takes)
    fn : callable ``fn(params: dict, inputs) -> output``, optional
        A JAX function of the same maths; ``None`` for finite differences.
    rtol, atol, scale_tol : float, optional
        An entry agrees when ``|a - e| <= rtol |e| + scale_tol max|e| + atol``
        (finite differences: ``1e-7``, ``1e-7``, plus each entry's error bound;
        JAX: ``RTOL``, ``SCALE_TOL``).
    seed : int
        Seeds the random upstream gradient ``dvalues`` and the random directions.
    params : sequence of str, optional
        The parameters, e.g. ``["W", "b"]`` or ``["params[W]"]``; default: found.
    penalty : callable ``penalty(layer) -> float``, or False, optional
        A penalty added to the objective of the parameters' gradients (your
        regularizer, evaluated on the layer's current arrays). Default: the
        book's L1/L2 penalties when the layer has nonzero strengths; False: none.
    mode : {"auto", "entries", "directions"}
        Finite differences entry by entry, or along random directions (O(1)
        forward calls per array). "auto": directions above ``numeric.ENTRYWISE_LIMIT``
        (128) entries.

    Returns
    -------
    CheckReport
        Rows ``output`` (JAX only), ``dinputs``, ``d<param>`` per parameter,
        ``inputs unchanged``, ``dvalues unchanged``; ``.verdict`` is "ok",
        "fail", "error" (your code raised: ``.error`` names it) or
        "cannot check". Nothing is raised for a wrong or broken layer.
    """
    rtol, scale_tol = tolerances(fn, rtol, scale_tol)
    _check_mode(mode)
    x = as_float64(inputs, "inputs")
    if isinstance(params, str):
        params = [p for p in params.split(",") if p.strip()]
    oracle = FD_ORACLE if fn is None else "jax.vjp of fn (float64)"
    title = type(layer).__name__
    notes = []
    return guarded(title, oracle, notes, lambda: _check_layer(
        layer, x, fn, rtol, atol, scale_tol, seed, params, penalty, mode, title, oracle, notes))


def _explicit_slots(layer, params):
    slots = [contract.parse_slot(p) for p in params]
    for slot in slots:
        if not contract.is_float_array(slot.get(layer)):
            have = ", ".join(str(s) for s in contract.array_slots(layer)) or "none"
            raise ValueError(f"params: {type(layer).__name__} has no float array {slot} "
                             f"(its float arrays: {have})")
    return slots


def _check_layer(layer, x, fn, rtol, atol, scale_tol, seed, params, penalty, mode, title,
                 oracle, notes):
    if contract.required_arguments(layer, "backward") == 2:
        raise UserCodeError(f"{title}.backward takes (dvalues, y_true): a loss? "
                            "use check_loss (nnfs-ref check finds it by itself)")
    candidates = _explicit_slots(layer, params) if params is not None else \
        contract.array_slots(layer)
    restored = _Restored(layer, candidates)
    randomness = contract.Randomness([layer])
    try:
        with contract.float64_numpy() as lifted:
            caller = Caller(layer, randomness)
            if caller.keywords:
                notes.append(f"called as {caller.describe()}")
            if lifted:
                notes.append(precision_note(lifted))
            if restored.float32:
                notes.append(f"float32 arrays {', '.join(restored.float32)} checked as "
                             "float64 copies")
            given_x = x.copy()
            output, random = caller.pin(x)
            if random:
                notes.append(f"forward is random: {randomness.describe()} replayed before "
                             "every forward, so each uses the same draws")
            if not np.all(np.isfinite(output)):
                raise UserCodeError(f"your forward returned {int((~np.isfinite(output)).sum())}"
                                    " nan/inf entries for finite inputs")
            lower_precision(output.dtype, "forward", notes)
            # arrays that forward replaces are caches, not parameters
            slots = [s for s in candidates if params is not None
                     or s.get(layer) is restored.copies[s]]
            dvalues = streams(seed)[0].standard_normal(output.shape)
            gradient_slots = [g for s in slots for g in s.gradient_slots(layer)]
            before = contract.snapshot_values(layer, gradient_slots + [Slot("dinputs")])
            caller.forward(x)
            given_dvalues = dvalues.copy()
            call(layer, "backward", dvalues)
            untouched = unchanged_checks({"inputs": given_x, "dvalues": given_dvalues},
                                         {"inputs": x, "dvalues": dvalues})
            x, dvalues = given_x, given_dvalues
            dinputs = getattr(layer, "dinputs", None) \
                if contract.was_set(layer, Slot("dinputs"), before) else None
            found, unset, warnings = _parameters(layer, slots, before, params is not None)
            objective_penalty = _penalty(layer, penalty, notes)
            if fn is not None:
                checks, findings = _jax_rows(layer, fn, x, dvalues, dinputs, found, unset,
                                             rtol, scale_tol, atol)
            else:
                magnitude = float(np.sum(np.abs(dvalues * output)))
                checks, findings = _fd_rows(layer, caller, x, dvalues, dinputs, found, unset,
                                            objective_penalty, mode, rtol, scale_tol, atol,
                                            seed, magnitude)
    finally:
        randomness.restore()
        restored.put_back()
    if warnings:
        import warnings as python_warnings

        for w in warnings:
            python_warnings.warn(f"{title}: {w}", UserWarning, stacklevel=3)
    return CheckReport(title, checks + untouched, oracle, notes, warnings, findings)


def _parameters(layer, slots, before, explicit):
    """``(found, unset, warnings)``: (slot, gradient) pairs; slots backward left unset."""
    found, unset, warnings = [], [], []
    for slot in slots:
        where = [g for g in slot.gradient_slots(layer) if contract.was_set(layer, g, before)]
        if where:
            found.append((slot, where[0]))
        elif explicit or str(slot) in ("weights", "biases"):
            unset.append(slot)
        else:
            warnings.append(f"{slot} has no gradient: backward set no {slot.gradient_name}, so "
                            f"it is not checked (name it with params= if its gradient is "
                            "stored elsewhere, or params=[] if it is a constant)")
    return found, unset, warnings


def _penalty(layer, penalty, notes):
    """The penalty function of the parameters' objective (or None), noted."""
    if penalty is False:
        return None
    if penalty is not None:
        if not callable(penalty):
            raise TypeError(f"penalty must be callable as penalty(layer), got "
                            f"{type(penalty).__name__}")
        notes.append("parameters' objective: sum(dvalues * output) + penalty(layer)")

        def user_penalty(obj):
            try:
                return float(penalty(obj))
            except Exception as exc:
                raise UserCodeError(f"your penalty raised {contract.one_line(exc)}") from exc
        return user_penalty
    found = contract.book_regularizers(layer)
    if not found:
        return None
    notes.append("parameters' objective: sum(dvalues * output) + the book's penalties ("
                 + contract.describe_regularizers(found) + ")")
    return contract.book_penalty


def _fd_rows(layer, caller, x, dvalues, dinputs, found, unset, penalty, mode, rtol, scale_tol,
             atol, seed, magnitude):
    rng = streams(seed)[1]
    batch = x.shape[0] if x.ndim > 1 else None

    def objective(inputs_):
        return float(np.sum(dvalues * caller.forward(inputs_)))

    rows = [(None, "dinputs", dinputs, objective, x)]
    for slot, gradient in found:
        def objective_param(value, slot=slot):
            slot.set(layer, value)
            total = objective(x)
            return total + penalty(layer) if penalty else total

        rows.append((slot, str(gradient), gradient.get(layer), objective_param,
                     slot.get(layer)))
    checks, findings = [], {}
    strengths = contract.book_regularizers(layer) if penalty is contract.book_penalty else {}
    for slot, name, actual, f, at in rows:
        extra = abs(penalty(layer)) if penalty and slot is not None else 0.0
        check, finding = numeric_finding(name, actual, f, at, mode=mode, rtol=rtol,
                                         scale_tol=scale_tol, atol=atol, rng=rng, batch=batch,
                                         magnitude=magnitude + extra)
        if slot is not None:
            slot.set(layer, at)
            if not check.ok and finding.expected is not None and str(slot) in strengths:
                hint = penalty_hint(actual, finding.expected, at, *strengths[str(slot)])
                finding.message = hint or finding.message
        checks.append(check)
        findings[name] = finding
    for slot in unset:
        check, finding = numeric_finding(slot.gradient_name, None, None, slot.get(layer),
                                         mode=mode, rtol=rtol, scale_tol=scale_tol, atol=atol,
                                         rng=rng)
        checks.append(check)
        findings[slot.gradient_name] = finding
    return checks, findings


def _jax_rows(layer, fn, x, dvalues, dinputs, found, unset, rtol, scale_tol, atol):
    enable_x64()
    names = [(slot, gradient) for slot, gradient in found if slot.key is None]
    params = {slot.attr: np.asarray(slot.get(layer)) for slot, _ in names}
    params.update({slot.attr: np.asarray(slot.get(layer)) for slot in unset if slot.key is None})
    output, (dparams, expected_dinputs) = vjp_of(fn)(params, x, dvalues)
    checks = [compare("output", np.asarray(layer.output), output, rtol, scale_tol, atol=atol)]
    findings = {}
    missing = Finding(message="backward did not set dinputs")
    checks.append(compare("dinputs", np.zeros(0) if dinputs is None else dinputs,
                          expected_dinputs, rtol, scale_tol, atol=atol))
    if dinputs is None:
        findings["dinputs"] = missing
    for slot, gradient in names:
        checks.append(compare(slot.gradient_name, gradient.get(layer), dparams[slot.attr], rtol,
                              scale_tol, atol=atol))
    for slot in unset:
        checks.append(compare(slot.gradient_name, np.zeros(0), dparams[slot.attr]))
        findings[slot.gradient_name] = Finding(message=f"backward did not set "
                                               f"{slot.gradient_name}")
    return checks, findings


def check_loss(loss: Any, y_pred: ArrayLike, y_true: ArrayLike, fn: Callable | None = None,
               rtol: float | None = None, atol: float = 0.0, scale_tol: float | None = None,
               seed: int = 0, mode: str = "auto") -> CheckReport:
    """Check ``loss.backward(dvalues, y_true)`` against the gradient of the mean sample loss.

    The loss is called through ``forward(y_pred, y_true)``, whose sample losses
    are averaged (every chapter's loss has it), never through ``calculate``
    (the later chapters' accumulating one). ``backward`` is called with
    ``y_pred`` itself, or with ``.output`` when ``forward`` sets one of
    ``y_pred``'s shape: the fused softmax + cross-entropy takes logits and
    differentiates through its own softmax output.

    Parameters
    ----------
    loss : object with ``forward(y_pred, y_true)`` (sample losses, shape (batch,),
        or their mean) and ``backward(dvalues, y_true)`` setting ``.dinputs``
    y_pred : array_like, shape (batch, outputs)
    y_true : array_like
        Targets, passed through unchanged (labels, one-hot rows, values).
    fn : callable ``fn(y_pred, y_true) -> scalar``, optional
        A JAX function of the mean loss; ``None`` for finite differences.
    rtol, atol, scale_tol, seed, mode
        As for :func:`check_layer`.

    Returns
    -------
    CheckReport
        Rows ``loss`` (JAX only), ``dinputs``, ``y_pred unchanged``, ``y_true unchanged``.
    """
    rtol, scale_tol = tolerances(fn, rtol, scale_tol)
    _check_mode(mode)
    p = as_float64(y_pred, "y_pred")
    y = np.asarray(y_true)
    oracle = "central finite differences of mean(forward) (float64)" if fn is None \
        else "jax.grad of fn (float64)"
    title = type(loss).__name__
    notes = []
    return guarded(title, oracle, notes, lambda: _check_loss(
        loss, p, y, fn, rtol, atol, scale_tol, seed, mode, title, oracle, notes))


def _check_loss(loss, p, y, fn, rtol, atol, scale_tol, seed, mode, title, oracle, notes):
    for method in ("forward", "backward"):
        if not callable(getattr(loss, method, None)):
            raise UserCodeError(f"{title} has no method {method}(): a loss needs "
                                "forward(y_pred, y_true) and backward(dvalues, y_true)")
    randomness = contract.Randomness([loss])
    start = randomness.snapshot()
    try:
        with contract.float64_numpy() as lifted:
            if lifted:
                notes.append(precision_note(lifted))

            def loss_at(p_):
                randomness.replay(start)
                return mean_loss(call(loss, "forward", p_, y))

            given = {"y_pred": p.copy(), "y_true": y.copy()}
            sample = np.asarray(call(loss, "forward", p, y))
            if sample.dtype.kind == "f":
                lower_precision(sample.dtype, "forward", notes)
            value = loss_at(p)
            output = getattr(loss, "output", None)
            fused = (isinstance(output, np.ndarray) and output.shape == p.shape and p.ndim == 2
                     and not np.shares_memory(output, p))
            dvalues = np.array(output, copy=True) if fused else p
            if fused:
                notes.append("backward given forward's .output (a fused softmax + loss: "
                             "the gradient is with respect to forward's input)")
            before = contract.snapshot_values(loss, [Slot("dinputs")])
            call(loss, "backward", dvalues, y)
            untouched = unchanged_checks(given, {"y_pred": p, "y_true": y})
            p = given["y_pred"]
            actual = getattr(loss, "dinputs", None) \
                if contract.was_set(loss, Slot("dinputs"), before) else None
            if fn is not None:
                enable_x64()
                expected_value, expected = value_and_grad_of(fn)(p, y)
                checks = [compare("loss", value, expected_value, rtol, scale_tol, atol=atol),
                          compare("dinputs", np.zeros(0) if actual is None else actual,
                                  expected, rtol, scale_tol, atol=atol)]
                findings = {} if actual is not None else {
                    "dinputs": Finding(message="backward did not set dinputs")}
            else:
                check, finding = numeric_finding(
                    "dinputs", actual, loss_at, p, mode=mode, rtol=rtol, scale_tol=scale_tol,
                    atol=atol, rng=streams(seed)[1],
                    batch=p.shape[0] if p.ndim > 1 else None,
                    magnitude=float(np.mean(np.abs(np.asarray(sample, dtype=np.float64)))))
                checks, findings = [check], {"dinputs": finding}
    finally:
        randomness.restore()
    return CheckReport(title, checks + untouched, oracle, notes, findings=findings)


def assert_layer_gradients(layer: Any, inputs: ArrayLike, **kwargs: Any) -> CheckReport:
    """:func:`check_layer`, raising ``AssertionError`` with the report unless it is OK."""
    report = check_layer(layer, inputs, **kwargs)
    if not report.ok:
        raise AssertionError(f"{report.summary()}\n{report}")
    return report


def assert_loss_gradients(loss: Any, y_pred: ArrayLike, y_true: ArrayLike,
                          **kwargs: Any) -> CheckReport:
    """:func:`check_loss`, raising ``AssertionError`` with the report unless it is OK."""
    report = check_loss(loss, y_pred, y_true, **kwargs)
    if not report.ok:
        raise AssertionError(f"{report.summary()}\n{report}")
    return report
