"""The expressions :mod:`manual.engine` is verified on, each run on the engine and on JAX.

An :class:`Expression` is written once, as ``build(ops, *leaves)`` with Python's
operators and the methods tensors and JAX arrays share (``sum``, ``mean``,
``reshape``, ``T``, ``@``); the functions they do not share (``tanh``, ``relu``...)
come from ``ops``: the engine's methods or functions, or ``jax.numpy``'s. The
leaves' gradients from the engine's ``backward`` are compared with ``jax.vjp`` of
the same expression, under one random upstream gradient. Float64: call
:func:`reference.enable_x64` first.
"""

import dataclasses
import functools
import types

import numpy as np

from manual import engine
from nnfs_ref.check.twin import vjp_of


@dataclasses.dataclass(frozen=True)
class Expression:
    """One expression: its text, its leaves' shapes (``()`` for a scalar engine's), the
    leaves that must be positive (for ``log`` and fractional powers), and ``build``."""

    text: str
    shapes: tuple
    build: object
    positive: tuple = ()


def _method(name):
    return lambda x: getattr(x, name)()


#: The engine's unary operators: methods, and the tensor engine's module functions.
VALUE_OPS = types.SimpleNamespace(**{n: _method(n) for n in
                                     ("relu", "tanh", "sigmoid", "exp", "log")})
TENSOR_OPS = types.SimpleNamespace(relu=_method("relu"), exp=_method("exp"),
                                   log=_method("log"), tanh=engine.tanh,
                                   softmax=engine.softmax)


def _jax_ops():
    import jax
    import jax.numpy as jnp

    return types.SimpleNamespace(relu=jax.nn.relu, tanh=jnp.tanh, sigmoid=jax.nn.sigmoid,
                                 exp=jnp.exp, log=jnp.log,
                                 softmax=lambda x: jax.nn.softmax(x, axis=-1))


def _shared(ops, a, b):
    s = a * b
    return s * s + s


E = Expression
#: The scalar engine's expressions: each operator, a node used twice, numbers on either
#: side, a shared intermediate node, powers with integer and fractional exponents.
SCALAR = (
    E("a * b + a", ((), ()), lambda ops, a, b: a * b + a),
    E("a * a", ((),), lambda ops, a: a * a),
    E("s = a * b; s * s + s", ((), ()), _shared),
    E("a ** 3 - 2.5 / b", ((), ()), lambda ops, a, b: a ** 3 - 2.5 / b),
    E("2.5 - a * 2 + (-b) / a", ((), ()), lambda ops, a, b: 2.5 - a * 2 + (-b) / a),
    E("tanh(a * b) * sigmoid(a)", ((), ()),
      lambda ops, a, b: ops.tanh(a * b) * ops.sigmoid(a)),
    E("relu(a - b) * exp(b) + relu(a)", ((), ()),
      lambda ops, a, b: ops.relu(a - b) * ops.exp(b) + ops.relu(a)),
    E("log(p) / a + p ** 0.5", ((), ()), lambda ops, a, p: ops.log(p) / a + p ** 0.5,
      positive=(1,)),
)
#: The tensor engine's: a dense layer with a broadcast bias, broadcasting (3,1), (4,) and a
#: 0-d leaf, reductions with and without keepdims, matmul of vectors, reshape, transpose.
TENSOR = (
    E("relu(x @ w + b)", ((4, 3), (3, 2), (2,)), lambda ops, x, w, b: ops.relu(x @ w + b)),
    E("(y + x * y).sum(axis=1)", ((3, 4), (3, 1)), lambda ops, x, y: (y + x * y).sum(axis=1)),
    E("x.mean(axis=1, keepdims=True) * x - x.mean(axis=0) * c", ((3, 4), ()),
      lambda ops, x, c: x.mean(axis=1, keepdims=True) * x - x.mean(axis=0) * c),
    E("softmax(x) * y", ((3, 4), (3, 4)), lambda ops, x, y: ops.softmax(x) * y),
    E("tanh(x @ v) / (v @ v)", ((3, 4), (4,)), lambda ops, x, v: ops.tanh(x @ v) / (v @ v)),
    E("log(p).T.reshape((2, 6)) * 2.5", ((3, 4),),
      lambda ops, p: ops.log(p).T.reshape((2, 6)) * 2.5, positive=(0,)),
    E("(x - 2.5) ** 2 / p + exp(x) * x", ((3, 4), (3, 4)),
      lambda ops, x, p: (x - 2.5) ** 2 / p + ops.exp(x) * x, positive=(1,)),
)


def draw(rng, expression):
    """The leaves' values: magnitudes 0.5 to 2 of either sign, positive where asked."""
    values = []
    for i, shape in enumerate(expression.shapes):
        x = rng.uniform(0.5, 2.0, size=shape)
        values.append(x if i in expression.positive else x * rng.choice([-1.0, 1.0], shape))
    return values


@functools.lru_cache(maxsize=None)
def _oracle(expression):
    """Compiled ``(leaves, cotangent) -> (out, leaves' VJPs)`` of ``expression`` in JAX."""
    ops = _jax_ops()
    return vjp_of(lambda leaves, _: expression.build(ops, *leaves))


def gradients(cls, expression, values, cotangent):
    """The leaves' ``grad`` after ``backward`` of ``expression`` built from ``cls`` leaves:
    ``Value`` from floats, ``Tensor`` (``requires_grad=True``) from arrays."""
    if cls is engine.Value:
        leaves = [cls(float(v)) for v in values]
        out = expression.build(VALUE_OPS, *leaves)
        out.backward()
        return out.data, [np.array(leaf.grad) * cotangent for leaf in leaves]
    leaves = [cls(v, requires_grad=True) for v in values]
    out = expression.build(TENSOR_OPS, *leaves)
    out.backward(cotangent)
    return out.data, [leaf.grad for leaf in leaves]


@functools.lru_cache(maxsize=None)
def _shape(expression):
    """The shape of ``expression``'s result (its leaves' shapes are fixed), traced once."""
    import jax

    ops = _jax_ops()
    leaves = [jax.ShapeDtypeStruct(shape, np.float64) for shape in expression.shapes]
    return jax.eval_shape(lambda *xs: expression.build(ops, *xs), *leaves).shape


def expected(expression, values, cotangent):
    """``(out, [VJP of each leaf])`` of ``expression`` from JAX."""
    out, (vjps, _) = _oracle(expression)(tuple(values), None, cotangent)
    return np.asarray(out), [np.asarray(g) for g in vjps]


def checks(cls, expressions, rng, settings):
    """One draw of every expression: the output and each leaf's gradient compared, as
    ``GradientCheck`` rows named by the expression.

    The gradients are compared at the rounding scale of their terms: the leaves' values
    are of order 1 (0.5 to 2), so every leaf's gradient is a sum of terms no larger than
    the largest gradient entry of any leaf (or than the upstream gradient); one that
    cancels to about 0 is resolved to ~1e-16 of that, not of itself.
    """
    rows = []
    for expression in expressions:
        values = draw(rng, expression)
        cotangent = rng.normal(size=_shape(expression))
        want_out, want = expected(expression, values, cotangent)
        out, yours = gradients(cls, expression, values, cotangent)
        scale = max([float(np.abs(cotangent).max(initial=0.0))]
                    + [float(np.abs(w).max(initial=0.0)) for w in want])
        rows.append(settings.compare(f"{expression.text}: output", np.asarray(out), want_out))
        rows += [settings.compare(f"{expression.text}: grad of leaf {i}", np.asarray(g), w,
                                  scale) for i, (g, w) in enumerate(zip(yours, want))]
    return rows
