"""The expressions ``check_engine`` runs, found from what an engine defines.

Each is written once, as ``build(*leaves)``, and runs alike on the engine's nodes and
on plain floats or float64 arrays (the oracle's twin): :class:`Case` for a scalar
engine, :class:`Case` for a tensor engine. :func:`cases` and :func:`tensor_cases`
give the operators alone, with a node used twice, with numbers on either side, at kinks
and in a shared graph; :func:`chain_steps` and :func:`chain_case` draw chains of them;
:func:`module_functions` finds operators given as functions of the engine's module, and
:func:`unmapped` the operators an engine defines that no expression runs. An operator
is called under the engine's own spelling (``axis=`` or ``dim=``, ``T`` or ``T()``,
``@`` or ``dot``).
"""

import dataclasses
import functools
import inspect
import math
import sys

import numpy as np

from nnfs_ref.check.contract import METHOD_NAMES, positional_parameters

#: Binary operators: (dunder, Python form, on floats).
BINARY = {
    "__add__": ("a + b", lambda a, b: a + b), "__sub__": ("a - b", lambda a, b: a - b),
    "__mul__": ("a * b", lambda a, b: a * b), "__truediv__": ("a / b", lambda a, b: a / b),
}
#: Reflected forms with a number on the left.
REFLECTED = {
    "__radd__": ("2.5 + v", lambda v: 2.5 + v), "__rsub__": ("2.5 - v", lambda v: 2.5 - v),
    "__rmul__": ("2.5 * v", lambda v: 2.5 * v), "__rtruediv__": ("2.5 / v", lambda v: 2.5 / v),
}
#: Named unary methods and their float twins, with the domain of the values drawn.
UNARY = {
    "relu": (lambda x: x if x > 0 else 0.0, "any"), "tanh": (math.tanh, "any"),
    "exp": (math.exp, "any"), "log": (math.log, "positive"),
    "sigmoid": (lambda x: 1 / (1 + math.exp(-x)), "any"),
}
#: Exponents the power rule is run with (fractional ones on positive values only).
EXPONENTS = (2, 3, -1, 0.5)


def defined(cls, name):
    """Whether the class (not ``object``) defines ``name``."""
    return any(name in vars(base) for base in cls.__mro__ if base is not object)


def _apply(x, name):
    """``x.name()`` on an engine's value, the float twin on a float or, entry by entry, on
    an array."""
    if isinstance(x, np.ndarray):
        return np.vectorize(UNARY[name][0], otypes=[float])(x)
    return UNARY[name][0](x) if isinstance(x, float) else getattr(x, name)()


@dataclasses.dataclass(frozen=True)
class Case:
    """One expression: the operator it is about, its pattern, its leaves' shapes (``()`` for
    each of a scalar engine's), the expression (on the engine's nodes and on floats or
    arrays alike) and the leaves' domain."""

    operator: str
    pattern: str
    shapes: tuple
    build: object
    domain: str = "any"
    #: Whether the expression has a Python number as an operand (``a + 2.5``).
    number: bool = False
    #: The expression as code in the engine's own spelling (``a.sum(dim=1)``), where the
    #: pattern's (``a.sum(axis=1)``) is not.
    text: str = ""

    @property
    def leaves(self):
        return len(self.shapes)


#: The leaves of a scalar engine's expressions: one float, or two.
ONE, TWO = ((),), ((), ())


def cases(cls):
    """The expressions that exercise the operators ``cls`` defines, the names of the
    operators it lacks among the ones looked for, and notes (none for a scalar engine).

    A reflected form (``__rsub__``) is looked for wherever its plain form is defined: the
    case runs either way, and fails where ``2.5 - v`` raises."""
    found = []
    for dunder, (form, fn) in BINARY.items():
        if defined(cls, dunder):
            domain = "nonzero" if dunder == "__truediv__" else "any"
            found += [Case(dunder, form, TWO, fn, domain),
                      Case(dunder, "with a node used twice: " + form.replace("b", "a"), ONE,
                           lambda a, fn=fn: fn(a, a), domain),
                      Case(dunder, form.replace("b", "2.5"), ONE, lambda a, fn=fn: fn(a, 2.5),
                           domain, number=True)]
    for dunder, (form, fn) in REFLECTED.items():
        if defined(cls, dunder[:2] + dunder[3:]):  # __rmul__ is looked for where __mul__ is
            found.append(Case(dunder, form, ONE, fn,
                              "nonzero" if dunder == "__rtruediv__" else "any"))
    if defined(cls, "__neg__"):
        found.append(Case("__neg__", "-v", ONE, lambda a: -a))
    if defined(cls, "__pow__"):
        for k in EXPONENTS:
            found.append(Case("__pow__", f"v ** {k}", ONE, lambda a, k=k: a ** k,
                              "positive" if k != int(k) or k < 0 else "any"))
    if defined(cls, "__rpow__"):
        found.append(Case("__rpow__", "2 ** v", ONE, lambda a: 2 ** a))
    for name, (_, domain) in UNARY.items():
        if defined(cls, name):
            found += [Case(name, f"v.{name}()", ONE, lambda a, n=name: _apply(a, n), domain),
                      Case(name, f"with a node used twice: v.{name}() * v", ONE,
                           lambda a, n=name: _apply(a, n) * a, domain)]
    if defined(cls, "relu"):  # at the kink: any value between 0 and 1 is a subgradient
        found += [Case("relu", f"{where}: v.relu() * 3.0", ONE,
                       lambda a: _apply(a, "relu") * 3.0, domain)
                  for where, domain in (("at its kink", "zero"), ("near its kink", "near zero"))]
    if defined(cls, "__mul__") and defined(cls, "__add__"):
        found.append(Case("backward", "a shared intermediate node: s = a * b; s * s + s", TWO,
                          _shared))
    looked_for = list(BINARY) + list(REFLECTED) + ["__neg__", "__pow__"] + list(UNARY)
    missing = [n for n in looked_for if not defined(cls, n)
               and not (n in REFLECTED and defined(cls, n[:2] + n[3:]))]
    return found, missing, []


#: The steps a drawn chain is made of: binary operators with a leaf or a number, and the
#: unary methods that are defined everywhere and keep values moderate.
CHAIN_BINARY = {"__add__": "+", "__sub__": "-", "__mul__": "*"}
CHAIN_UNARY = ("tanh", "sigmoid", "relu")
#: The leaves' shape in a tensor engine's chains.
CHAIN_SHAPE = (2, 3)


def chain_steps(cls, numbers=True):
    """The strategy of a drawn chain's steps, from the operators ``cls`` defines (None when
    it defines too few): each step is ``(operator, operand)``; a Python number among the
    operands where the engine takes ``numbers``."""
    from hypothesis import strategies as st

    binary = [(name, symbol) for name, symbol in CHAIN_BINARY.items() if defined(cls, name)]
    unary = [name for name in CHAIN_UNARY if defined(cls, name)]
    if not binary:
        return None
    step = st.one_of(st.tuples(st.sampled_from([s for _, s in binary]),
                               st.sampled_from(["a", "b", "x"] + ["2.5"] * numbers)),
                     *([st.tuples(st.sampled_from(unary), st.just(""))] if unary else []))
    return st.lists(step, min_size=2, max_size=5)


def chain_case(steps, shape=None):
    """The Case of one drawn chain: ``x = a``, then each step on ``x``; the leaves ``a`` and
    ``b`` may be used many times, so that shared nodes and long paths are both met. With
    ``shape``, on two leaves of that shape."""
    statements, x = [], "a"
    for op, operand in steps:
        other = x if operand == "x" else operand  # x op x: the node so far, used twice
        expression = f"{x} {op} {other}" if operand else f"{x}.{op}()"
        statements.append(expression)
        x = "x"
    text = "; ".join([f"x = {e}" for e in statements[:-1]] + statements[-1:])

    def build(a, b):
        values = {"a": a, "b": b}
        x = a
        for op, operand in steps:
            if not operand:
                x = _apply(x, op)
                continue
            other = 2.5 if operand == "2.5" else x if operand == "x" else values[operand]
            x = {"+": lambda p, q: p + q, "-": lambda p, q: p - q,
                 "*": lambda p, q: p * q}[op](x, other)
        return x
    if shape is not None:
        return Case("backward", f"a drawn chain: {text}", (shape, shape), build)
    return Case("backward", f"a drawn chain: {text}", TWO, build)


def _shared(a, b):
    s = a * b
    return s * s + s


def code(case):
    """The case as Python statements on leaves ``a`` (and ``b``) that set ``out``."""
    if case.text:
        return f"out = {case.text}"
    text = case.pattern.split(": ", 1)[-1].replace(" over the last axis", "").replace("v", "a")
    *statements, expression = [part.strip() for part in text.split(";")]
    return "\n".join(statements + [f"out = {expression}"])


def leaf_values(domain):
    """Leaf values drawn by Hypothesis: magnitudes 0.2 to 2 of either sign (never 0: no
    division by zero), positive where the domain asks; exactly 0 at a kink."""
    from hypothesis import strategies as st

    positive = st.floats(0.2, 2.0)
    if domain == "zero":
        return st.just(0.0)
    if domain == "near zero":  # beside a kink, on either side
        return st.one_of(st.floats(1e-7, 1e-3), st.floats(-1e-3, -1e-7))
    return positive if domain == "positive" else st.one_of(positive, st.floats(-2.0, -0.2))


#: Methods of a node that are not operators: how backward is started, gradients reset,
#: values read.
NOT_OPERATORS = {*METHOD_NAMES["backward"], "zero_grad", "zero_grads", "item", "numpy",
                 "tolist", "detach", "parameters", "build_topo", "topo", "topological_sort"}
#: The dunders that are operators on nodes, mapped or not.
OPERATOR_DUNDERS = {*BINARY, *REFLECTED, "__neg__", "__pos__", "__abs__", "__pow__",
                    "__rpow__", "__matmul__", "__rmatmul__", "__getitem__", "__floordiv__",
                    "__mod__"}


def unmapped(cls, found):
    """The operators ``cls`` defines that no case of ``found`` runs: operator dunders and
    public methods (not static or class methods, not properties but ``T``), listed so
    that none is skipped in silence."""
    ran = {case.operator for case in found}
    aliases = {id(inspect.getattr_static(cls, n, None)) for n in ran}  # __matmul__ = matmul
    names = []
    for name in sorted({n for base in cls.__mro__ if base is not object for n in vars(base)}):
        attribute = inspect.getattr_static(cls, name)
        if name in ran or name in NOT_OPERATORS or id(attribute) in aliases \
                or (name == "transpose" and "T" in ran):
            continue
        if isinstance(attribute, (staticmethod, classmethod)):
            continue
        if name in OPERATOR_DUNDERS or (not name.startswith("_")
                                        and inspect.isfunction(attribute)):
            names.append(name)
    return names


#: Methods that tell a tensor engine from a scalar one.
TENSOR_METHODS = ("__matmul__", "sum", "mean", "reshape")
#: The names a matrix product goes by as a method, where ``__matmul__`` is not defined.
MATMUL_METHODS = ("matmul", "dot", "mm")


def is_tensor_engine(cls):
    """Whether ``cls`` is a tensor engine (it defines ``matmul``, ``sum``, ``mean`` or
    ``reshape``): leaves are arrays, results are arrays."""
    return any(defined(cls, name) for name in TENSOR_METHODS + MATMUL_METHODS)


def _spelling(fn, *names):
    """The first of ``names`` that ``fn`` takes as a keyword (any, where it takes
    ``**kwargs``), else None."""
    parameters = positional_parameters(fn)[1]
    taken = [n for n in names if n in parameters]
    if taken:
        return taken[0]
    if any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return names[0]
    return None


def _reduce(x, name, axis=None, keepdims=False):
    """``x.sum(axis, keepdims)`` (or ``mean``) on an array, or on an engine's tensor under
    its own spelling (``axis=``/``keepdims=`` or ``dim=``/``keepdim=``)."""
    if isinstance(x, np.ndarray):
        return getattr(np, name)(x, axis=axis, keepdims=keepdims)
    method = getattr(x, name)
    kwargs = {}
    if axis is not None:
        kwargs[_spelling(method, "axis", "dim")] = axis
    if keepdims:
        kwargs[_spelling(method, "keepdims", "keepdim")] = True
    return method(**kwargs)


def _reductions(cls, name):
    """The ``(axis, keepdims)`` forms of ``cls.name`` to run: all five where it takes an
    axis and keepdims, fewer where its signature does not (and the forms left out)."""
    method = getattr(cls, name)
    axis = _spelling(method, "axis", "dim") is not None
    keepdims = _spelling(method, "keepdims", "keepdim") is not None
    forms = [(None, False), (0, False), (1, False), (0, True), (1, True)]
    taken = [(ax, k) for ax, k in forms if (ax is None or axis) and (not k or keepdims)]
    left = ([] if axis else ["axis"]) + ([] if keepdims else ["keepdims"])
    return taken, left


def _transpose(x):
    """``x.T`` (a property, or a method ``T()``), else ``x.transpose()``."""
    if isinstance(x, np.ndarray):
        return x.T
    if hasattr(type(x), "T"):
        return x.T() if callable(x.T) else x.T
    return x.transpose()


def _matmul_name(cls):
    """The name of ``cls``'s matrix product: ``__matmul__``, else its ``matmul``/``dot``/``mm``
    method; None where it has none."""
    return next((n for n in ("__matmul__", *MATMUL_METHODS) if defined(cls, n)), None)


def _matmul(x, y, name="__matmul__"):
    """``x @ y`` (on arrays, or where the engine defines ``@``), else ``x.<name>(y)``."""
    return x @ y if isinstance(x, np.ndarray) or name == "__matmul__" else getattr(x, name)(y)


def _takes_sizes(reshape):
    """Whether ``reshape`` takes the sizes one by one (``reshape(*shape)``)."""
    return any(p.kind == p.VAR_POSITIONAL
               for p in positional_parameters(reshape)[1].values())


def _reshape(x, shape):
    """``x.reshape(shape)``, or ``x.reshape(*shape)`` where it takes the sizes one by one."""
    if not isinstance(x, np.ndarray) and _takes_sizes(x.reshape):
        return x.reshape(*shape)
    return x.reshape(shape)


#: The shape pairs each binary operator runs on: equal, broadcasting both ways, a row
#: against a matrix, a 0-d tensor against a matrix.
SHAPE_PAIRS = (((3, 4), (3, 4), ""), ((3, 1), (1, 4), "broadcasting (3,1) with (1,4): "),
               ((4,), (3, 4), "broadcasting (4,) with (3,4): "),
               ((), (3, 4), "broadcasting () with (3,4): "))
#: The matrix products run: matrix-matrix, vector-matrix, matrix-vector, vector-vector.
MATMUL_SHAPES = (((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)))


def tensor_cases(cls):
    """The tensor expressions exercising what ``cls`` defines, the operators it lacks, and
    notes of the forms its signatures leave out."""
    found, notes = [], []
    for dunder, (form, fn) in BINARY.items():
        if defined(cls, dunder):
            domain = "positive" if dunder == "__truediv__" else "any"
            for a, b, label in SHAPE_PAIRS:
                found.append(Case(dunder, label + form, (a, b), fn, domain))
            found += [Case(dunder, "with a node used twice: " + form.replace("b", "a"),
                                 ((3, 4),), lambda a, fn=fn: fn(a, a), domain),
                      Case(dunder, form.replace("b", "2.5"), ((3, 4),),
                                 lambda a, fn=fn: fn(a, 2.5), domain, number=True)]
    for dunder, (form, fn) in REFLECTED.items():
        if defined(cls, dunder[:2] + dunder[3:]):
            found.append(Case(dunder, form.replace("v", "a"), ((3, 4),), fn,
                                    "positive" if dunder == "__rtruediv__" else "any"))
    matmul = _matmul_name(cls)
    if matmul is not None:
        symbol = "a @ b" if matmul == "__matmul__" else f"a.{matmul}(b)"
        shapes = MATMUL_SHAPES if matmul == "__matmul__" else MATMUL_SHAPES[:1]
        for a, b in shapes:
            found.append(Case(matmul, f"{a} @ {b}: {symbol}", (a, b),
                              functools.partial(_matmul, name=matmul)))
    for name in ("sum", "mean"):
        if defined(cls, name):
            taken, left = _reductions(cls, name)
            method = getattr(cls, name)
            for axis, keepdims in taken:
                def spelt(axis_name, keepdims_name, axis=axis, keepdims=keepdims):
                    return f"a.{name}(" + ", ".join(
                        ([] if axis is None else [f"{axis_name}={axis}"])
                        + ([f"{keepdims_name}=True"] if keepdims else [])) + ")"
                found.append(Case(name, spelt("axis", "keepdims"), ((3, 4),),
                                        lambda a, n=name, ax=axis, k=keepdims:
                                        _reduce(a, n, ax, k),
                                        text=spelt(_spelling(method, "axis", "dim"),
                                                   _spelling(method, "keepdims", "keepdim"))))
            if left:
                notes.append(f"{name} takes no {' and no '.join(left)}: only the forms it "
                             "takes are checked")
    if defined(cls, "reshape"):
        found.append(Case("reshape", "a.reshape((4, 3))", ((3, 4),),
                                lambda a: _reshape(a, (4, 3)),
                                text="a.reshape(4, 3)" if _takes_sizes(cls.reshape) else ""))
    if defined(cls, "T") or defined(cls, "transpose"):
        name = "T" if defined(cls, "T") else "transpose"
        method = name == "T" and callable(inspect.getattr_static(cls, "T"))
        found.append(Case(name, "a.T" if name == "T" else "a.transpose()", ((3, 4),),
                                _transpose, text="a.T()" if method else ""))
    if defined(cls, "__neg__"):
        found.append(Case("__neg__", "-a", ((3, 4),), lambda a: -a))
    if defined(cls, "__pow__"):
        for k in EXPONENTS:
            found.append(Case("__pow__", f"a ** {k}", ((3, 4),), lambda a, k=k: a ** k,
                                    "positive" if k != int(k) or k < 0 else "any"))
    if defined(cls, "relu"):  # every entry at the kink, where 0 to 1 are subgradients
        found.append(Case("relu", "at its kink: a.relu() * 3.0", ((3, 4),),
                                lambda a: _apply(a, "relu") * 3.0, "zero"))
    for name, (_, domain) in UNARY.items():
        if defined(cls, name):
            found += [Case(name, f"a.{name}()", ((3, 4),),
                                 lambda a, n=name: _apply(a, n), domain),
                      Case(name, f"with a node used twice: a.{name}() * a", ((3, 4),),
                                 lambda a, n=name: _apply(a, n) * a, domain)]
    if defined(cls, "__mul__") and defined(cls, "__add__"):
        found.append(Case("backward", "a shared intermediate node: s = a * b; s * s + s",
                                ((3, 4), (3, 4)), _shared))
    looked_for = list(BINARY) + list(TENSOR_METHODS) + ["T", "__neg__", "__pow__"] + list(UNARY)
    missing = [n for n in looked_for if not defined(cls, n)
               and not (n == "T" and defined(cls, "transpose"))
               and not (n == "__matmul__" and matmul is not None)]
    return found, missing, notes


def _softmax_twin(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _last_axis(call):
    """``call()`` over the last axis, spelt as it takes it (``axis=``, ``dim=`` or none)."""
    spelling = _spelling(call, "axis", "dim")
    return call(**{spelling: -1}) if spelling else call()


def _over_last_axis(fn, call):
    """The code of ``call`` (``softmax(a``, opened) over the last axis as ``fn`` spells it:
    ``softmax(a, dim=-1)``, ``a.softmax(axis=-1)``, or no axis where it takes none."""
    spelling = _spelling(fn, "axis", "dim")
    axis = f"{spelling}=-1" if spelling else ""
    return call + (", " if axis and not call.endswith("(") else "") + axis + ")"


def module_namespace(cls):
    """The names of the module ``cls`` was defined in (for a module made at run time, the
    namespace its methods were defined in)."""
    module = sys.modules.get(cls.__module__)
    if module is not None:
        return vars(module)
    return next((f.__globals__ for f in vars(cls).values() if inspect.isfunction(f)), {})


def module_functions(cls):
    """``{name: function}``: the operators the engine's module gives as functions of a value
    (``relu(x)``, ``softmax(x, axis)``) where the class has no method of that name."""
    namespace = module_namespace(cls)
    return {name: namespace[name] for name in list(UNARY) + ["softmax"]
            if inspect.isfunction(namespace.get(name)) and not defined(cls, name)}


def function_cases(cls, tensor):
    """Cases of the module's functions (and of a ``softmax`` method on tensors)."""
    found, prefix = [], cls.__module__.rsplit(".", 1)[-1]
    for name, fn in module_functions(cls).items():
        if name == "softmax":
            if tensor:
                found.append(Case(f"{prefix}.softmax", "softmax(a) over the last axis",
                                  ((3, 4),), lambda a, fn=fn: _softmax_twin(a) if
                                  isinstance(a, np.ndarray) else
                                  _last_axis(functools.partial(fn, a)),
                                  text=_over_last_axis(fn, "softmax(a")))
            continue
        twin, domain = UNARY[name]
        if tensor:
            found.append(Case(f"{prefix}.{name}", f"{name}(a)", ((3, 4),),
                                    lambda a, n=name, fn=fn: _apply(a, n) if
                                    isinstance(a, np.ndarray) else fn(a), domain))
        else:
            found.append(Case(f"{prefix}.{name}", f"{name}(v)", ONE,
                              lambda a, twin=twin, fn=fn: twin(a) if isinstance(a, float)
                              else fn(a), domain))
    if tensor and defined(cls, "softmax"):
        found.append(Case("softmax", "a.softmax() over the last axis", ((3, 4),),
                          lambda a: _softmax_twin(a) if isinstance(a, np.ndarray)
                          else _last_axis(a.softmax),
                          text=_over_last_axis(cls.softmax, "a.softmax(")))
    return found
