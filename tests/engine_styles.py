"""Engines of the project's own, each in a style found in the wild, for check_engine's tests:

- ``LectureValue``: the lecture style, with a ``label``, no ``__rsub__`` nor ``__rtruediv__``;
- ``RecursiveValue``: no topological sort: ``backward(grad=1.0)`` recurses along every path;
  its value kept as ``value``;
- ``IntPowerValue``: powers of integers only (others refused in the forward), ``requires_grad``
  leaves, the gradient kept as ``gradient``;
- ``TorchishTensor``: float32, ``requires_grad``, ``grad`` None until backward, ``dim=`` and
  ``keepdim=``, ``reshape(*shape)``, ``transpose()``, ``backward(gradient)`` for a non-scalar;
- ``NodeGradTensor``: gradients kept as nodes, ``backward(grad)`` reading ``grad.data``,
  recursing along every path, nodes without ``requires_grad`` left out;
- ``MinimalTensor``: ``sum(axis)`` without keepdims, ``mean()`` of everything, ``T()`` a
  method, ``dot`` for ``@``, ``backprop(grad)`` (the upstream gradient required), and an
  unmapped ``max``.

Correct as written, but for the two reflected operators ``LectureValue`` lacks; :data:`BUGS`
plants a classic bug in each.
"""

import math

import numpy as np


class LectureValue:
    def __init__(self, data, _children=(), _op='', label=''):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data})"

    def __add__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data + other.data, (self, other), '+')
        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, LectureValue) else LectureValue(other)
        out = LectureValue(self.data * other.data, (self, other), '*')
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = LectureValue(self.data ** other, (self,), f'**{other}')
        def _backward():
            self.grad += other * (self.data ** (other - 1)) * out.grad
        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = LectureValue(t, (self,), 'tanh')
        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        x = self.data
        out = LectureValue(math.exp(x), (self,), 'exp')
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()
        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


class IntPowerValue:
    def __init__(self, data, requires_grad=False, _inputs=(), _vjp=None):
        self.data, self.requires_grad = float(data), requires_grad
        self.gradient = 0.0
        self._inputs, self._vjp = _inputs, _vjp

    def _node(self, other):
        return other if isinstance(other, IntPowerValue) else IntPowerValue(other)

    def __add__(self, other):
        other = self._node(other)
        return IntPowerValue(self.data + other.data, _inputs=(self, other),
                             _vjp=lambda g: (g, g))

    def __mul__(self, other):
        other = self._node(other)
        return IntPowerValue(self.data * other.data, _inputs=(self, other),
                             _vjp=lambda g: (g * other.data, g * self.data))

    __radd__ = __add__
    __rmul__ = __mul__

    def __pow__(self, k):
        if not isinstance(k, int) or k < 1:
            raise NotImplementedError("only positive integer powers")
        return IntPowerValue(self.data ** k, _inputs=(self,),
                             _vjp=lambda g: (g * k * self.data ** (k - 1),))

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._inputs:
                    visit(parent)
                order.append(node)
        visit(self)
        grads = {id(self): 1.0}
        for node in reversed(order):
            g = grads.get(id(node), 0.0)
            if node.requires_grad:
                node.gradient += g
            if node._vjp is not None:
                for parent, pg in zip(node._inputs, node._vjp(g)):
                    grads[id(parent)] = grads.get(id(parent), 0.0) + pg


class RecursiveValue:
    def __init__(self, value, parents=()):
        self.value = value
        self.grad = 0.0
        self.parents = parents  # (node, local derivative)

    def _wrap(self, other):
        return other if isinstance(other, RecursiveValue) else RecursiveValue(float(other))

    def __add__(self, other):
        other = self._wrap(other)
        return RecursiveValue(self.value + other.value, ((self, 1.0), (other, 1.0)))

    __radd__ = __add__

    def __mul__(self, other):
        other = self._wrap(other)
        return RecursiveValue(self.value * other.value, ((self, other.value), (other, self.value)))

    __rmul__ = __mul__

    def __sub__(self, other):
        other = self._wrap(other)
        return RecursiveValue(self.value - other.value, ((self, 1.0), (other, -1.0)))

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __truediv__(self, other):
        other = self._wrap(other)
        return RecursiveValue(self.value / other.value,
                              ((self, 1 / other.value), (other, -self.value / other.value ** 2)))

    def __rtruediv__(self, other):
        return self._wrap(other) / self

    def __neg__(self):
        return RecursiveValue(-self.value, ((self, -1.0),))

    def __pow__(self, k):
        return RecursiveValue(self.value ** k, ((self, k * self.value ** (k - 1)),))

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.value))
        return RecursiveValue(s, ((self, s * (1 - s)),))

    def relu(self):
        return RecursiveValue(max(self.value, 0.0), ((self, float(self.value > 0)),))

    def log(self):
        return RecursiveValue(math.log(self.value), ((self, 1 / self.value),))

    def backward(self, grad=1.0):
        self.grad += grad
        for node, local in self.parents:
            node.backward(local * grad)


class TorchishTensor:
    def __init__(self, data, requires_grad=False, _parents=(), _fn=None, dtype=np.float32):
        self.data = np.array(data, dtype=dtype)
        self.requires_grad = requires_grad
        self.grad = None
        self._parents = _parents
        self._fn = _fn

    @staticmethod
    def _t(x):
        return x if isinstance(x, TorchishTensor) else TorchishTensor(x)

    def _accumulate(self, g):
        if self.requires_grad or self._parents:
            g = np.asarray(g, dtype=self.data.dtype)
            while g.ndim > self.data.ndim:
                g = g.sum(axis=0)
            for i, n in enumerate(self.data.shape):
                if n == 1 and g.shape[i] != 1:
                    g = g.sum(axis=i, keepdims=True)
            self.grad = g if self.grad is None else self.grad + g

    def __add__(self, o):
        o = self._t(o)
        return TorchishTensor(self.data + o.data, _parents=(self, o),
                              _fn=lambda g: (g, g))
    __radd__ = __add__

    def __mul__(self, o):
        o = self._t(o)
        return TorchishTensor(self.data * o.data, _parents=(self, o),
                              _fn=lambda g: (g * o.data, g * self.data))
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, o):
        return self + (-self._t(o))

    def __rsub__(self, o):
        return self._t(o) - self

    def __truediv__(self, o):
        o = self._t(o)
        return TorchishTensor(self.data / o.data, _parents=(self, o),
                              _fn=lambda g: (g / o.data, -g * self.data / o.data ** 2))

    def __rtruediv__(self, o):
        return self._t(o) / self

    def matmul(self, o):
        a, b = self.data, o.data
        def fn(g):
            if a.ndim == 1 and b.ndim == 1:
                return g * b, g * a
            if a.ndim == 1:
                return b @ g, np.outer(a, g)
            if b.ndim == 1:
                return np.outer(g, b), a.T @ g
            return g @ b.T, a.T @ g
        return TorchishTensor(a @ b, _parents=(self, o), _fn=fn)

    __matmul__ = matmul

    def sum(self, dim=None, keepdim=False):
        shape = self.data.shape
        def fn(g):
            if dim is not None and not keepdim:
                g = np.expand_dims(g, dim)
            return (np.broadcast_to(g, shape),)
        return TorchishTensor(self.data.sum(axis=dim, keepdims=keepdim), _parents=(self,), _fn=fn)

    def mean(self, dim=None, keepdim=False):
        n = self.data.size if dim is None else self.data.shape[dim]
        return self.sum(dim, keepdim) / n

    def reshape(self, *shape):
        old = self.data.shape
        return TorchishTensor(self.data.reshape(*shape), _parents=(self,),
                              _fn=lambda g: (g.reshape(old),))

    def transpose(self):
        return TorchishTensor(self.data.T, _parents=(self,), _fn=lambda g: (g.T,))

    def exp(self):
        e = np.exp(self.data)
        return TorchishTensor(e, _parents=(self,), _fn=lambda g: (g * e,))

    def log(self):
        x = self.data
        return TorchishTensor(np.log(x), _parents=(self,), _fn=lambda g: (g / x,))

    def tanh(self):
        t = np.tanh(self.data)
        return TorchishTensor(t, _parents=(self,), _fn=lambda g: (g * (1 - t * t),))

    def sigmoid(self):
        s = 1 / (1 + np.exp(-self.data))
        return TorchishTensor(s, _parents=(self,), _fn=lambda g: (g * s * (1 - s),))

    def relu(self):
        x = self.data
        return TorchishTensor(np.maximum(x, 0), _parents=(self,), _fn=lambda g: (g * (x > 0),))

    def softmax(self, dim=-1):
        e = np.exp(self.data - self.data.max(axis=dim, keepdims=True))
        s = e / e.sum(axis=dim, keepdims=True)
        return TorchishTensor(s, _parents=(self,),
                              _fn=lambda g: (s * (g - (g * s).sum(axis=dim, keepdims=True)),))

    def zero_grad(self):
        self.grad = None

    def backward(self, gradient=None):
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            gradient = np.ones_like(self.data)
        order, seen = [], set()
        def visit(t):
            if id(t) in seen:
                return
            seen.add(id(t))
            for p in t._parents:
                visit(p)
            order.append(t)
        visit(self)
        grads = {id(self): np.asarray(gradient, dtype=self.data.dtype)}
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if not t._parents:
                t._accumulate(g)
                continue
            for p, pg in zip(t._parents, t._fn(g)):
                pg = np.asarray(pg)
                while pg.ndim > p.data.ndim:
                    pg = pg.sum(axis=0)
                for i, n in enumerate(p.data.shape):
                    if n == 1 and pg.shape[i] != 1:
                        pg = pg.sum(axis=i, keepdims=True)
                grads[id(p)] = grads[id(p)] + pg if id(p) in grads else pg


class NodeGradTensor:
    def __init__(self, data, requires_grad=False, parents=()):
        self.data = np.array(data, dtype=np.float64)
        self.requires_grad = requires_grad
        self.parents = list(parents)  # (node, the map of an upstream gradient to its own)
        self.grad = NodeGradTensor(np.zeros_like(self.data)) if requires_grad else None

    @staticmethod
    def _lift(x):
        return x if isinstance(x, NodeGradTensor) else NodeGradTensor(x)

    @staticmethod
    def _fold(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)

    def _make(self, data, *links):
        live = [(node, fn) for node, fn in links if node.requires_grad]
        return NodeGradTensor(data, bool(live), live)

    def __add__(self, other):
        other = self._lift(other)
        return self._make(self.data + other.data,
                          (self, lambda g: self._fold(g, self.data.shape)),
                          (other, lambda g: self._fold(g, other.data.shape)))

    __radd__ = __add__

    def __mul__(self, other):
        other = self._lift(other)
        return self._make(self.data * other.data,
                          (self, lambda g: self._fold(g * other.data, self.data.shape)),
                          (other, lambda g: self._fold(g * self.data, other.data.shape)))

    __rmul__ = __mul__

    def __neg__(self):
        return self._make(-self.data, (self, lambda g: -g))

    def __sub__(self, other):
        return self + -self._lift(other)

    def __rsub__(self, other):
        return self._lift(other) + -self

    def __matmul__(self, other):
        a = self.data.reshape(-1, self.data.shape[-1])
        b = other.data.reshape(other.data.shape[0], -1)

        def left(g):
            return (g.reshape(a.shape[0], b.shape[1]) @ b.T).reshape(self.data.shape)

        def right(g):
            return (a.T @ g.reshape(a.shape[0], b.shape[1])).reshape(other.data.shape)
        return self._make(self.data @ other.data, (self, left), (other, right))

    def sum(self):
        return self._make(self.data.sum(), (self, lambda g: g * np.ones_like(self.data)))

    def zero_grad(self):
        self.grad = NodeGradTensor(np.zeros_like(self.data))

    def backward(self, grad=None):
        if grad is None:
            if self.data.ndim:
                raise RuntimeError("a non-scalar result needs an upstream gradient")
            grad = NodeGradTensor(1.0)
        self.grad.data = self.grad.data + grad.data
        for node, fn in self.parents:
            node.backward(NodeGradTensor(fn(grad.data)))


class MinimalTensor:
    def __init__(self, data, children=()):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros(self.data.shape)
        self.children = children
        self.back = lambda: None

    def _collect(self, g):
        """Add ``g``, summed down to this node's shape, to its gradient."""
        while g.ndim > self.data.ndim:
            g = g.sum(axis=0)
        for i, n in enumerate(self.data.shape):
            if n == 1:
                g = g.sum(axis=i, keepdims=True)
        self.grad = self.grad + g

    def __add__(self, other):
        other = other if isinstance(other, MinimalTensor) else MinimalTensor(other)
        out = MinimalTensor(self.data + other.data, (self, other))

        def back():
            self._collect(out.grad)
            other._collect(out.grad)
        out.back = back
        return out

    def __mul__(self, other):
        other = other if isinstance(other, MinimalTensor) else MinimalTensor(other)
        out = MinimalTensor(self.data * other.data, (self, other))

        def back():
            self._collect(out.grad * other.data)
            other._collect(out.grad * self.data)
        out.back = back
        return out

    def dot(self, other):
        out = MinimalTensor(self.data.dot(other.data), (self, other))
        def back():
            self.grad = self.grad + out.grad.dot(other.data.T)
            other.grad = other.grad + self.data.T.dot(out.grad)
        out.back = back
        return out

    def sum(self, axis=None):
        out = MinimalTensor(self.data.sum(axis=axis), (self,))
        def back():
            g = out.grad if axis is None else np.expand_dims(out.grad, axis)
            self.grad = self.grad + np.broadcast_to(g, self.data.shape)
        out.back = back
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def mean(self):
        return self.sum() * (1.0 / self.data.size)

    def max(self):
        out = MinimalTensor(self.data.max(), (self,))

        def back():
            self.grad = self.grad + (self.data == self.data.max()) * out.grad
        out.back = back
        return out

    def T(self):
        out = MinimalTensor(self.data.T, (self,))
        def back():
            self.grad = self.grad + out.grad.T
        out.back = back
        return out

    def relu(self):
        out = MinimalTensor(np.maximum(self.data, 0), (self,))
        def back():
            self.grad = self.grad + (self.data > 0) * out.grad
        out.back = back
        return out

    def sigmoid(self):
        s = 1 / (1 + np.exp(-self.data))
        out = MinimalTensor(s, (self,))
        def back():
            self.grad = self.grad + s * (1 - s) * out.grad
        out.back = back
        return out

    def backprop(self, grad):
        order, seen = [], set()
        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for c in t.children:
                    visit(c)
                order.append(t)
        visit(self)
        self.grad = np.asarray(grad, dtype=np.float64)
        for t in reversed(order):
            t.back()


#: (class, the line as written, the line with the bug, the operators blamed, words the
#: report must hold).
BUGS = [
    ("LectureValue", "self.grad += 1.0 * out.grad\n            other.grad += 1.0 * out.grad",
     "self.grad = 1.0 * out.grad\n            other.grad = 1.0 * out.grad",
     ["__add__", "__rsub__", "__rtruediv__"], "the gradient is assigned, not accumulated"),
    ("RecursiveValue", "(other, -self.value / other.value ** 2)",
     "(other, self.value / other.value ** 2)", ["__truediv__"], "a / b"),
    ("IntPowerValue", "_vjp=lambda g: (g * k * self.data ** (k - 1),))",
     "_vjp=lambda g: (g * k * self.data ** k,))", ["__pow__"], "v ** 2"),
    ("TorchishTensor", "            if dim is not None and not keepdim:\n"
     "                g = np.expand_dims(g, dim)\n", "", ["sum"], "sum(axis=1)"),
    ("TorchishTensor", "s * (g - (g * s).sum(axis=dim, keepdims=True))", "s * g",
     ["softmax"], "softmax"),
    ("NodeGradTensor", "(self, lambda g: self._fold(g * other.data, self.data.shape))",
     "(self, lambda g: self._fold(g * self.data, self.data.shape))", ["__mul__"], "a * b"),
    ("MinimalTensor", "out.grad.dot(other.data.T)", "out.grad.dot(other.data)",
     ["dot"], "a.dot(b)"),
    ("MinimalTensor", "s = 1 / (1 + np.exp(-self.data))\n        out = MinimalTensor(s",
     "s = 1 / (1 + np.exp(self.data))\n        out = MinimalTensor(s", ["sigmoid"],
     "the forward is wrong"),
    ("MinimalTensor", "            self.grad = self.grad + out.grad.T\n",
     "            self.grad = self.grad + out.grad.reshape(self.data.shape)\n", ["T"], "a.T"),
]
