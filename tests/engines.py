"""The project's own scalar autograd engine, written in the style of the popular small ones
(a ``Value`` with ``data``, ``grad``, a ``_backward`` closure per operation and a
``backward()`` that sorts the graph). Correct as written; :data:`BUGS` plants the classic
bugs in it."""

import math


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


#: (the line as written, the line with the bug, the operators that must be blamed, words
#: the report must hold).
BUGS = [
    ("self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
     "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
     ["__mul__"], "the gradient is assigned, not accumulated"),
    ("            self.grad += exponent * self.data ** (exponent - 1) * out.grad",
     "            self.grad += exponent * self.data ** exponent * out.grad",
     ["__pow__"], "__pow__"),
    ("    def __rmul__(self, other):\n        return self * other\n", "",
     ["__rmul__"], "2.5 * v raised TypeError"),
    ("            self.grad += (1 - t ** 2) * out.grad",
     "            self.grad += (1 - self.data ** 2) * out.grad", ["tanh"], "tanh"),
    ("            if v not in seen:\n                seen.add(v)\n",
     "            if True:\n", ["backward"], "a node's gradient is propagated twice"),
]
