"""``check_layer``: is a layer's hand-written backward pass right?

The layer is called as the book's chapters write it (see
:mod:`nnfs_ref.check.contract`), in float64, with its randomness pinned, and
every array it holds whose gradient ``backward`` sets is checked.
"""

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnfs_ref.check import adapters, contract
from nnfs_ref.check.contract import Slot, UserCodeError, call
from nnfs_ref.check.judge import numeric_finding
from nnfs_ref.check.report import CheckReport, Hints, assert_ok, penalty_hint
from nnfs_ref.check.session import (
    FD_ORACLE,
    Session,
    as_float64,
    lower_precision,
    same,
    streams,
)
from nnfs_ref.check.settings import Settings

TWIN_ORACLE = "jax.vjp of fn (float64)"


class Caller:
    """Calls a layer's forward as its contract says, with its randomness replayed."""

    def __init__(self, layer, randomness):
        self.layer = layer
        self.name = contract.method_name(layer, "forward")
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

    def describe(self):
        args = ", ".join(["inputs"] + [f"{k}={v}" for k, v in self.keywords.items()])
        return f"{self.name}({args})"


def output_of(obj):
    if not hasattr(obj, "output"):
        raise UserCodeError(f"your forward did not set {type(obj).__name__}.output")
    try:
        return np.asarray(obj.output, dtype=np.float64) if not isinstance(obj.output, np.ndarray) \
            else obj.output
    except (TypeError, ValueError):
        raise UserCodeError(f"your forward set output to a {type(obj.output).__name__}, "
                            "not an array") from None


def check_layer(layer: Any, inputs: ArrayLike, *, fn: Callable | None = None,
                rtol: float | None = None, atol: float = 0.0, scale_tol: float | None = None,
                seed: int = 0, params: Sequence[str] | str | None = None,
                penalty: Callable[[Any], float] | bool | None = None,
                mode: str = "auto", notes: Sequence[str] = ()) -> CheckReport:
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
        JAX: ``1e-9``, ``1e-12``). See :class:`nnfs_ref.check.settings.Settings`.
    seed : int
        Seeds the random upstream gradient ``dvalues`` (shape of the output) and the
        random directions.
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
    notes : sequence of str
        Your own first notes for the report (how the inputs were made).

    Returns
    -------
    CheckReport
        Rows ``output`` (JAX only), ``dinputs`` (inputs' shape), ``d<param>`` per
        parameter (its shape), ``inputs unchanged``, ``dvalues unchanged``;
        ``.verdict`` is "ok", "fail", "error" (your code raised: ``.error`` names
        it) or "cannot check". Nothing is raised for a wrong or broken layer.
    """
    settings = Settings.of(fn is not None, rtol=rtol, scale_tol=scale_tol, atol=atol,
                           seed=seed, mode=mode)
    x = _inputs(inputs)
    params = contract.parse_params(params)
    session = Session(type(layer).__name__, FD_ORACLE if fn is None else TWIN_ORACLE,
                      settings, [layer], notes)
    layer, adapted = adapters.as_layer(layer)
    if adapted:
        session.notes.append(adapted)
    return session.run(lambda: _check_layer(session, layer, x, fn, params, penalty))


def _inputs(inputs):
    """The inputs as float64, or as given when they are integers or booleans (word indices,
    a mask): those are passed as they are and not differentiated."""
    given = np.asarray(inputs) if isinstance(inputs, (np.ndarray, list, tuple)) else None
    if given is not None and given.dtype.kind in "iub" and given.size and given.ndim:
        return given.copy()
    return as_float64(inputs, "inputs")


def _differentiable(x):
    return x.dtype.kind == "f"


def _explicit_slots(layer, params):
    slots = [contract.parse_slot(p) for p in params]
    for slot in slots:
        if not contract.is_float_array(slot.get(layer)):
            have = ", ".join(str(s) for s in contract.array_slots(layer)) or "none"
            raise ValueError(f"params: {type(layer).__name__} has no float array {slot} "
                             f"(its float arrays: {have})")
    return slots


def _check_layer(session, layer, x, fn, params, penalty):
    title = session.title
    if adapters.is_loss(layer):
        raise UserCodeError(f"{title}.backward takes (dvalues, y_true), and a layer's takes "
                            "dvalues alone: a loss is checked by check_loss (nnfs-ref check "
                            "--kind loss)")
    candidates = _explicit_slots(layer, params) if params is not None else \
        contract.array_slots(layer)
    caller = Caller(layer, session.randomness)
    backward = contract.method_name(layer, "backward")
    if caller.keywords or caller.name != "forward" or backward != "backward":
        session.note_first(f"called as {caller.describe()}"
                           + (f" and {backward}(dvalues)" if backward != "backward" else ""))
    restored = session.lift(layer, candidates)
    handed = x
    x, = session.hand(inputs=handed, to=caller.name)  # the checks differentiate a copy
    first = caller.forward(handed)
    if not same(handed, x):  # every expected value would be of other inputs: stop here
        session.notes.append(f"the gradients were not checked: your {caller.name} wrote into "
                             "its inputs")
        return [], {}
    output, random = session.pin(
        lambda replay: caller.forward(handed, replay),
        "forward is random: two forwards on the same input differ even with "
        f"{session.randomness.describe()} restored; hold its randomness in a "
        "np.random.Generator attribute or draw from np.random", first)
    if random:
        session.notes.append(f"forward is random: {session.randomness.describe()} replayed "
                             "before every forward, so each uses the same draws")
    if not np.all(np.isfinite(output)):
        raise UserCodeError(f"your forward returned {int((~np.isfinite(output)).sum())}"
                            " nan/inf entries for finite inputs")
    lower_precision(output.dtype, "forward", session.notes)
    if not _differentiable(x):
        session.notes.append(f"{x.dtype} inputs: passed as they are and not differentiated "
                             "(no dinputs row)")
    # arrays that forward replaces are caches, not parameters
    slots = [s for s in candidates if params is not None or restored.kept(s)]
    created = [] if params is not None else _created(layer, candidates, handed)
    first = {slot: slot.get(layer) for slot in created}
    dvalues = streams(session.settings.seed)[0].standard_normal(output.shape)
    caller.forward(handed)
    created = [slot for slot in created if slot.get(layer) is first[slot]]  # not caches
    if created:
        session.lift(layer, created)
        slots += created
        session.notes.append("parameters created by the first forward: "
                             + ", ".join(map(str, created)))
    gradient_slots = [g for s in slots for g in s.gradient_slots(layer)]
    before = contract.snapshot_values(layer, gradient_slots + contract.attribute_slots(layer))
    handed = dvalues
    dvalues, = session.hand(dvalues=handed, to=backward)
    rate = contract.learning_rate_name(layer)
    if rate is not None:
        read = _stepped(layer, slots, before, handed, rate, x.shape, params is not None)
    else:
        optimizers = adapters.Recorder.install(layer)
        try:
            returned = call(layer, "backward", handed)
        finally:
            adapters.Recorder.uninstall(layer, optimizers)
        read = read_gradients(layer, slots, before, returned, params is not None, x.shape,
                              optimizers)
    for w in read.warnings:
        session.warn(w)
    if read.renamed:
        session.notes.append(read.renamed)
    objective_penalty = _penalty(layer, penalty, session)
    if fn is not None:
        return _twin_rows(session, layer, fn, x, dvalues, output, read)
    magnitude = float(np.sum(np.abs(dvalues * output)))
    return _fd_rows(session, layer, caller, x, dvalues, read, objective_penalty, magnitude)


def _created(layer, before, inputs):
    """Float arrays the first forward created that are not caches of the inputs: created
    parameters (``if self.W is None: self.W = ...``). Each must be the same object after
    the next forward (a cache is made again), which the caller checks."""
    known = set(before)
    return [s for s in contract.array_slots(layer) if s not in known and s.key is None
            and not np.shares_memory(s.get(layer), inputs)]


@dataclasses.dataclass
class Gradients:
    """What ``backward`` gave: ``dinputs`` (named ``inputs_name``), the ``(slot, name,
    gradient)`` of each parameter whose gradient was found, the slots left unset, the
    warnings, and a note when a name or a returned value was read (``renamed``)."""

    dinputs: object
    inputs_name: str
    found: list
    unset: list
    warnings: list
    renamed: str = ""


#: The learning rate a stepping backward is given to recover its gradients: a power of two
#: (the division is exact), large, so that ``(p - p_after) / rate`` keeps the gradient's
#: digits where ``|p|`` is far above it.
STEP_RATE = 2.0 ** 20


def _stepped(layer, slots, before, dvalues, rate, inputs_shape, explicit):
    """The gradients of a ``backward(grad, learning_rate)`` that updates the parameters
    itself: ``dinputs`` from a call with rate 0 (the parameters unchanged, as the
    input gradient must see them), each parameter's gradient as its change over a call
    with :data:`STEP_RATE`; every array the layer held is put back after each call."""
    saved = {slot: np.array(slot.get(layer), copy=True)
             for slot in contract.attribute_slots(layer) + list(slots)}

    def put_back():
        for slot, value in saved.items():
            slot.set(layer, value.copy())

    returned = call(layer, "backward", dvalues, **{rate: 0.0})
    read = read_gradients(layer, [], before, returned, explicit, inputs_shape)
    dinputs = None if read.dinputs is None else np.array(read.dinputs, copy=True)
    put_back()
    call(layer, "backward", dvalues, **{rate: STEP_RATE})
    found, unset, warnings = [], [], list(read.warnings)
    for slot in slots:
        after = np.asarray(slot.get(layer), dtype=np.float64)
        if after.shape == saved[slot].shape and np.any(after != saved[slot]):
            found.append((slot, slot.gradient_name, (saved[slot] - after) / STEP_RATE))
        elif explicit or contract.array_key(slot.attr) in ("weight", "bias"):
            unset.append(slot)
        else:
            warnings.append(f"{slot} has no gradient: backward({rate}=...) did not change it, "
                            "so it is not checked")
    put_back()
    note = (f"gradients recovered from backward(dvalues, {rate}={STEP_RATE:g}) as the change of "
            f"the parameters (put back after); dinputs from {rate}=0"
            + (f" ({read.renamed})" if read.renamed else ""))
    return Gradients(dinputs, read.inputs_name, found, unset, warnings, note)


def read_gradients(layer, slots, before, returned, explicit, inputs_shape, optimizers=None):
    """The gradients ``backward`` set (or returned), by the book's names or the wild's
    (``d_weights``, ``dWeights``, ``dweight``, ``grad_W``, ``dx``...), returned as
    ``(dinputs, [gradients of a params list, in order])``, or handed to an optimizer
    object's ``update(param, grad)`` (``optimizers``: the recorders that stood in)."""
    written = [n for n in contract.written_arrays(layer, before)
               if n not in {s.attr for s in slots}]
    name = contract.gradient_among(layer, written, "input", inputs_shape, "dinputs")
    renamed = []
    listed = {}  # a params list's gradients, returned after dinputs
    if isinstance(returned, tuple) and len(returned) == 2 \
            and isinstance(returned[1], (list, tuple)):
        owners = {s.attr for s in slots if isinstance(s.key, int)}
        if len(owners) == 1 and len(returned[1]) == sum(isinstance(s.key, int) for s in slots):
            listed = {s: returned[1][s.key] for s in slots if isinstance(s.key, int)}
            returned = returned[0]
            renamed.append(f"backward returned (dinputs, [gradients of {owners.pop()}, in "
                           "order])")
    if name is not None:
        dinputs = getattr(layer, name)
        if name != "dinputs":
            renamed.append(f"dinputs read from {name}")
    elif isinstance(returned, np.ndarray) and returned.dtype.kind == "f":
        dinputs, name = returned, "dinputs"
        renamed.append("backward returned dinputs")
    else:
        dinputs, name = None, "dinputs"
    found, unset, warnings = [], [], []
    accumulates = contract.accumulates(layer)
    for slot in slots:
        where = [g for g in slot.gradient_slots(layer) if contract.was_set(layer, g, before)]
        if not where and slot in listed:
            found.append((slot, slot.gradient_name, listed[slot]))
            continue
        recorded = None if optimizers is None or where else \
            adapters.Recorder.gradient_of(optimizers, slot.get(layer))
        if recorded is not None:
            found.append((slot, slot.gradient_name, recorded))
            renamed.append(f"{slot.gradient_name} read from the optimizer's update("
                           f"{slot}, grad), which changed nothing")
            continue
        if not where and slot.key is None:
            other = contract.gradient_among(layer, [n for n in written if n != name],
                                            contract.array_key(slot.attr),
                                            np.shape(slot.get(layer)), slot.gradient_name)
            if other is not None:
                where = [Slot(other)]
                renamed.append(f"{slot.gradient_name} read from {other}")
        if where:
            value = where[0].get(layer)
            old, old_copy = before.get(where[0], (None, None))
            if accumulates and old is value and old_copy is not None:  # += into the same array
                value = np.asarray(value, dtype=np.float64) - old_copy
                renamed.append(f"{where[0]} accumulates (+=, reset by {accumulates}()): read "
                               "as its change over one backward")
            found.append((slot, str(where[0]), value))
        elif explicit or contract.array_key(slot.attr) in ("weight", "bias"):
            unset.append(slot)
        else:
            warnings.append(f"{slot} has no gradient: backward set no {slot.gradient_name}, so "
                            f"it is not checked (name it with params= if its gradient is "
                            "stored elsewhere, or params=[] if it is a constant)")
    unmatched = [n for n in written if n != name and all(g != n for _, g, _ in found)]
    if unset and unmatched:
        warnings.append(f"backward set {', '.join(unmatched)}, which the checker could not "
                        "match to a parameter (name them with params=)")
    return Gradients(dinputs, name, found, unset, warnings,
                     "; ".join(renamed) if renamed else "")


def _penalty(layer, penalty, session):
    """The penalty function of the parameters' objective (or None), noted; a number whose
    name suggests a penalty the checker does not read is a warning."""
    if penalty is False:
        return None
    if penalty is not None:
        if not callable(penalty):
            raise TypeError(f"penalty must be callable as penalty(layer), got "
                            f"{type(penalty).__name__}")
        session.notes.append("parameters' objective: sum(dvalues * output) + penalty(layer)")

        def user_penalty(obj):
            try:
                return float(penalty(obj))
            except Exception as exc:
                raise UserCodeError(f"your penalty raised {contract.one_line(exc)}") from exc
        return user_penalty
    for name, value in contract.unread_strengths(layer):
        session.warn(f"{name} = {value:g} looks like a penalty strength, but is not one the "
                     "checker reads (weight_regularizer_l1/l2, bias_regularizer_l1/l2 and their "
                     "spellings): if backward adds its gradient, give penalty=")
    found = contract.book_regularizers(layer)
    if not found:
        return None
    names = contract.strength_names(layer)
    session.notes.append("parameters' objective: sum(dvalues * output) + the book's penalties ("
                         + contract.describe_regularizers(found) + ")"
                         + (f", strengths read from {', '.join(names)}" if names else ""))
    return contract.book_penalty


def _fd_rows(session, layer, caller, x, dvalues, read, penalty, magnitude):
    rng = streams(session.settings.seed)[1]
    batch = x.shape[0] if x.ndim > 1 else None

    def objective(inputs_):
        return float(np.sum(dvalues * caller.forward(inputs_)))

    rows = [(None, read.inputs_name, read.dinputs, objective, x)] if _differentiable(x) else []
    for slot, name, gradient in read.found:
        def objective_param(value, slot=slot):
            slot.set(layer, value)
            total = objective(x)
            return total + penalty(layer) if penalty else total

        rows.append((slot, name, gradient, objective_param, slot.get(layer)))
    checks, findings = [], {}
    strengths = contract.book_regularizers(layer) if penalty is contract.book_penalty else {}
    for slot, name, actual, f, at in rows:
        extra = abs(penalty(layer)) if penalty and slot is not None else 0.0
        hints = Hints(batch, "inputs" if slot is None else str(slot), contract.numbers(layer),
                      parameter=slot is not None)
        check, finding = numeric_finding(name, actual, f, at, session.settings, rng, hints,
                                         magnitude + extra)
        if slot is not None:
            slot.set(layer, at)
            if not check.ok and finding.expected is not None and str(slot) in strengths:
                hint = penalty_hint(actual, finding.expected, at, *strengths[str(slot)])
                finding = dataclasses.replace(finding, message=hint or finding.message)
        checks.append(check)
        findings[name] = finding
    for slot in read.unset:
        check, finding = numeric_finding(slot.gradient_name, None, None, slot.get(layer),
                                         session.settings, rng)
        checks.append(check)
        findings[slot.gradient_name] = finding
    return checks, findings


def _twin_rows(session, layer, fn, x, dvalues, output, read):
    from nnfs_ref.check.twin import enable_x64, twin_rows, vjp_of

    enable_x64()
    named = [(slot, name, gradient) for slot, name, gradient in read.found if slot.key is None]
    params = {slot.attr: np.asarray(slot.get(layer)) for slot, _, _ in named}
    params.update({slot.attr: np.asarray(slot.get(layer)) for slot in read.unset
                   if slot.key is None})
    expected_output, (dparams, expected_dinputs) = vjp_of(fn)(params, x, dvalues)
    actual = {"output": output, read.inputs_name: read.dinputs}
    expected = {"output": expected_output, read.inputs_name: expected_dinputs}
    if not _differentiable(x):
        del actual[read.inputs_name], expected[read.inputs_name]
    for slot, name, gradient in named:
        actual[name] = gradient
        expected[name] = dparams[slot.attr]
    for slot in read.unset:
        actual[slot.gradient_name] = None
        expected[slot.gradient_name] = dparams[slot.attr]
    return twin_rows(actual, expected, session.settings)


def assert_layer_gradients(layer: Any, inputs: ArrayLike, **kwargs: Any) -> CheckReport:
    """:func:`check_layer`, raising ``AssertionError`` with the report unless it is OK."""
    return assert_ok(check_layer(layer, inputs, **kwargs))


