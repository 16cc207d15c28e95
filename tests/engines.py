"""The project's own scalar autograd engine, written in the style of the popular small ones
(a ``Value`` with ``data``, ``grad``, a ``_backward`` closure per operation and a
``backward()`` that sorts the graph). Correct as written; :data:`BUGS` plants the classic
bugs in it."""

import math

import numpy as np


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        out = Value(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    build(child)
                order.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1


def _unbroadcast(grad, shape):
    """Sum ``grad`` over the axes a broadcast to its shape expanded from ``shape``."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A NumPy-backed engine of the same design: ``data`` an array, ``grad`` an array of its
    shape, ``backward()`` from a scalar or ``backward(grad)`` from any result."""

    def __init__(self, data, _children=(), requires_grad=False):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self.requires_grad = requires_grad
        self._backward = lambda: None
        self._prev = _children

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data + other.data, (self, other))

        def _backward():
            self.grad += _unbroadcast(out.grad, self.data.shape)
            other.grad += _unbroadcast(out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data * other.data, (self, other))

        def _backward():
            self.grad += _unbroadcast(other.data * out.grad, self.data.shape)
            other.grad += _unbroadcast(self.data * out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __matmul__(self, other):
        out = Tensor(self.data @ other.data, (self, other))

        def _backward():
            g = out.grad
            a, b = self.data, other.data
            if a.ndim == 1:
                self.grad += b @ g
                other.grad += np.outer(a, g)
            elif b.ndim == 1:
                self.grad += np.outer(g, b)
                other.grad += a.T @ g
            else:
                self.grad += g @ b.T
                other.grad += a.T @ g
        out._backward = _backward
        return out

    def sum(self, axis=None, keepdims=False):
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,))

        def _backward():
            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.data.shape)
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        count = self.data.size if axis is None else self.data.shape[axis]
        return self.sum(axis, keepdims) * (1.0 / count)

    def exp(self):
        out = Tensor(np.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Tensor(np.maximum(self.data, 0.0), (self,))

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self, grad=None):
        order, seen = [], set()

        def build(v):
            if id(v) not in seen:
                seen.add(id(v))
                for child in v._prev:
                    build(child)
                order.append(v)
        build(self)
        self.grad = np.ones_like(self.data) if grad is None else np.asarray(grad, dtype=float)
        for v in reversed(order):
            v._backward()

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)


def tanh(x):
    """The tensor engine's tanh as a module function, ``tanh(x)``."""
    t = np.tanh(x.data)
    out = Tensor(t, (x,))

    def _backward():
        x.grad += (1 - t ** 2) * out.grad
    out._backward = _backward
    return out


def softmax(x, axis=-1):
    """A softmax over ``axis`` as a module function."""
    shifted = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    s = shifted / shifted.sum(axis=axis, keepdims=True)
    out = Tensor(s, (x,))

    def _backward():
        g = out.grad
        x.grad += s * (g - (g * s).sum(axis=axis, keepdims=True))
    out._backward = _backward
    return out


#: (the line as written, the line with the bug, the operators that must be blamed, words
#: the report must hold); the engine each is in is named by TENSOR_BUGS.
BUGS = [
    ("self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
     "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
     ["__mul__"], "the gradient is assigned, not accumulated"),
    ("            self.grad += exponent * self.data ** (exponent - 1) * out.grad",
     "            self.grad += exponent * self.data ** exponent * out.grad",
     ["__pow__"], "__pow__"),
    ("    def __rmul__(self, other):\n        return self * other\n\n    def __truediv__",
     "    def __truediv__", ["__rmul__"], "2.5 * v raised TypeError"),
    ("            self.grad += (1 - t ** 2) * out.grad",
     "            self.grad += (1 - self.data ** 2) * out.grad", ["tanh"], "tanh"),
    ("            if v not in seen:\n                seen.add(v)\n",
     "            if True:\n", ["backward"], "a node's gradient is propagated twice"),
]

#: The tensor engine's classic bugs, in the same form.
TENSOR_BUGS = [
    ("            self.grad += _unbroadcast(out.grad, self.data.shape)\n",
     "            self.grad += out.grad\n", ["__add__"], "sum the gradient over the broadcast"),
    ("                self.grad += g @ b.T\n", "                self.grad += g @ b\n",
     ["__matmul__"], "__matmul__"),
    ("            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)",
     "            g = out.grad", ["sum"], "a.sum(axis=1)"),
    ("        return self.sum(axis, keepdims) * (1.0 / count)",
     "        return self.sum(axis, keepdims) * (1.0 / self.data.size)", ["mean"], "mean"),
]
