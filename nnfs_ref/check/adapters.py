"""Objects of other shapes than the book's, read through adapters of its contract.

- :class:`Activation`: an activation object, ``fn(x)`` (or ``__call__``) and
  ``grad(x)``.
- :class:`Loss`: a loss object, ``loss(...)`` and ``grad(...)`` or
  ``gradient(...)``, in either argument order.
- :class:`FusedSoftmaxLoss`: the book's chapter-22 fused softmax +
  cross-entropy, which has no forward.
- :class:`Recorder`: stands in for an optimizer object while ``backward`` runs,
  recording the gradients handed to its ``update(param, grad)``.
- :func:`is_loss`: whether an object (or a class) is a loss, adapted or not.
"""

import inspect
import re

import numpy as np

from nnfs_ref.check.contract import (
    METHOD_NAMES,
    UserCodeError,
    call,
    invoke,
    learning_rate_name,
    method_name,
    positional_parameters,
)


def is_loss(obj):
    """Whether ``obj`` (a class or an instance) is a loss: its ``backward`` takes
    ``(dvalues, y_true)``, where a layer's takes ``(dvalues)``; or it is a loss object
    (``loss()`` and ``grad()``, see :class:`Loss`)."""
    if as_loss(obj)[1] is not None:
        return True
    try:
        backward = getattr(obj, method_name(obj, "backward"))
        parameters = list(inspect.signature(backward).parameters.values())
    except (UserCodeError, TypeError, ValueError):
        return False
    if inspect.isclass(obj):
        parameters = parameters[1:]  # self
    if learning_rate_name(obj):  # backward(grad, learning_rate): a layer that steps itself
        return False
    return sum(p.default is inspect.Parameter.empty and p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters) == 2


def _has(obj, name, arguments=None):
    """Whether ``obj`` has a method ``name``, taking ``arguments`` positional arguments
    when that is given (``self`` not counted)."""
    fn = getattr(obj, name, None)
    if not callable(fn):
        return False
    if arguments is None:
        return True
    positional = positional_parameters(fn)[0]
    if positional is None:
        return True
    positional = [p for p in positional if p.name != "self"]
    return sum(p.default is inspect.Parameter.empty for p in positional) == arguments


class Activation:
    """An activation object ``fn(x)`` (or ``__call__``) with ``grad(x)`` (its elementwise
    derivative, numpy-ml's form) as a layer of the book: ``forward`` sets ``output =
    fn(x)``, ``backward`` sets ``dinputs = dvalues * grad(x)``."""

    def __init__(self, obj, value):
        self.obj, self.value = obj, value
        self.note = (f"an activation object: forward = {value}(x), backward = dvalues * "
                     "grad(x)")

    def forward(self, inputs):
        self.inputs = inputs
        self.output = invoke(getattr(self.obj, self.value), self.value, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues * invoke(self.obj.grad, "grad", self.inputs)


def as_layer(obj):
    """``obj`` as a layer of the book's contract, and a note when it was adapted: an
    activation object (``fn`` or ``__call__``, and ``grad``) with neither ``forward`` nor
    ``backward`` is read through :class:`Activation`."""
    named = any(_has(obj, n) for role in METHOD_NAMES.values() for n in role)
    if named or not _has(obj, "grad"):
        return obj, None
    value = "fn" if _has(obj, "fn", 1) else "__call__" if _has(obj, "__call__", 1) else None
    if value is None:
        return obj, None
    adapted = Activation(obj, value)
    return adapted, adapted.note


#: Names of a loss's arguments: the predictions, and the targets.
_PREDICTIONS = re.compile(r"_*(y_?pred\w*|y_?hat|pred\w*|output\w*|logits?|scores?|probs?|"
                          r"a|x|z|inputs?|activations?)", re.IGNORECASE)
_TARGETS = re.compile(r"_*(y(_?true)?|targets?|labels?|t|truth|gold|y_?real)", re.IGNORECASE)


def _order(fn):
    """``(y_pred, y_true)`` or ``(y_true, y_pred)``, from ``fn``'s parameter names."""
    positional = positional_parameters(fn)[0]
    if positional is None:
        return "y_pred, y_true"
    names = [p.name for p in positional if p.name != "self"][:2]
    if len(names) == 2 and _TARGETS.fullmatch(names[0]) and _PREDICTIONS.fullmatch(names[1]) \
            and not _PREDICTIONS.fullmatch(names[0]):
        return "y_true, y_pred"
    return "y_pred, y_true"


class Loss:
    """A loss object ``loss(...)`` (or ``__call__``) with ``grad(...)`` or ``gradient(...)``,
    in either argument order, as a loss of the book: ``forward(y_pred, y_true)`` returns
    the loss, ``backward(dvalues, y_true)`` sets ``dinputs`` to its gradient at
    ``dvalues``."""

    def __init__(self, obj, value, gradient):
        self.obj, self.value, self.gradient = obj, value, gradient
        self.orders = {name: _order(getattr(obj, name)) for name in (value, gradient)}
        self.note = (f"a loss object: forward = {value}({self.orders[value]}), backward = "
                     f"{gradient}({self.orders[gradient]})")

    def _call(self, name, y_pred, y_true):
        args = (y_pred, y_true) if self.orders[name] == "y_pred, y_true" else (y_true, y_pred)
        return invoke(getattr(self.obj, name), name, *args)

    def forward(self, y_pred, y_true):
        return self._call(self.value, y_pred, y_true)

    def backward(self, dvalues, y_true):
        self.dinputs = self._call(self.gradient, dvalues, y_true)


class FusedSoftmaxLoss:
    """The book's chapter-22 ``Activation_Softmax_Loss_CategoricalCrossentropy``, which has
    no forward: the checker's own forward is the softmax of the logits and the categorical
    cross-entropy of it (sparse or one-hot targets), ``backward(softmax_outputs, y_true)``
    the user's."""

    note = ("no forward (the fused softmax + cross-entropy of chapter 22): the objective is "
            "the checker's -log softmax(logits)[y_true], backward given the softmax")

    def __init__(self, obj):
        self.obj = obj

    def forward(self, logits, y_true):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.output = np.exp(log_probs)
        y = np.asarray(y_true)
        if y.ndim == 2:
            return -np.sum(log_probs * y, axis=1)
        return -log_probs[np.arange(len(logits)), y.astype(int)]

    def backward(self, dvalues, y_true):
        returned = call(self.obj, "backward", dvalues, y_true)
        self.dinputs = getattr(self.obj, "dinputs", returned)


def _fused_without_forward(obj):
    name = (obj if inspect.isclass(obj) else type(obj)).__name__.lower()
    return ("softmax" in name and ("crossentropy" in name or "cross_entropy" in name)
            and not _has(obj, "forward") and _has(obj, "backward", 2))


def as_loss(obj):
    """``obj`` as a loss of the book's contract, and a note when it was adapted (see
    :class:`Loss` and :class:`FusedSoftmaxLoss`)."""
    if _fused_without_forward(obj):
        adapted = FusedSoftmaxLoss(obj)
        return adapted, adapted.note
    if _has(obj, "forward") or _has(obj, "backward"):
        return obj, None
    gradient = next((n for n in ("grad", "gradient") if _has(obj, n, 2)), None)
    value = next((n for n in ("loss", "fn", "__call__") if _has(obj, n, 2)), None)
    if gradient is None or value is None:
        return obj, None
    adapted = Loss(obj, value, gradient)
    return adapted, adapted.note


class Recorder:
    """Stands in for an optimizer object a layer holds while its backward runs: each
    ``update(param, grad, ...)`` (or ``step``) records ``grad`` for ``param`` and changes
    nothing; every other attribute is the optimizer's own. :meth:`install` puts one in
    place of each such attribute, :meth:`uninstall` puts the optimizers back."""

    METHODS = ("update", "step")

    def __init__(self, original):
        self._original, self.records = original, []

    def __getattr__(self, name):
        if name in Recorder.METHODS:
            def record(param, grad, *args, **kwargs):
                self.records.append((param, np.array(grad, dtype=np.float64, copy=True)))
                return param
            return record
        return getattr(self._original, name)

    @classmethod
    def install(cls, obj):
        """``{attribute: Recorder}`` for every optimizer-like attribute of ``obj``."""
        installed = {}
        for name, value in list(vars(obj).items()) if hasattr(obj, "__dict__") else ():
            if not isinstance(value, (np.ndarray, np.random.Generator, np.random.RandomState,
                                      dict, list, tuple, set, frozenset, str, int, float)) \
                    and any(callable(getattr(value, m, None)) for m in cls.METHODS):
                installed[name] = cls(value)
                setattr(obj, name, installed[name])
        return installed

    @staticmethod
    def uninstall(obj, installed):
        for name, recorder in installed.items():
            setattr(obj, name, recorder._original)

    @staticmethod
    def gradient_of(installed, param):
        """The gradient recorded for ``param`` (the same array object), or None."""
        for recorder in installed.values():
            for recorded, grad in recorder.records:
                if recorded is param:
                    return grad
        return None
