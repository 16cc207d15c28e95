"""A small autograd engine, the project's own: not in the book, but what many of its
readers write next. ``Value`` is a scalar in the style of micrograd (``data``, ``grad``,
a ``_backward`` closure per operation, ``backward()`` through a topological sort);
``Tensor`` is the same design on NumPy arrays, with broadcasting, ``@`` and reductions.

It is proven right against JAX by ``tests/test_manual_engine.py`` and ``nnfs-ref
verify``, and it is where ``nnfs-ref mutants`` plants the classic engine bugs that
``check_engine`` must name. NumPy only.
"""

import math

import numpy as np


class Value:
    """A scalar node: ``data`` (a float), ``grad`` (d out / d this node, 0.0 until
    ``backward()``), the nodes it was made from, and how to pass its gradient back."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        """``a + b``: d/da = 1, d/db = 1."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        """``a * b``: d/da = b, d/db = a."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        """``a ** k`` for a number ``k``: d/da = k a^(k-1)."""
        out = Value(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        """``max(a, 0)``: d/da = 1 where a > 0, else 0 (0 at the kink, as ``jax.nn.relu``)."""
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        """``tanh(a)``: d/da = 1 - t^2, from the output t."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        """``1 / (1 + e^-a)``: d/da = s (1 - s), from the output s."""
        s = 1 / (1 + math.exp(-self.data))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        """``e^a``: d/da = e^a, the output itself."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        """``log(a)`` for a > 0: d/da = 1 / a."""
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def backward(self):
        """Set ``grad`` of every node this one was made from to d self / d node: each node
        once, after every node made from it (a topological order, walked backwards)."""
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

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def _unbroadcast(grad, shape):
    """``grad`` summed over the axes that broadcasting ``shape`` to ``grad.shape``
    expanded: the leading axes added, and every axis of size 1 that grew."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A NumPy-backed node of the same design: ``data`` an array, ``grad`` an array of its
    shape; ``backward()`` from a one-entry result, ``backward(grad)`` from any."""

    def __init__(self, data, _children=(), requires_grad=False):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self.requires_grad = requires_grad
        self._backward = lambda: None
        self._prev = _children

    def __add__(self, other):
        """``a + b`` broadcast: each gradient is ``out.grad`` summed back to its shape."""
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data + other.data, (self, other))

        def _backward():
            self.grad += _unbroadcast(out.grad, self.data.shape)
            other.grad += _unbroadcast(out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        """``a * b`` broadcast: da = b * out.grad, db = a * out.grad, summed back."""
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data * other.data, (self, other))

        def _backward():
            self.grad += _unbroadcast(other.data * out.grad, self.data.shape)
            other.grad += _unbroadcast(self.data * out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __matmul__(self, other):
        """``a @ b``, (n, k) @ (k, m) -> (n, m): da = out.grad @ b.T, db = a.T @ out.grad.
        A vector side is the matrix (1, k) on the left, (k, 1) on the right."""
        out = Tensor(self.data @ other.data, (self, other))

        def _backward():
            a = self.data.reshape(-1, self.data.shape[-1])
            b = other.data.reshape(other.data.shape[0], -1)
            g = out.grad.reshape(a.shape[0], b.shape[1])
            self.grad += (g @ b.T).reshape(self.data.shape)
            other.grad += (a.T @ g).reshape(other.data.shape)
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        """``a ** k`` for a number ``k``, entry by entry: da = k a^(k-1) * out.grad."""
        out = Tensor(self.data ** exponent, (self,))

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def sum(self, axis=None, keepdims=False):
        """The sum over ``axis`` (all: None): da = out.grad broadcast back to a's shape."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,))

        def _backward():
            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.data.shape)
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        """The mean over ``axis``: the sum times 1 / (the entries summed)."""
        count = self.data.size if axis is None else self.data.shape[axis]
        return self.sum(axis, keepdims) * (1.0 / count)

    def reshape(self, shape):
        """The same entries in ``shape``: da = out.grad in a's shape."""
        out = Tensor(self.data.reshape(shape), (self,))

        def _backward():
            self.grad += out.grad.reshape(self.data.shape)
        out._backward = _backward
        return out

    @property
    def T(self):
        """The transpose (n, m) -> (m, n): da = out.grad.T."""
        out = Tensor(self.data.T, (self,))

        def _backward():
            self.grad += out.grad.T
        out._backward = _backward
        return out

    def exp(self):
        """``e^a`` entry by entry: da = out.data * out.grad."""
        out = Tensor(np.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        """``log(a)`` entry by entry, a > 0: da = out.grad / a."""
        out = Tensor(np.log(self.data), (self,))

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def relu(self):
        """``max(a, 0)`` entry by entry: da = (a > 0) * out.grad."""
        out = Tensor(np.maximum(self.data, 0.0), (self,))

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self, grad=None):
        """Set ``grad`` of every node this one was made from to the vector-Jacobian product
        with ``grad`` (ones by default, for a one-entry result), each node once."""
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

    def zero_grad(self):
        """Reset ``grad`` to zeros (gradients accumulate over calls of ``backward``)."""
        self.grad = np.zeros_like(self.data)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * (other if isinstance(other, Tensor) else Tensor(other)) ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def __repr__(self):
        return f"Tensor({self.data.tolist()})"


def tanh(x):
    """``tanh`` of a ``Tensor`` entry by entry, as a module function: dx = (1 - t^2) *
    out.grad, from the output t."""
    t = np.tanh(x.data)
    out = Tensor(t, (x,))

    def _backward():
        x.grad += (1 - t ** 2) * out.grad
    out._backward = _backward
    return out


def softmax(x, axis=-1):
    """The softmax of a ``Tensor`` over ``axis``, as a module function: dx = s * (out.grad
    - (out.grad * s).sum(axis)), the book's Jacobian-vector product."""
    shifted = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    s = shifted / shifted.sum(axis=axis, keepdims=True)
    out = Tensor(s, (x,))

    def _backward():
        g = out.grad
        x.grad += s * (g - (g * s).sum(axis=axis, keepdims=True))
    out._backward = _backward
    return out
