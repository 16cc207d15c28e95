"""Search, not one draw: Hypothesis looks for a shape and values where a backward is wrong.

One random case can miss a bug that shows only for a batch of 1, a square
weight matrix (where a missing transpose still fits), an exact zero or a large
input. :func:`search` draws those (sizes first: 1 to 6, or wide ones of 16
and 33, equal sizes often; then arrays that fit them, with zeros and
magnitudes up to 100), runs :func:`check_layer` or :func:`check_loss`
on each, lets Hypothesis shrink a failure to the smallest failing case, and
prints that case as a snippet that can be pasted and run.
:func:`gradient_property` puts the same search into a pytest suite.
"""

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnfs_ref.check import data
from nnfs_ref.check.layer import check_layer
from nnfs_ref.check.loss import check_loss

#: Sizes drawn: mostly small (Hypothesis shrinks toward 1), sometimes wide.
SMALL, WIDE = 6, (16, 33)
#: Largest magnitude of a drawn value.
MAX_MAGNITUDE = 100.0
#: The kinds of a loss's predictions and targets (``data=``, and ``nnfs-ref check``'s options).
PREDICTIONS, TARGETS = data.PREDICTIONS, data.TARGETS


@dataclasses.dataclass
class SearchResult:
    """What a search found: ``report`` and ``snippet`` of the smallest failing case, or None."""

    examples: int
    report: object = None
    snippet: str = ""
    #: The shrinking budget, when it ran out before Hypothesis finished (None otherwise).
    stopped: object = None

    @property
    def exit_code(self):
        return 0 if self.report is None else self.report.exit_code

    @property
    def text(self):
        if self.report is None:
            return (f"OK: no failing case in {self.examples} searched shapes and values "
                    "(batch 1, equal sizes, wide and narrow, zeros, magnitudes up to 100).")
        how = ("shrunk by Hypothesis" if self.stopped is None else
               f"shrinking stopped after {self.stopped:g} s: the smallest found by then")
        return "\n".join([f"Smallest failing case after {self.examples} searched ({how}):",
                          str(self.report), "", "Run it yourself:", self.snippet])


def _size(draw, least=1):
    from hypothesis import strategies as st

    return draw(st.one_of(st.integers(least, SMALL), st.sampled_from(WIDE)))


def _values(draw, shape):
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    element = st.one_of(st.just(0.0), st.floats(-1.0, 1.0), st.floats(-10.0, 10.0),
                        st.sampled_from([-MAX_MAGNITUDE, MAX_MAGNITUDE]))
    return draw(arrays(np.float64, shape, elements=element))


#: Constructor parameters taken for sizes (``n_inputs``, ``n_neurons``, ``units``, ``n``...).
SIZE_WORDS = ("n", "size", "units", "neurons", "inputs", "outputs", "features", "dim", "width")


def _required(cls):
    """The names of the constructor's required positional parameters."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values() if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _is_size(name):
    return any(word == name or word in name.split("_") for word in SIZE_WORDS)


def _layer_case(cls, args, kwargs, params):
    """A strategy of ``(constructor args, arrays by slot, inputs, seed)``."""
    from hypothesis import strategies as st

    from nnfs_ref.check.contract import array_slots, parse_slot

    fixed = bool(args or kwargs)
    required = _required(cls)
    if not fixed and (len(required) > 2 or not all(map(_is_size, required))):
        raise ValueError(f"{cls.__name__}({', '.join(required)}): give the constructor's "
                         "arguments (args=, --args) to search; only sizes such as n_inputs, "
                         "n_neurons are drawn")

    @st.composite
    def case(draw):
        batch = _size(draw)
        width = _size(draw)
        outputs = draw(st.one_of(st.just(width), st.just(batch), st.integers(1, SMALL),
                                 st.sampled_from(WIDE)))
        made = list(args) if fixed else [width, outputs][:len(required)]
        layer = cls(*made, **kwargs)
        slots = [parse_slot(p) for p in params] if params else array_slots(layer)
        matrices = [s.get(layer) for s in slots if s.get(layer).ndim == 2]
        if fixed and matrices:
            width = matrices[0].shape[0]
        arrays = {str(s): _values(draw, s.get(layer).shape) for s in slots}
        inputs = _values(draw, (batch, width))
        return made, arrays, inputs, draw(st.integers(0, 2**16))
    return case()


def _loss_case(kinds):
    from hypothesis import strategies as st

    predictions, targets = kinds

    @st.composite
    def case(draw):
        batch = _size(draw)
        outputs = _size(draw, 2 if targets in ("labels", "onehot") else 1)
        labels = np.array(draw(st.lists(st.integers(0, outputs - 1), min_size=batch,
                                        max_size=batch)))
        bits = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=batch * outputs,
                                      max_size=batch * outputs))).reshape(batch, outputs)
        y_pred = data.predictions_of(predictions, _values(draw, (batch, outputs)))
        raw = _values(draw, (batch, outputs)) if targets == "values" else None
        y_true = data.targets_of(targets, labels, bits, raw)
        return y_pred, y_true, draw(st.integers(0, 2**16))
    return case()


#: Seconds Hypothesis may spend shrinking a failure, by default; then the smallest failing
#: case found so far is reported.
SHRINK_SECONDS = 20.0


def search(cls: type, args: Sequence[Any] = (), kwargs: dict | None = None, *,
           loss: bool = False, examples: int = 100, params: Sequence[str] | None = None,
           seed: int = 0, target: str | None = None, data: tuple[str, str] | None = None,
           shrink_seconds: float = SHRINK_SECONDS) -> SearchResult:
    """Search ``examples`` drawn cases of ``cls`` for one whose gradients fail.

    Parameters
    ----------
    cls : a layer or loss class
    args, kwargs : constructor arguments. Left empty, a layer class taking one or
        two arguments is built as ``cls(width)`` or ``cls(width, outputs)`` with
        drawn sizes (``Layer_Dense(n_inputs, n_neurons)``).
    loss : bool
        Check a loss (``data = (predictions, targets)`` kinds, default
        probabilities and labels) instead of a layer.
    examples : int
        Cases drawn (Hypothesis's ``max_examples``).
    params : list of str, optional
        As for :func:`check_layer`.
    seed : int
        Seeds Hypothesis: the same seed searches the same cases.
    target : str, optional
        ``module:Class`` or ``file.py:Class``, for the snippet's import line.
    shrink_seconds : float
        How long shrinking may take after the first failure; the smallest failing
        case found by then is reported (the report says that shrinking stopped).

    Returns
    -------
    SearchResult
        ``report`` of the smallest failing case (None if none failed), and
        ``snippet``, code that rebuilds that case and prints its report.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    kwargs = dict(kwargs or {})
    failing = {}
    if loss:
        strategy = _loss_case(data or ("probabilities", "labels"))

        def run(case):
            y_pred, y_true, check_seed = case
            return check_loss(cls(*args, **kwargs), y_pred, y_true, seed=check_seed)
    else:
        strategy = _layer_case(cls, args, kwargs, params)

        def run(case):
            made, arrays, inputs, check_seed = case
            layer = cls(*made, **kwargs)
            from nnfs_ref.check.contract import parse_slot

            for name, value in arrays.items():
                parse_slot(name).set(layer, value.copy())
            return check_layer(layer, inputs, seed=check_seed, params=params)

    from nnfs_ref.check.report import progress

    bar = progress(examples, f"search {cls.__name__}")

    import time

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.generate, Phase.shrink])
    @given(strategy)
    def prop(case):
        if "since" in failing and time.monotonic() - failing["since"] > shrink_seconds:
            failing["stopped"] = True
            return  # out of time: every further candidate passes, and shrinking ends
        bar.update()
        report = run(case)
        if report.verdict in ("fail", "error"):
            failing.setdefault("since", time.monotonic())
            failing["case"], failing["report"] = case, report
            raise AssertionError(report.summary())

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prop()
        except Exception:  # Hypothesis re-raises the failure (or a Flaky one): read it below
            if not failing:
                raise
        finally:
            bar.close()
    if not failing:
        return SearchResult(examples)
    return SearchResult(examples, failing["report"],
                        snippet(cls, args, kwargs, failing["case"], loss, params, target),
                        shrink_seconds if failing.get("stopped") else None)


def _import_line(cls, target):
    if target and ":" in target:
        module, _, name = target.rpartition(":")
        if module.endswith(".py"):
            import os

            folder = os.path.dirname(os.path.abspath(module))
            stem = os.path.splitext(os.path.basename(module))[0]
            return [f"import sys; sys.path.insert(0, {folder!r})",
                    f"from {stem} import {name}"]
        return [f"from {module} import {name}"]
    return [f"from {cls.__module__} import {cls.__qualname__}"]


def array_code(value):
    """Code for ``value``: ``np.full`` when its entries are equal, ``np.tile`` of one row
    when its rows are, else the literal."""
    value = np.asarray(value)
    if value.size and np.all(value == value.flat[0]):
        return f"np.full({value.shape!r}, {value.flat[0].item()!r})"
    if value.ndim == 2 and value.shape[0] > 1 and np.all(value == value[0]):
        return f"np.tile({array_code(value[0])}, ({value.shape[0]}, 1))"
    return f"np.array({value.tolist()!r})"


def snippet(cls, args, kwargs, case, loss, params, target=None):
    """Code that rebuilds one drawn case and prints its report."""
    name = cls.__name__
    lines = ["import numpy as np", "from nnfs_ref import check_layer, check_loss"]
    lines += _import_line(cls, target)
    call_args = ", ".join([repr(a) for a in (args if loss else case[0])]
                          + [f"{k}={v!r}" for k, v in kwargs.items()])
    if loss:
        y_pred, y_true, check_seed = case
        lines += [f"y_pred = {array_code(y_pred)}", f"y_true = {array_code(y_true)}",
                  f"print(check_loss({name}({call_args}), y_pred, y_true, seed={check_seed}))"]
        return "\n".join(lines)
    _, arrays, inputs, check_seed = case
    lines.append(f"layer = {name}({call_args})")
    for slot, value in arrays.items():
        if "[" in slot:
            attr, _, key = slot[:-1].partition("[")
            lines.append(f"layer.{attr}[{key}] = {array_code(value)}")
        else:
            lines.append(f"layer.{slot} = {array_code(value)}")
    lines.append(f"inputs = {array_code(inputs)}")
    extra = f", params={list(params)!r}" if params else ""
    lines.append(f"print(check_layer(layer, inputs, seed={check_seed}{extra}))")
    return "\n".join(lines)


def gradient_property(cls: type, *args: Any, examples: int = 50, loss: bool = False,
                      data: tuple[str, str] | None = None, params: Sequence[str] | None = None,
                      **kwargs: Any) -> Callable[[], None]:
    """A pytest test function that searches ``cls`` and fails with the smallest case.

    >>> from nnfs_ref.check.search import gradient_property
    >>> test_my_dense = gradient_property(MyDense)            # MyDense(n_in, n_out) drawn
    >>> test_my_loss = gradient_property(MyMSE, loss=True, data=("values", "values"))
    """
    def test():
        result = search(cls, args, kwargs, loss=loss, examples=examples, params=params,
                        data=data)
        if result.report is not None:
            raise AssertionError(f"{result.report.summary()}\n{result.text}")

    test.__name__ = f"test_{cls.__name__}_gradients"
    return test
