"""``check_network``: my network does not learn; which layer's backward is wrong?"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnfs_ref.check import contract
from nnfs_ref.check.contract import Slot, UserCodeError, call
from nnfs_ref.check.judge import numeric_finding
from nnfs_ref.check.layer import Caller, read_gradients
from nnfs_ref.check.report import CheckReport, Hints
from nnfs_ref.check.session import (
    FD_ORACLE,
    Session,
    as_float64,
    lower_precision,
    mean_loss,
    streams,
)
from nnfs_ref.check.settings import Settings


def check_network(layers: Sequence[Any], loss: Any, X: ArrayLike, y: ArrayLike, *,
                  seed: int = 0, rtol: float | None = None, atol: float = 0.0,
                  scale_tol: float | None = None, mode: str = "auto",
                  notes: Sequence[str] = ()) -> CheckReport:
    """Run a full forward and backward pass, then check every gradient against the total loss.

    The total loss is ``mean(loss.forward(output, y))`` plus the book's L1/L2
    penalties of every layer that has them. Going back from the loss, each
    layer's ``dinputs`` is compared with the finite-difference gradient of the
    total loss with respect to that layer's input, and each parameter gradient
    with respect to that parameter. A wrong backward makes every layer before it
    wrong too, so the culprit is the first failing layer met going back from
    the loss: the report names it.

    Parameters
    ----------
    layers : sequence of objects with ``forward(inputs[, training])`` and ``backward(dvalues)``
        In forward order. Called as :func:`check_layer` calls one layer.
    loss : object with ``forward(y_pred, y_true)`` and ``backward(dvalues, y_true)``
        As for :func:`check_loss` (a fused softmax + loss is given its ``.output``).
    X : array_like, shape (batch, n_in)
    y : array_like
        Targets for the loss.
    seed, rtol, atol, scale_tol, mode, notes
        As for :func:`nnfs_ref.check.layer.check_layer`.

    Returns
    -------
    CheckReport
        Rows named ``loss.dinputs``, ``layers[k].dinputs``, ``layers[k].d<param>``
        in backward order; ``.culprit`` names the first wrong layer (or None).
    """
    settings = Settings.of(rtol=rtol, scale_tol=scale_tol, atol=atol, seed=seed, mode=mode)
    layers = list(layers)
    if not layers:
        raise ValueError("layers must hold at least one layer, got none")
    x = as_float64(X, "X")
    y = np.asarray(y)
    title = " -> ".join(type(obj).__name__ for obj in layers + [loss])
    session = Session(title, FD_ORACLE, settings, layers + [loss], notes)
    return session.run(lambda: _check_network(session, layers, loss, x, y))


class _Pass:
    """The network's forward pass from any layer on, each layer replaying its own draws."""

    def __init__(self, layers, loss, y, randomness):
        self.layers, self.loss, self.y = layers, loss, y
        self.randomness = randomness
        self.callers = [Caller(layer, randomness) for layer in layers]
        self.states = [None] * len(layers)

    def forward(self, a, start=0, record=False, replay=True):
        for k in range(start, len(self.layers)):
            if record:
                self.states[k] = self.randomness.snapshot()
            elif replay:
                self.randomness.replay(self.states[k])
            a = self.callers[k].forward(a, replay=False)
        return a

    def data_loss(self, output):
        return mean_loss(call(self.loss, "forward", output, self.y), "loss forward")


def _check_network(session, layers, loss, x, y):
    for obj in layers:
        for method in ("forward", "backward"):
            if not callable(getattr(obj, method, None)):
                raise UserCodeError(f"{type(obj).__name__} has no method {method}()")
    restored = [session.lift(layer, contract.array_slots(layer)) for layer in layers]
    notes = session.notes
    network = _Pass(layers, loss, y, session.randomness)
    output, random = session.pin(
        lambda replay: network.forward(x, replay=replay),
        "forward is random even with NumPy's global random state and the layers' generators "
        "replayed", network.forward(x, record=True))
    if random:
        notes.append("forward is random: each layer replays its own draws")
    lower_precision(output.dtype, "the network's forward", notes)
    if any(network.callers[k].keywords for k in range(len(layers))):
        notes.append("forward(inputs, training=True) where a layer takes training")
    penalties = {k: contract.book_regularizers(layer) for k, layer in enumerate(layers)}
    penalties = {k: v for k, v in penalties.items() if v}
    if penalties:
        notes.append("total loss: mean sample loss + the book's penalties (" + "; ".join(
            f"layers[{k}] {contract.describe_regularizers(v)}"
            for k, v in penalties.items()) + ")")
    checks, findings, owners, warnings = _backward_and_compare(
        network, restored, x, penalties, session.settings, notes)
    session.warnings += warnings
    session.owners = owners
    return checks, findings


def _backward_and_compare(network, restored, x, penalties, settings, notes):
    layers, loss = network.layers, network.loss
    inputs = [None] * len(layers)
    a = x
    for k in range(len(layers)):
        inputs[k] = np.array(a, copy=True)
        network.randomness.replay(network.states[k])
        a = network.callers[k].forward(a, replay=False)
    output = np.array(a, copy=True)
    network.data_loss(output)
    loss_output = getattr(loss, "output", None)
    fused = isinstance(loss_output, np.ndarray) and loss_output.shape == output.shape
    before = contract.snapshot_values(loss, [Slot("dinputs")])
    call(loss, "backward", np.array(loss_output if fused else output, copy=True), network.y)
    rng = streams(settings.seed)[1]
    batch = x.shape[0] if x.ndim > 1 else None
    checks, findings, owners, warnings = [], {}, [], []

    def add(owner, name, actual, f, at, about="inputs", obj=None):
        hints = Hints(batch, about, contract.numbers(obj) if obj is not None else (),
                      parameter=about != "inputs")
        check, finding = numeric_finding(name, actual, f, at, settings, rng, hints)
        checks.append(check)
        findings[name] = finding
        owners.append(owner)
        return check.ok

    upstream = getattr(loss, "dinputs", None) if contract.was_set(
        loss, Slot("dinputs"), before) else None
    add(f"loss ({type(loss).__name__})", "loss.dinputs", upstream, network.data_loss, output)
    for k in reversed(range(len(layers))):
        layer = layers[k]
        owner = f"layers[{k}] ({type(layer).__name__})"
        if upstream is None:
            warnings.append(f"{owner} and the layers before it were not checked: no gradient "
                            "reached them")
            break
        slots = [s for s in restored[k].slots if restored[k].kept(s)]
        gradient_slots = [g for s in slots for g in s.gradient_slots(layer)]
        before = contract.snapshot_values(layer, gradient_slots
                                          + contract.attribute_slots(layer))
        returned = call(layer, "backward", np.array(upstream, copy=True))
        read = read_gradients(layer, slots, before, returned, False, inputs[k].shape)
        found, unset, dinputs = read.found, read.unset, read.dinputs
        warnings += [f"{owner}: {w}" for w in read.warnings]
        if read.renamed:
            notes.append(f"{owner}: {read.renamed}")

        def rest(a_, k=k):
            return network.data_loss(network.forward(a_, start=k))

        add(owner, f"layers[{k}].dinputs", dinputs, rest, inputs[k], obj=layer)
        for slot, name, gradient in found + [(s, s.gradient_name, None) for s in unset]:
            original = slot.get(layer)

            def total(value, slot=slot, k=k, layer=layer):
                slot.set(layer, value)
                extra = contract.book_penalty(layer) if k in penalties else 0.0
                return rest(inputs[k]) + extra

            add(owner, f"layers[{k}].{name}", gradient, total, original, str(slot), layer)
            slot.set(layer, original)
        upstream = dinputs
    return checks, findings, owners, warnings
