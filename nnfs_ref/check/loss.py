"""``check_loss``: is a loss's hand-written backward pass right?"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnfs_ref.check import adapters, contract
from nnfs_ref.check.contract import Slot, UserCodeError, call
from nnfs_ref.check.judge import numeric_finding
from nnfs_ref.check.report import CheckReport, Hints, assert_ok
from nnfs_ref.check.session import Session, as_float64, lower_precision, mean_loss, streams
from nnfs_ref.check.settings import Settings

FD_LOSS_ORACLE = "central finite differences of mean(forward) (float64)"
TWIN_LOSS_ORACLE = "jax.grad of fn (float64)"


def check_loss(loss: Any, y_pred: ArrayLike, y_true: ArrayLike, *, fn: Callable | None = None,
               rtol: float | None = None, atol: float = 0.0, scale_tol: float | None = None,
               seed: int = 0, mode: str = "auto", notes: Sequence[str] = ()) -> CheckReport:
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
    rtol, atol, scale_tol, seed, mode, notes
        As for :func:`nnfs_ref.check.layer.check_layer`.

    Returns
    -------
    CheckReport
        Rows ``loss`` (JAX only), ``dinputs`` (shape of ``y_pred``), ``y_pred
        unchanged``, ``y_true unchanged``.
    """
    settings = Settings.of(fn is not None, rtol=rtol, scale_tol=scale_tol, atol=atol,
                           seed=seed, mode=mode)
    p = as_float64(y_pred, "y_pred")
    y = np.asarray(y_true)
    oracle = FD_LOSS_ORACLE if fn is None else TWIN_LOSS_ORACLE
    session = Session(type(loss).__name__, oracle, settings, [loss], notes)
    loss, adapted = adapters.as_loss(loss)
    if adapted:
        session.notes.append(adapted)
    return session.run(lambda: _check_loss(session, loss, p, y, fn))


def _check_loss(session, loss, p, y, fn):
    for method in ("forward", "backward"):
        try:
            contract.method_name(loss, method)
        except UserCodeError as exc:
            raise UserCodeError(f"{exc}: a loss needs forward(y_pred, y_true) and "
                                "backward(dvalues, y_true), or loss() and grad()") from None
    start = session.randomness.snapshot()

    def loss_at(p_):
        session.randomness.replay(start)
        return mean_loss(call(loss, "forward", p_, y))

    handed = p
    p, _ = session.hand(to="loss", y_pred=handed, y_true=y)
    sample = np.asarray(call(loss, "forward", handed, y))
    if sample.dtype.kind == "f":
        lower_precision(sample.dtype, "forward", session.notes)
    value = loss_at(handed)
    output = getattr(loss, "output", None)
    fused = (isinstance(output, np.ndarray) and output.shape == p.shape and p.ndim == 2
             and not np.shares_memory(output, handed))
    dvalues = np.array(output, copy=True) if fused else handed
    if fused:
        session.notes.append("backward given forward's .output (a fused softmax + loss: "
                             "the gradient is with respect to forward's input)")
    before = contract.snapshot_values(loss, [Slot("dinputs")])
    call(loss, "backward", dvalues, y)
    actual = getattr(loss, "dinputs", None) \
        if contract.was_set(loss, Slot("dinputs"), before) else None
    if fn is not None:
        from nnfs_ref.check.twin import enable_x64, twin_rows, value_and_grad_of

        enable_x64()
        expected_value, expected = value_and_grad_of(fn)(p, y)
        return twin_rows({"loss": value, "dinputs": actual},
                         {"loss": expected_value, "dinputs": expected}, session.settings)
    check, finding = numeric_finding(
        "dinputs", actual, loss_at, p, session.settings, streams(session.settings.seed)[1],
        Hints(p.shape[0] if p.ndim > 1 else None, "y_pred", contract.numbers(loss)),
        float(np.mean(np.abs(np.asarray(sample, dtype=np.float64)))))
    return [check], {"dinputs": finding}


def assert_loss_gradients(loss: Any, y_pred: ArrayLike, y_true: ArrayLike,
                          **kwargs: Any) -> CheckReport:
    """:func:`check_loss`, raising ``AssertionError`` with the report unless it is OK."""
    return assert_ok(check_loss(loss, y_pred, y_true, **kwargs))
